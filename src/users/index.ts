/** The surface of users/: what other features and the app may import from it. */
export {
  administratorExists,
  completeSetup,
  createAdministrator,
  issueSetupToken,
  setupTokenIsValid,
} from './bootstrap';
export { externalIdOf } from './external-ids';
export { validateAndSave } from './save';
export { searchTermsOf } from './search-terms';
export { type UserEdits, editUser, listAccounts, upgradeProfiles, userDetails } from './user-admin';
export { scopeFor, searchUsers } from './user-directory';
export { usersCsv, USER_EXPORT_COLUMNS } from './user-export';
export { type UserFilters, buildUserFilter, decodeCursor } from './user-search';
export {
  type NewUserInput,
  type PreparedUser,
  type PreparedUserRecord,
  type UserRecord,
  type UserLookups,
  conflictFor,
  createUser,
  deriveNickname,
  fieldErrorsOf,
  findUserOr404,
  normaliseUsername,
  prepareUser,
  prepareUserRecord,
  userCreatedEntry,
  withSuffix,
} from './users';
export { assertEmailFree, emailTaken, findAccountBySignInName } from './email-owner';
