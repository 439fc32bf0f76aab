/** The surface of registration/: what other features and the app may import from it. */
export { asEmailConflict, assertSelfRegistrationOpen, contactlessProfileOf, findSiteBySlug, registerContactlessUser } from './registration';
