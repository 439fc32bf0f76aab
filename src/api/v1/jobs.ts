/**
 * Bulk ingest jobs, the lifecycle of Salesforce Bulk API 2.0: create (Open), PUT the CSV once (streamed
 * into the database as it arrives), PATCH UploadComplete (the worker takes it) or Aborted, read the
 * state and counters, download the result files, delete.
 */
import { pipeline } from 'node:stream/promises';
import type { Router } from 'express';
import type { AppDeps } from '../../http/deps';
import {
  changeIngestJobState,
  createIngestJob,
  deleteIngestJob,
  findIngestJob,
  listIngestJobs,
  uploadCsv,
  resultsCsv,
  type ResultKind,
} from '../../ingest';
import { apiContext } from '../bearer';
import { parseInput } from '../validate';
import { jobPatchBody, newJobBody, resultsQuery } from '../schemas';
import { serializeJob } from '../serializers';
import { V1 } from './paths';
import { UnsupportedMediaTypeError } from '../../shared/errors';

export function jobRoutes(router: Router, deps: AppDeps): void {
  router.post(V1.jobs, async (req, res) => {
    const body = parseInput(newJobBody, req.body);
    const job = await createIngestJob(
      { object: body.object, operation: body.operation, ...(body.matchBy ? { matchBy: body.matchBy } : {}) },
      apiContext(res),
    );
    res.status(201).location(`/api/v1/jobs/ingest/${job._id}`).json(serializeJob(job));
  });

  router.get(V1.jobs, async (_req, res) => {
    const jobs = await listIngestJobs(apiContext(res).actor);
    res.json({ done: true, records: jobs.map(serializeJob) });
  });

  router.get(V1.job, async (req, res) => {
    res.json(serializeJob(await findIngestJob(String(req.params.id), apiContext(res).actor)));
  });

  router.patch(V1.job, async (req, res) => {
    const { state } = parseInput(jobPatchBody, req.body);
    res.json(serializeJob(await changeIngestJobState(String(req.params.id), state, apiContext(res))));
  });

  router.delete(V1.job, async (req, res) => {
    await deleteIngestJob(String(req.params.id), apiContext(res));
    res.status(204).end();
  });

  router.put(V1.jobBatches, async (req, res) => {
    const job = await findIngestJob(String(req.params.id), apiContext(res).actor);
    if (!req.is('text/csv') || req.readableEnded)
      throw new UnsupportedMediaTypeError('Send the rows as Content-Type: text/csv.');
    const { rows } = await uploadCsv(job, req, { maxBytes: deps.config.ingest.maxUploadBytes });
    res.status(201).json({ id: String(job._id), numberRecordsUploaded: rows });
  });

  const results = (kind: ResultKind) => async (req: import('express').Request, res: import('express').Response) => {
    // Spreadsheet-safe by default: a result file is often opened by a person, and a cell such as
    // =HYPERLINK(...) uploaded by someone else must not run. ?raw=true returns the exact values for
    // clients that reconcile rows by them (Bulk API 2.0 style).
    const spreadsheetSafe = parseInput(resultsQuery, req.query).raw !== 'true';
    const job = await findIngestJob(String(req.params.id), apiContext(res).actor);
    res.status(200).type('text/csv; charset=utf-8');
    await pipeline(resultsCsv(job, kind, { spreadsheetSafe }), res);
  };
  router.get(V1.jobSuccessful, results('successfulResults'));
  router.get(V1.jobFailed, results('failedResults'));
  router.get(V1.jobUnprocessed, results('unprocessedrecords'));
}
