/** The HTTP surface of api/: its routers and pages, for the app and the admin shell (the rules import index.ts). */
export { adminApiTokensRouter } from './tokens-page';
