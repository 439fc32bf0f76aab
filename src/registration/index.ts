/** The surface of registration/: what other features and the app may import from it. */
export { asEmailConflict, assertSelfRegistrationOpen, contactlessProfileOf, findSiteBySlug, registerContactlessUser, registerOrTellOwner } from './registration';
export { type FederatedRegistrationInput, registerFederatedUser } from './federated';
