/** The HTTP surface of federation/: its admin pages and its site routes, for the admin shell and the site router. */
export { adminIdentityProvidersRouter } from './admin-pages';
export { federationPaths, federationSiteRoutes } from './site-routes';
