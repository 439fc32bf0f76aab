/** The audit trail page and its CSV export. Registered by the admin router (src/admin/index.ts) after its sign-in guard. */
import { Router, type Request } from 'express';
import {
  ACTOR_SEARCH_MAX_MS,
  auditCsv,
  listAuditEvents,
  parseAuditCursor,
  parseDay,
  type AuditFilters,
} from './audit-trail';
import { ACTION_VERBS, auditRows, type AuditRow } from './audit-view';
import { pipeline } from 'node:stream/promises';
import { onRefusal } from '../http/error-writer';
import { ADMIN, actorOf, queryString } from '../admin/routes';
import { csrfProtected } from '../http/csrf';

function auditFilters(req: Request): AuditFilters {
  const to = parseDay(queryString(req, 'to'), '"to"');
  return {
    action: queryString(req, 'action') || undefined,
    actor: queryString(req, 'actor') || undefined,
    targetId: queryString(req, 'targetId') || undefined,
    from: parseDay(queryString(req, 'from'), '"from"'),
    to: to && new Date(to.getTime() + 86_399_999),
  };
}

export function adminAuditRouter(): Router {
  const router = csrfProtected(Router());

  router.get(ADMIN.audit, async (req, res) => {
    const query = new URLSearchParams(
      Object.entries({
        action: queryString(req, 'action'),
        actor: queryString(req, 'actor'),
        targetId: queryString(req, 'targetId'),
        from: queryString(req, 'from'),
        to: queryString(req, 'to'),
      }).filter(([, v]) => v),
    );
    const page = (rows: AuditRow[], olderHref: string | null, newestHref: string | null) => ({
      title: 'Audit trail',
      rows,
      q: Object.fromEntries(query),
      csvHref: `${ADMIN.audit}.csv?${query}`,
      actions: Object.entries(ACTION_VERBS)
        .map(([value, [, label]]) => ({ value, label }))
        .sort((a, b) => a.label.localeCompare(b.label)),
      olderHref,
      newestHref,
      filtered: [...query.keys()].length > 0,
      maxSeconds: ACTOR_SEARCH_MAX_MS / 1000,
      error: res.locals.error ?? null,
      fieldErrors: res.locals.fieldErrors ?? {},
      errorIdPrefix: 'a-',
    });
    // A search refused (a malformed date, or one that took too long) shows the filters as typed, without events.
    onRefusal(res, async (r) => r.render('admin/audit', page([], null, null)));
    const filters = auditFilters(req);
    const older = queryString(req, 'older');
    const olderThan = older ? parseAuditCursor(older) : undefined;
    const events = await listAuditEvents(actorOf(res), { ...filters, olderThan }, 101);
    const shown = events.slice(0, 100);
    const last = shown[shown.length - 1];
    const olderHref =
      events.length > 100 && last
        ? `${ADMIN.audit}?${new URLSearchParams([...query, ['older', `${last.at.toISOString()}_${last._id}`]])}`
        : null;
    res.render('admin/audit', page(await auditRows(shown), olderHref, older ? `${ADMIN.audit}?${query}` : null));
  });
  router.get(`${ADMIN.audit}.csv`, async (req, res) => {
    const { rows, csv } = auditCsv(actorOf(res), auditFilters(req));
    res.type('text/csv').attachment('audit-trail.csv');
    await pipeline(rows, csv, res);
  });

  return router;
}
