/** The HTTP surface of account/: its routers and page helpers, for the app, the admin shell and other routes (never for the rules: they import index.ts). */
export { adminPasswordLinksRouter, adminTwoFactorRouter } from './admin-password-links';
export { sitePaths } from './site-paths';
export { siteRouter } from './site-routes';
