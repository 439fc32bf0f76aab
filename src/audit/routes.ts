/** The HTTP surface of audit/: its routers and page helpers, for the app, the admin shell and other routes (never for the rules: they import index.ts). */
export { ACTION_VERBS, type AuditRow, auditRows } from './audit-view';
export { adminAuditRouter } from './admin-page';
