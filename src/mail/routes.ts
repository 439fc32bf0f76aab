/** The HTTP surface of mail/: its routers and page helpers, for the app, the admin shell and other routes (never for the rules: they import index.ts). */
export { adminOutboxRouter } from './outbox-page';
