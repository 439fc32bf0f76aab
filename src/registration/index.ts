/** The surface of registration/: what other features and the app may import from it. */
export {
  asEmailConflict,
  contactlessProfileOf,
  findSiteBySlug,
  registerContactlessUser,
  registerOrTellOwner,
} from './registration';
export {
  PRIVACY_RELAY_DOMAINS,
  addressProblem,
  assertMayRegister,
  assertRegistrationPageOpen,
  assertSelfRegistrationOpen,
  type MayRegister,
  type RefusalReason,
} from './policy';
export { extraFieldsOf, readExtraFields, type ExtraValues } from './extra-fields';
export {
  acceptPendingTerms,
  configureTermsClock,
  consentCsv,
  consentsOf,
  currentTerms,
  listTermsVersions,
  pendingTerms,
  pseudonymiseConsents,
  publishTerms,
  recordConsent,
  searchConsents,
  termsNow,
  type ConsentFilters,
  type ConsentOrigin,
  type TermsInput,
} from './terms';
export { type FederatedRegistrationInput, registerFederatedUser } from './federated';
