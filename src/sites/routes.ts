/** The HTTP surface of sites/: a site's branding on its pages (stylesheet, logo, header locals). */
export { brandCss, brandingRoutes, brandLocals } from './brand-pages';
export { adminSitesRouter } from './admin-pages';
