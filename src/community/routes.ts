/** The HTTP surface of community/: the admin pages (/admin/community) and the site's Community area. */
export { adminCommunityRouter, COMMUNITY_ADMIN } from './admin-pages';
export { communitySiteRoutes } from './site-routes';
