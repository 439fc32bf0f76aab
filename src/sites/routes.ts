/** The HTTP surface of sites/: its routers and pages, for the app and the admin shell (the rules import index.ts). */
export { adminSitesRouter } from './admin-pages';
