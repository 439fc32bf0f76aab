/**
 * The qualification queue in the admin area (/admin/qualify): the ranked list with filters, saved
 * searches, contact proposals for one user, and bulk actions on a selection or the whole search (dry
 * run first, then a background job with a per-row report). Handlers read the form and call one domain
 * service each (qualification-queue.ts, bulk-actions.ts).
 */
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import { csrfProtected } from '../http/csrf';
import { sendCsvLines } from '../http/csv-download';
import { Router, type Request, type Response } from 'express';
import { Types } from 'mongoose';
import { QUEUE_SORTS, type QueueFilters } from './queue-query';
import { BULK_ACTIONS, CONTACT_RULES, SiteModel, type BulkAction, type ContactRule } from '../data/models';
import {
  deleteSavedSearch,
  listSavedSearches,
  proposeContacts,
  qualificationQueue,
  queueCsv,
  saveSearch,
  queueUserTypes,
  QUEUE_PAGE_SIZE,
} from './qualification-queue';
import { dryRunBulk, findBulkJob, MAX_BULK_USERS, recentBulkJobs, startBulk, type BulkRequest } from './bulk-actions';
import { bulkResultsCsv } from './bulk-action-results';
import { selectionUserIds } from './bulk-selection';
import { listAccounts, upgradeProfiles, userDetails } from '../users';
import { profilesOfType } from '../roles';
import { ValidationError } from '../shared/errors';
import { SIGNAL_RULES } from './qualification-signals';
import { openAsksOf } from './join-request-flags';
import { formRoute } from '../http/error-writer';
import { ADMIN, actorOf, ctxOf, field, flash, queryString } from '../admin/routes';
import { MSG } from '../shared/messages';
import { isObjectIdString } from '../shared/ids';

export const QUALIFY = {
  queue: '/admin/qualify',
  csv: '/admin/qualify/export.csv',
  dryRun: '/admin/qualify/dry-run',
  run: '/admin/qualify/run',
  searches: '/admin/qualify/searches',
  job: (id: unknown) => `/admin/qualify/jobs/${String(id)}`,
  match: (id: unknown) => `/admin/qualify/users/${String(id)}`,
} as const;

const FILTER_KEYS = ['siteId', 'verified', 'asked', 'minScore', 'sort'] as const;

/** The queue's filters from a query string or a form: each single-valued; anything odd is a 422 naming it. */
function readFilters(get: (name: string) => string): { filters: QueueFilters; raw: Record<string, string> } {
  const raw = Object.fromEntries(FILTER_KEYS.map((k) => [k, get(k)])) as Record<(typeof FILTER_KEYS)[number], string>;
  const fields: Record<string, string> = {};
  const filters: QueueFilters = {};
  if (raw.siteId) {
    if (isObjectIdString(raw.siteId)) filters.siteId = new Types.ObjectId(raw.siteId);
    else fields.siteId = 'Choose a site from the list.';
  }
  if (raw.verified === 'yes') filters.verified = true;
  else if (raw.verified === 'no') filters.verified = false;
  else if (raw.verified) fields.verified = 'Choose yes, no or any.';
  if (raw.asked === 'yes') filters.askedToJoin = true;
  else if (raw.asked) fields.asked = 'Choose "Asked to join" or any.';
  if (raw.minScore) {
    const n = Number(raw.minScore);
    if (/^\d{1,3}$/.test(raw.minScore) && n <= 100) filters.minScore = n;
    else fields.minScore = 'Use a whole number from 0 to 100.';
  }
  if (raw.sort) {
    const sort = QUEUE_SORTS.find((s) => s === raw.sort);
    if (sort) filters.sort = sort;
    else fields.sort = 'Choose a sort from the list.';
  }
  if (Object.keys(fields).length) throw new ValidationError('Some filters need attention.', fields);
  return { filters, raw };
}

function queryFilters(req: Request) {
  for (const k of [...FILTER_KEYS, 'page']) {
    if (req.query[k] !== undefined && typeof req.query[k] !== 'string')
      throw new ValidationError('Some filters need attention.', { [k]: 'Send this filter once, as text.' });
  }
  return readFilters((k) => queryString(req, k));
}

/** The selected ids: checkboxes, so repeated by design; capped, and refused (never cut) beyond it. */
function selectedIds(req: Request): string[] {
  const v = (req.body as Record<string, unknown> | undefined)?.userIds;
  if (v === undefined) return [];
  const list = typeof v === 'string' ? [v] : v;
  if (!Array.isArray(list) || !list.every((x) => typeof x === 'string'))
    throw new ValidationError(MSG.fieldsNeedAttention, { userIds: 'Send each selected user as text.' });
  if (list.length > MAX_BULK_USERS)
    throw new ValidationError(MSG.fieldsNeedAttention, { userIds: `Select at most ${MAX_BULK_USERS} users.` });
  return list as string[];
}

/** The bulk form: the action and its settings, on the selection or on the whole search. */
async function readBulk(
  req: Request,
  res: Response,
): Promise<{ request: BulkRequest; scope: 'selection' | 'search'; raw: Record<string, string> }> {
  const actor = actorOf(res);
  queueUserTypes(actor); // the permission first, so a refusal is a 403 whatever was sent
  const action = BULK_ACTIONS.find((a) => a === field(req, 'action')) as BulkAction | undefined;
  if (!action) throw new ValidationError(MSG.fieldsNeedAttention, { action: 'Choose an action.' });
  const scope = field(req, 'scope') === 'search' ? 'search' : 'selection';
  const { filters, raw } = readFilters((k) => field(req, k));
  // The API resolves its selections the same way (bulk-selection.ts).
  const userIds = await selectionUserIds(actor, scope === 'search' ? { filters } : { userIds: selectedIds(req) });
  const contactRule = CONTACT_RULES.find((r) => r === field(req, 'contactRule')) as ContactRule | undefined;
  const profileId = field(req, action === 'downgrade' ? 'downgradeProfileId' : 'profileId') || undefined;
  const request: BulkRequest = {
    action,
    userIds,
    profileId,
    contactRule,
    accountId: field(req, 'accountId') || undefined,
  };
  return { request, scope, raw };
}

async function renderQueue(req: Request, res: Response) {
  const actor = actorOf(res);
  queueUserTypes(actor);
  const { filters, raw } = queryFilters(req);
  const pageText = queryString(req, 'page');
  const page = /^\d{1,6}$/.test(pageText) && Number(pageText) >= 1 ? Number(pageText) : 1;
  const [queue, sites, searches, accounts, upgrades, downgrades, jobs] = await Promise.all([
    qualificationQueue(actor, filters, page),
    SiteModel.find().sort({ name: 1 }).select('name').lean(),
    listSavedSearches(actor),
    listAccounts(),
    upgradeProfiles(),
    profilesOfType(['customer', 'partner']),
    recentBulkJobs(actor),
  ]);
  const query = new URLSearchParams(Object.entries(raw).filter(([, v]) => v)).toString();
  const pageLink = (p: number) =>
    `${QUALIFY.queue}?${new URLSearchParams({ ...Object.fromEntries(new URLSearchParams(query)), page: String(p) })}`;
  res.render('admin/qualify', {
    title: 'Qualification queue',
    Q: QUALIFY,
    queue,
    page,
    filters: raw,
    query,
    sites,
    searches,
    accounts,
    upgrades,
    downgrades: downgrades.filter((p) => !upgrades.some((u) => String(u._id) === String(p._id))),
    jobs,
    rules: SIGNAL_RULES,
    pageSize: QUEUE_PAGE_SIZE,
    prev: page > 1 ? pageLink(page - 1) : null,
    next: page < queue.pages ? pageLink(page + 1) : null,
    error: res.locals.error ?? null,
    fieldErrors: res.locals.fieldErrors ?? {},
  });
}

export function adminQualifyRouter(): Router {
  const router = csrfProtected(Router());

  router.get(QUALIFY.queue, (req, res) => renderQueue(req, res));

  router.get(QUALIFY.csv, async (req, res) => {
    const { filters } = queryFilters(req);
    await sendCsvLines(res, 'qualification-queue.csv', queueCsv(actorOf(res), filters));
  });

  router.post(
    QUALIFY.searches,
    formRoute(
      (req) => (r) => renderQueue(req, r),
      async (req, res) => {
        const name = field(req, 'name').trim();
        await saveSearch(actorOf(res), name, field(req, 'query'));
        flash(req, 'ok', `Search "${name}" saved.`);
        res.redirect(303, `${QUALIFY.queue}?${field(req, 'query')}`);
      },
    ),
  );

  router.post(`${QUALIFY.searches}/:id/delete`, async (req, res) => {
    await deleteSavedSearch(actorOf(res), String(req.params.id));
    flash(req, 'ok', 'Saved search deleted.');
    res.redirect(303, QUALIFY.queue);
  });

  router.post(
    QUALIFY.dryRun,
    formRoute(
      (req) => (r) => renderQueue(req, r),
      async (req, res) => {
        const { request, scope, raw } = await readBulk(req, res);
        if (field(req, 'export') === 'csv') {
          // "Export CSV" on the same form: the selection (or the search) as the queue shows it.
          const ids = request.userIds.filter((id) => isObjectIdString(id)).map((id) => new Types.ObjectId(id));
          const { filters } = readFilters((k) => raw[k] ?? '');
          res.status(200).type('text/csv; charset=utf-8').attachment('qualification-selection.csv');
          await pipeline(Readable.from(queueCsv(actorOf(res), { ...filters, userIds: ids })), res);
          return;
        }
        const dry = await dryRunBulk(request, ctxOf(req, res));
        res.render('admin/qualify-dry-run', {
          title: 'Dry run',
          Q: QUALIFY,
          dry,
          request,
          scope,
          raw,
          shown: dry.rows.slice(0, 500),
          action: req.body.action,
          settings: {
            profileId: field(req, 'profileId'),
            downgradeProfileId: field(req, 'downgradeProfileId'),
            contactRule: field(req, 'contactRule'),
            accountId: field(req, 'accountId'),
          },
        });
      },
    ),
  );

  router.post(
    QUALIFY.run,
    formRoute(
      (req) => (r) => renderQueue(req, r),
      async (req, res) => {
        const { request } = await readBulk(req, res);
        const job = await startBulk(request, ctxOf(req, res));
        flash(req, 'ok', `Bulk action started for ${job.numberRecords} users; this page shows its progress.`);
        res.redirect(303, QUALIFY.job(job._id));
      },
    ),
  );

  router.get('/admin/qualify/jobs/:id', async (req, res) => {
    const job = await findBulkJob(String(req.params.id), actorOf(res));
    res.render('admin/qualify-job', {
      title: 'Bulk action',
      Q: QUALIFY,
      job,
      running: job.state === 'Queued' || job.state === 'InProgress',
    });
  });

  router.get('/admin/qualify/jobs/:id/results.csv', async (req, res) => {
    const job = await findBulkJob(String(req.params.id), actorOf(res));
    res.status(200).type('text/csv; charset=utf-8').attachment(`bulk-action-${job._id}.csv`);
    await pipeline(bulkResultsCsv(job), res);
  });

  router.get('/admin/qualify/users/:id', async (req, res) => {
    const id = String(req.params.id);
    const proposals = await proposeContacts(id, ctxOf(req, res));
    const details = await userDetails(id, actorOf(res));
    const asked = (await openAsksOf([details.user._id])).get(String(details.user._id)) ?? null;
    res.render('admin/qualify-match', {
      title: 'Match a contact',
      Q: QUALIFY,
      user: details.user,
      asked,
      proposals,
      userPage: ADMIN.user(id),
    });
  });

  return router;
}
