/** The surface of audit/: what other features and the app may import from it. */
export { type AuditEntry, recordAudit, recordAudits } from './audit';
export {
  ACTOR_SEARCH_MAX_MS,
  type AuditFilters,
  auditCsv,
  listAuditEvents,
  parseAuditCursor,
  parseDay,
} from './audit-trail';
