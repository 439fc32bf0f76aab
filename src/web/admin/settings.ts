/** Dashboard, sites, licenses, API tokens, delegated admin groups and the audit trail. */
import { Router, type Request, type Response, type NextFunction } from 'express';
import { dashboardStats } from '../../domain/dashboard-stats';
import { createSite, listSites, registrationProfiles, updateSite } from '../../domain/sites';
import { changeTotalSeats, listLicenses } from '../../domain/licenses';
import { createApiToken, listApiTokens, revokeApiToken } from '../../domain/api-tokens';
import { auditCsv, listAuditEvents, type AuditFilters } from '../../domain/audit-trail';
import { listGroups, saveGroup } from '../../domain/delegated-admin';
import { assertPermission } from '../../domain/permissions';
import { isDomainError } from '../../domain/errors';
import { barChart, donutChart, seatChart } from './charts';
import { ADMIN, actorOf, ctxOf, field, flash, queryString } from './common';

/** On a refused form: render `view` again with the status and messages; other errors go on. */
function refused(res: Response, next: NextFunction, err: unknown, view: () => Promise<void>) {
  if (!isDomainError(err) || err.status === 403 || err.status === 404 || err.status >= 500) return next(err);
  res.status(err.status);
  res.locals.error = err.message;
  res.locals.fieldErrors = (err as { fields?: Record<string, string> }).fields ?? {};
  return view().catch(next);
}

function auditFilters(req: Request): AuditFilters {
  const date = (v: string) => (/^\d{4}-\d{2}-\d{2}$/.test(v) ? new Date(`${v}T00:00:00Z`) : undefined);
  const to = date(queryString(req, 'to'));
  return { action: queryString(req, 'action') || undefined, actor: queryString(req, 'actor') || undefined, targetId: queryString(req, 'targetId') || undefined, from: date(queryString(req, 'from')), to: to && new Date(to.getTime() + 86_399_999) };
}

export function adminSettingsRouter(): Router {
  const router = Router();

  router.get(ADMIN.dashboard, async (_req, res) => {
    const stats = await dashboardStats();
    res.render('admin/dashboard', {
      title: 'Dashboard',
      stats,
      charts: {
        registrations: barChart(stats.registrationsPerDay.map((d) => ({ label: d.day.slice(5), value: d.count })), 'Registrations per day, last 30 days'),
        kinds: donutChart([{ label: 'Contactless', value: stats.contactless }, { label: 'With contact', value: stats.qualified }], 'Contactless versus qualified users'),
        seats: seatChart(stats.seats, 'Seats used per license'),
      },
    });
  });

  const sitesPage = async (res: Response) => {
    res.render('admin/sites', { title: 'Sites', sites: await listSites(), profiles: await registrationProfiles(), error: res.locals.error ?? null, fieldErrors: res.locals.fieldErrors ?? {} });
  };
  router.get(ADMIN.sites, async (_req, res) => {
    assertPermission(actorOf(res), 'manageSites');
    await sitesPage(res);
  });
  router.post(ADMIN.sites, async (req, res, next) => {
    try {
      await createSite({ name: field(req, 'name'), slug: field(req, 'slug'), registrationProfileId: field(req, 'registrationProfileId') }, ctxOf(req, res));
      flash(req, 'ok', 'Site created. Self-registration starts off: turn it on in its Login & Registration settings.');
      res.redirect(303, ADMIN.sites);
    } catch (err) {
      await refused(res, next, err, () => sitesPage(res));
    }
  });
  router.post(`${ADMIN.sites}/:id`, async (req, res, next) => {
    try {
      await updateSite(String(req.params.id), {
        name: field(req, 'name'), slug: field(req, 'slug'), registrationProfileId: field(req, 'registrationProfileId'),
        selfRegistrationEnabled: field(req, 'selfRegistrationEnabled') === 'on',
        // Forms that show the account lifecycle settings say so; others leave them unchanged.
        ...(field(req, 'lifecycleSettings') === '1'
          ? { allowUnverifiedSignIn: field(req, 'allowUnverifiedSignIn') === 'on', requireMfa: field(req, 'requireMfa') === 'on', usernameFollowsEmail: field(req, 'usernameFollowsEmail') === 'on' }
          : {}),
      }, ctxOf(req, res));
      flash(req, 'ok', 'Login & Registration settings saved.');
      res.redirect(303, ADMIN.sites);
    } catch (err) {
      await refused(res, next, err, () => sitesPage(res));
    }
  });

  const licensesPage = async (res: Response) => res.render('admin/licenses', { title: 'Licenses', licenses: await listLicenses(), error: res.locals.error ?? null, fieldErrors: res.locals.fieldErrors ?? {} });
  router.get(ADMIN.licenses, async (_req, res) => licensesPage(res));
  router.post(`${ADMIN.licenses}/:id`, async (req, res, next) => {
    try {
      await changeTotalSeats(String(req.params.id), field(req, 'totalSeats'), ctxOf(req, res));
      flash(req, 'ok', 'Total seats saved.');
      res.redirect(303, ADMIN.licenses);
    } catch (err) {
      await refused(res, next, err, () => licensesPage(res));
    }
  });

  const tokensPage = async (req: Request, res: Response) => res.render('admin/api-tokens', { title: 'API tokens', tokens: await listApiTokens(ctxOf(req, res)), error: res.locals.error ?? null, fieldErrors: res.locals.fieldErrors ?? {} });
  router.get(ADMIN.tokens, (req, res) => tokensPage(req, res));
  router.post(ADMIN.tokens, async (req, res, next) => {
    try {
      const { token, record } = await createApiToken(field(req, 'name'), ctxOf(req, res));
      // Rendered straight away rather than through a flash, so the token never sits in the session store.
      res.locals.flash = { kind: 'ok', text: `Token "${record.name}" created. Copy it now: it is shown only once.`, secret: token };
      res.status(201);
      await tokensPage(req, res);
    } catch (err) {
      await refused(res, next, err, () => tokensPage(req, res));
    }
  });
  router.post(`${ADMIN.tokens}/:id/revoke`, async (req, res) => {
    await revokeApiToken(String(req.params.id), ctxOf(req, res));
    flash(req, 'ok', 'Token revoked.');
    res.redirect(303, ADMIN.tokens);
  });

  const groupsPage = async (res: Response) => res.render('admin/groups', { title: 'Delegated administration', groups: await listGroups(), error: res.locals.error ?? null, fieldErrors: res.locals.fieldErrors ?? {} });
  router.get(ADMIN.groups, async (_req, res) => {
    assertPermission(actorOf(res), 'manageInternalUsers');
    await groupsPage(res);
  });
  router.post(`${ADMIN.groups}{/:id}`, async (req, res, next) => {
    try {
      await saveGroup(req.params.id ? String(req.params.id) : null, { name: field(req, 'name'), members: field(req, 'members'), accounts: field(req, 'accounts') }, ctxOf(req, res));
      flash(req, 'ok', 'Delegated admin group saved.');
      res.redirect(303, ADMIN.groups);
    } catch (err) {
      await refused(res, next, err, () => groupsPage(res));
    }
  });

  router.get(ADMIN.audit, async (req, res) => {
    const filters = auditFilters(req);
    const events = await listAuditEvents(actorOf(res), filters);
    const query = new URLSearchParams(Object.entries({ action: queryString(req, 'action'), actor: queryString(req, 'actor'), targetId: queryString(req, 'targetId'), from: queryString(req, 'from'), to: queryString(req, 'to') }).filter(([, v]) => v));
    res.render('admin/audit', { title: 'Audit trail', events, q: Object.fromEntries(query), csvHref: `${ADMIN.audit}.csv?${query}` });
  });
  router.get(`${ADMIN.audit}.csv`, (req, res) => {
    const csv = auditCsv(actorOf(res), auditFilters(req));
    res.type('text/csv').attachment('audit-trail.csv');
    csv.pipe(res);
  });

  return router;
}
