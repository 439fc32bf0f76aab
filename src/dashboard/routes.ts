/** The HTTP surface of dashboard/: its routers and pages, for the app and the admin shell (the rules import index.ts). */
export { adminDashboardRouter } from './admin-page';
