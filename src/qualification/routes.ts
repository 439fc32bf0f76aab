/** The HTTP surface of qualification/: the queue's admin pages (/admin/qualify), for the admin shell. */
export { adminQualifyRouter } from './admin-pages';
export { adminLicensesRouter } from './licenses-page';
