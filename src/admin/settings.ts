/** Dashboard, sites, licenses, API tokens, delegated admin groups and the audit trail. */
import { Router, type Request, type Response } from 'express';
import { dashboardFor, weekChangeText } from '../dashboard/dashboard-stats';
import { createSite, DEFAULT_REGISTRATION_PROFILE, listSites, setPageAudience, setSiteMembers, siteChoices, updateSite } from '../sites/sites';
import { changeTotalSeats, listLicenses } from '../qualification/licenses';
import { createApiToken, findActiveApiToken, listApiTokens, revokeApiToken } from '../api/api-tokens';
import { ACTOR_SEARCH_MAX_MS, auditCsv, listAuditEvents, parseAuditCursor, parseDay, type AuditFilters } from '../audit/audit-trail';
import { ACTION_VERBS, auditRows, type AuditRow } from '../audit/audit-view';
import { pipeline } from 'node:stream/promises';
import { addToGroup, findGroupCandidates, listGroups, removeFromGroup, saveGroupName } from '../roles/delegated-admin';
import { formRoute, onRefusal } from '../http/error-writer';
import { barChart, donutChart, shortDay } from '../dashboard/charts';
import { ADMIN, actorOf, ctxOf, field, fieldList, firstUse, flash, newFormNonce, queryString, typedField } from './common';
import { csrfProtected } from '../http/csrf';

function auditFilters(req: Request): AuditFilters {
  const to = parseDay(queryString(req, 'to'), '"to"');
  return { action: queryString(req, 'action') || undefined, actor: queryString(req, 'actor') || undefined, targetId: queryString(req, 'targetId') || undefined, from: parseDay(queryString(req, 'from'), '"from"'), to: to && new Date(to.getTime() + 86_399_999) };
}

export function adminSettingsRouter(): Router {
  const router = csrfProtected(Router());

  router.get(ADMIN.dashboard, async (_req, res) => {
    const { users: stats, seats } = await dashboardFor(actorOf(res));
    res.render('admin/dashboard', {
      title: 'Dashboard',
      stats,
      charts: {
        registrations: stats && barChart(stats.registrationsPerDay.map((d) => ({ label: shortDay(d.day), value: d.count })), 'Registrations per day, last 30 days', { todayLast: true }),
        kinds: stats && donutChart([{ label: 'Contactless', value: stats.contactless }, { label: 'With contact', value: stats.qualified }], 'Contactless versus qualified users'),
      },
      change: stats && { contactless: weekChangeText(stats.weekChange.contactless), qualified: weekChangeText(stats.weekChange.qualified), internal: weekChangeText(stats.weekChange.internal) },
      shortDay,
      seatRows: (seats ?? []).map((l) => {
        const unlimited = l.total >= 1_000_000;
        const share = l.total > 0 ? l.used / l.total : 1;
        return { ...l, unlimited, left: Math.max(0, l.total - l.used), percent: unlimited ? 0 : Math.min(100, Math.round(share * 100)), level: unlimited ? 'ok' : share >= 0.95 ? 'critical' : share >= 0.8 ? 'warning' : 'ok' };
      }),
    });
  });

  /** The Sites page; after a refusal, the refused form (named by its _form field) shows what was typed. */
  const sitesPage = async (req: Request, res: Response) => {
    const actor = actorOf(res);
    const [sites, choices] = await Promise.all([listSites(actor), siteChoices(actor)]);
    const body = (req.method === 'POST' && req.body && typeof req.body === 'object' ? req.body : {}) as Record<string, unknown>;
    const refusedForm = res.locals.error && typeof body._form === 'string' && /^[a-z0-9-]{1,40}$/.test(body._form) ? body._form : null;
    res.render('admin/sites', {
      title: 'Sites', sites, profiles: choices.registration, choices, defaultProfile: DEFAULT_REGISTRATION_PROFILE,
      refusedForm, values: refusedForm ? body : {}, errorIdPrefix: refusedForm ? `${refusedForm}-` : 'f-',
      slugChange: refusedForm && res.locals.errorCode === 'slug_change_unconfirmed' ? refusedForm : null,
      error: res.locals.error ?? null, fieldErrors: res.locals.fieldErrors ?? {},
    });
  };
  const sitesForm = (req: Request) => (r: Response) => sitesPage(req, r);
  router.get(ADMIN.sites, async (req, res) => sitesPage(req, res));
  router.post(`${ADMIN.sites}/:id/members`, formRoute(sitesForm, async (req, res) => {
    await setSiteMembers(String(req.params.id), { profileIds: fieldList(req, 'profileIds'), permissionSetIds: fieldList(req, 'permissionSetIds') }, ctxOf(req, res));
    flash(req, 'ok', 'Members saved.');
    res.redirect(303, ADMIN.sites);
  }));
  router.post(`${ADMIN.sites}/:id/pages/:page/audience`, formRoute(sitesForm, async (req, res) => {
    await setPageAudience(String(req.params.id), String(req.params.page), { licenseIds: fieldList(req, 'licenseIds'), profileIds: fieldList(req, 'profileIds') }, ctxOf(req, res));
    flash(req, 'ok', 'Page audience saved.');
    res.redirect(303, ADMIN.sites);
  }));
  router.post(ADMIN.sites, formRoute(sitesForm, async (req, res) => {
    const site = await createSite({ name: field(req, 'name'), slug: field(req, 'slug'), registrationProfileId: field(req, 'registrationProfileId') || undefined }, ctxOf(req, res));
    flash(req, 'ok', `Site created at /s/${site.slug}/. Self-registration starts off: turn it on in its Login & Registration settings.`);
    res.redirect(303, ADMIN.sites);
  }));
  router.post(`${ADMIN.sites}/:id`, formRoute(sitesForm, async (req, res) => {
    const site = await updateSite(String(req.params.id), {
      name: field(req, 'name'), slug: field(req, 'slug'), registrationProfileId: field(req, 'registrationProfileId'),
      selfRegistrationEnabled: field(req, 'selfRegistrationEnabled') === 'on', confirmedSlug: field(req, 'confirmedSlug') || undefined,
      // Forms that show the account lifecycle settings say so; others leave them unchanged.
      ...(field(req, 'lifecycleSettings') === '1'
        ? { allowUnverifiedSignIn: field(req, 'allowUnverifiedSignIn') === 'on', requireMfa: field(req, 'requireMfa') === 'on', usernameFollowsEmail: field(req, 'usernameFollowsEmail') === 'on' }
        : {}),
    }, ctxOf(req, res));
    flash(req, 'ok', `Login & Registration settings of ${site.name} saved; the site is at /s/${site.slug}/.`);
    res.redirect(303, ADMIN.sites);
  }));

  const licensesPage = async (res: Response) => res.render('admin/licenses', { title: 'Licenses', licenses: await listLicenses(actorOf(res)), error: res.locals.error ?? null, fieldErrors: res.locals.fieldErrors ?? {} });
  router.get(ADMIN.licenses, async (_req, res) => licensesPage(res));
  router.post(`${ADMIN.licenses}/:id`, formRoute(() => (r) => licensesPage(r), async (req, res) => {
    await changeTotalSeats(String(req.params.id), field(req, 'totalSeats'), ctxOf(req, res));
    flash(req, 'ok', 'Total seats saved.');
    res.redirect(303, ADMIN.licenses);
  }));

  const tokensPage = async (req: Request, res: Response) => res.render('admin/api-tokens', { title: 'API tokens', tokens: await listApiTokens(ctxOf(req, res)), nonce: newFormNonce(), values: res.locals.error ? { name: typedField(req, 'name') } : {}, error: res.locals.error ?? null, fieldErrors: res.locals.fieldErrors ?? {} });
  router.get(ADMIN.tokens, (req, res) => tokensPage(req, res));
  router.post(ADMIN.tokens, formRoute((req) => (r) => tokensPage(req, r), async (req, res) => {
    if (!firstUse(req, field(req, '_once'))) {
      flash(req, 'ok', 'That token was already created; its value was shown only once. Create another if you need it.');
      res.redirect(303, ADMIN.tokens);
      return;
    }
    const { token, record } = await createApiToken(field(req, 'name'), ctxOf(req, res));
    // Rendered straight away rather than through a flash, so the token never sits in the session store.
    res.locals.flash = { kind: 'ok', text: `Token "${record.name}" created. Copy it now: it is shown only once.`, secret: token };
    res.status(201);
    await tokensPage(req, res);
  }));
  // Revoking asks first, on a page of its own naming the token and the consequence (works without JavaScript).
  router.get(`${ADMIN.tokens}/:id/revoke`, async (req, res) => {
    const token = await findActiveApiToken(String(req.params.id), actorOf(res));
    const heading = `Revoke the API token "${token.name}"?`;
    res.render('admin/confirm', {
      title: heading, heading, button: 'Revoke token', action: `${ADMIN.tokens}/${token._id}/revoke`, back: ADMIN.tokens,
      consequence: `Integrations using "${token.name}" (${token.prefix}…) stop working at once: every request with it is refused. This can't be undone; create a new token to replace it.`,
    });
  });
  router.post(`${ADMIN.tokens}/:id/revoke`, async (req, res) => {
    const token = await revokeApiToken(String(req.params.id), ctxOf(req, res));
    flash(req, 'ok', `Token "${token.name}" revoked: requests with it are now refused.`);
    res.redirect(303, ADMIN.tokens);
  });

  /**
   * Delegated admin groups. Members and accounts are picked by searching: with JavaScript the search box
   * asks the candidates endpoint as you type (public/js/portal.js); without it, the search is a GET form
   * and the matches come back on this page, each with an Add button.
   */
  const groupsPage = async (req: Request, res: Response) => {
    const actor = actorOf(res);
    const search = { group: queryString(req, 'group'), part: queryString(req, 'part') === 'accounts' ? 'accounts' as const : 'members' as const, q: queryString(req, 'q') };
    const body = (req.method === 'POST' && req.body && typeof req.body === 'object' ? req.body : {}) as Record<string, unknown>;
    const refusedForm = res.locals.error && typeof body._form === 'string' && /^[a-z0-9-]{1,60}$/.test(body._form) ? body._form : null;
    res.render('admin/groups', {
      title: 'Delegated administration', groups: await listGroups(actor), search,
      candidates: search.q ? await findGroupCandidates(actor, search.part, search.q, search.group || undefined) : [],
      refusedForm, values: refusedForm ? body : {}, errorIdPrefix: refusedForm ? `${refusedForm}-` : 'f-',
      error: res.locals.error ?? null, fieldErrors: res.locals.fieldErrors ?? {},
    });
  };
  const groupsForm = (req: Request) => (r: Response) => groupsPage(req, r);
  const backToGroup = (id: unknown) => `${ADMIN.groups}#group-${String(id)}`;
  router.get(ADMIN.groups, (req, res) => groupsPage(req, res));
  router.get(`${ADMIN.groups}/candidates`, async (req, res) => {
    const part = queryString(req, 'part') === 'accounts' ? 'accounts' : 'members';
    res.json({ candidates: await findGroupCandidates(actorOf(res), part, queryString(req, 'q'), queryString(req, 'group') || undefined) });
  });
  router.post(`${ADMIN.groups}{/:id}`, formRoute(groupsForm, async (req, res) => {
    const group = await saveGroupName(req.params.id ? String(req.params.id) : null, field(req, 'name'), ctxOf(req, res));
    flash(req, 'ok', req.params.id ? `Group renamed to ${group.name}.` : `Group ${group.name} created. Add its members and accounts below.`);
    res.redirect(303, backToGroup(group._id));
  }));
  for (const part of ['members', 'accounts'] as const) {
    const idField = part === 'members' ? 'userId' : 'accountId';
    const what = part === 'members' ? 'member' : 'account';
    router.post(`${ADMIN.groups}/:id/${part}`, formRoute(groupsForm, async (req, res) => {
      const { group, label } = await addToGroup(String(req.params.id), part, field(req, idField), ctxOf(req, res));
      flash(req, 'ok', `${label} added to ${group.name} as ${what === 'member' ? 'a member' : 'an assigned account'}.`);
      res.redirect(303, backToGroup(group._id));
    }));
    router.post(`${ADMIN.groups}/:id/${part}/:itemId/remove`, formRoute(groupsForm, async (req, res) => {
      const { group, label } = await removeFromGroup(String(req.params.id), part, String(req.params.itemId), ctxOf(req, res));
      flash(req, 'ok', `${label} removed from ${group.name}.`);
      res.redirect(303, backToGroup(group._id));
    }));
  }

  router.get(ADMIN.audit, async (req, res) => {
    const query = new URLSearchParams(Object.entries({ action: queryString(req, 'action'), actor: queryString(req, 'actor'), targetId: queryString(req, 'targetId'), from: queryString(req, 'from'), to: queryString(req, 'to') }).filter(([, v]) => v));
    const page = (rows: AuditRow[], olderHref: string | null, newestHref: string | null) => ({
      title: 'Audit trail', rows, q: Object.fromEntries(query), csvHref: `${ADMIN.audit}.csv?${query}`,
      actions: Object.entries(ACTION_VERBS).map(([value, [, label]]) => ({ value, label })).sort((a, b) => a.label.localeCompare(b.label)),
      olderHref, newestHref, filtered: [...query.keys()].length > 0, maxSeconds: ACTOR_SEARCH_MAX_MS / 1000,
      error: res.locals.error ?? null, fieldErrors: res.locals.fieldErrors ?? {}, errorIdPrefix: 'a-',
    });
    // A search refused (a malformed date, or one that took too long) shows the filters as typed, without events.
    onRefusal(res, async (r) => r.render('admin/audit', page([], null, null)));
    const filters = auditFilters(req);
    const older = queryString(req, 'older');
    const olderThan = older ? parseAuditCursor(older) : undefined;
    const events = await listAuditEvents(actorOf(res), { ...filters, olderThan }, 101);
    const shown = events.slice(0, 100);
    const last = shown[shown.length - 1];
    const olderHref = events.length > 100 && last ? `${ADMIN.audit}?${new URLSearchParams([...query, ['older', `${last.at.toISOString()}_${last._id}`]])}` : null;
    res.render('admin/audit', page(await auditRows(shown), olderHref, older ? `${ADMIN.audit}?${query}` : null));
  });
  router.get(`${ADMIN.audit}.csv`, async (req, res) => {
    const { rows, csv } = auditCsv(actorOf(res), auditFilters(req));
    res.type('text/csv').attachment('audit-trail.csv');
    await pipeline(rows, csv, res);
  });

  return router;
}
