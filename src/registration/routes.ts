/** The HTTP surface of registration/: the admin pages of terms and the consent ledger. */
export { TERMS_PATHS, adminTermsRouter } from './terms-pages';
