/** The surface of qualification/: what other features and the app may import from it. */
export { viewContact } from './contacts';
export { changeTotalSeats, listLicenses, listLicensesForProfiles } from './licenses';
export {
  type ContactInput,
  addContactAndAssociate,
  associateContact,
  changeInternalProfile,
  downgradeUser,
  prepareContact,
  setUserActive,
  upgradeUser,
} from './qualification';
export { recoverSeatHolds, releaseSeat, settleSeatHold, takeHeldSeats, takeSeat } from './seats';
export { matchOrAddContact, associateByEmail } from './qualification-queue';
export { matchContactsByEmail, type EmailMatch } from './contact-match';
export { bulkJobWaiting, processAvailableBulkJobs } from './bulk-action-worker';
export { seatMeter, startSeatMeter, type SeatForecast } from './seat-forecast';
export { communityAreaPath, takeUpgradeNotice } from './upgrade-notices';
export {
  abortBulkJob,
  dryRunBulk,
  findBulkJob,
  startBulk,
  MAX_BULK_USERS,
  type BulkRequest,
  type DryRun,
} from './bulk-actions';
export { bulkResultPage, bulkResultsCsv, MAX_RESULT_PAGE, type BulkResultRow } from './bulk-action-results';
export { selectionUserIds, type BulkSelection, type QueueFilterInput } from './bulk-selection';
export { QUEUE_SORTS, type QueueSort } from './queue-query';
