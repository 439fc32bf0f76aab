/** The HTTP surface of roles/: its routers and page helpers, for the app, the admin shell and other routes (never for the rules: they import index.ts). */
export { adminRolesRouter } from './admin-pages';
export { adminGroupsRouter } from './groups-pages';
