/**
 * Bulk actions over REST (/api/v1/bulk-actions), the same services as the queue's admin page
 * (src/qualification/bulk-actions.ts): a dry run answers what each row would become; otherwise a
 * background job is created, read with its progress, its per-row report read as JSON or CSV, or aborted.
 * Each row is checked against the token's admin as the single-user action would be.
 */
import { pipeline } from 'node:stream/promises';
import type { Router } from 'express';
import {
  abortBulkJob,
  bulkResultPage,
  bulkResultsCsv,
  dryRunBulk,
  findBulkJob,
  selectionUserIds,
  startBulk,
} from '../../qualification';
import { apiContext } from '../bearer';
import { parseInput } from '../validate';
import { bulkActionPatchBody, bulkResultsQuery, newBulkActionBody } from '../schemas';
import { serializeBulkJob, serializeDryRun } from '../serializers';
import { V1 } from './paths';

export function bulkActionRoutes(router: Router): void {
  router.post(V1.bulkActions, async (req, res) => {
    const { dryRun, userIds, filter, ...settings } = parseInput(newBulkActionBody, req.body);
    const ctx = apiContext(res);
    const ids = await selectionUserIds(ctx.actor, userIds ? { userIds } : { filters: filter! });
    const request = { ...settings, userIds: ids };
    if (dryRun) {
      res.status(200).json(serializeDryRun(settings.action, await dryRunBulk(request, ctx)));
      return;
    }
    const job = await startBulk(request, ctx);
    res.status(201).location(`/api/v1/bulk-actions/${job._id}`).json(serializeBulkJob(job));
  });

  router.get(V1.bulkAction, async (req, res) => {
    res.json(serializeBulkJob(await findBulkJob(String(req.params.id), apiContext(res).actor)));
  });

  router.patch(V1.bulkAction, async (req, res) => {
    parseInput(bulkActionPatchBody, req.body);
    res.json(serializeBulkJob(await abortBulkJob(String(req.params.id), apiContext(res))));
  });

  router.get(V1.bulkActionResults, async (req, res) => {
    const { after, limit } = parseInput(bulkResultsQuery, req.query);
    const job = await findBulkJob(String(req.params.id), apiContext(res).actor);
    const page = await bulkResultPage(job, after, limit);
    res.json({ done: page.nextAfter === null, nextAfter: page.nextAfter, records: page.rows });
  });

  router.get(V1.bulkActionResultsCsv, async (req, res) => {
    const job = await findBulkJob(String(req.params.id), apiContext(res).actor);
    res.status(200).type('text/csv; charset=utf-8').attachment(`bulk-action-${job._id}.csv`);
    await pipeline(bulkResultsCsv(job), res);
  });
}
