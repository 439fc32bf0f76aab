/** The HTTP surface of users/: its routers and page helpers, for the app, the admin shell and other routes (never for the rules: they import index.ts). */
export { adminUsersRouter } from './admin-pages';
