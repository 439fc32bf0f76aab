/** The surface of privacy/: a person's data exported, and accounts deleted after a grace period. */
export {
  EXPORT_FORMAT,
  exportFileName,
  exportOwnData,
  exportUserDataAs,
  userDataOf,
  type UserDataExport,
} from './export';
export {
  cancelDeletionOnSignIn,
  DELETION_MESSAGES,
  deletionPreviewAs,
  eraseUser,
  leftBehind,
  pendingDeletion,
  requestDeletionAs,
  requestOwnDeletion,
  startDeletionSweep,
  sweepDueDeletions,
  type DeletionSettings,
} from './deletion';
export { pseudonymOf, USER_DATA_HOLDERS, type ErasedUser, type UserDataHolder } from './user-data';
