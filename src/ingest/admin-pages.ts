/**
 * Bulk upload and user export in the admin area (/admin/bulk), over the services the API uses: an
 * upload is one ingest job made, filled and closed in one step (one-step-upload.ts), its progress page
 * refreshes itself (public/js/portal.js) until the job ends, and its result files are the API's own
 * (resultsCsv, spreadsheet-safe). The user export is the API's user search (same filters, permission
 * and scope) as CSV. Handlers read the form and call one service each.
 */
import { pipeline } from 'node:stream/promises';
import { Router, type Request, type Response } from 'express';
import { z } from 'zod';
import { csrfProtected } from '../http/csrf';
import { sendCsvLines } from '../http/csv-download';
import { formRoute } from '../http/error-writer';
import { formOptional, readForm } from '../http/form-input';
import { multipartFile, type UploadedFile } from '../http/multipart-file';
import type { AppDeps } from '../http/deps';
import { actorOf, ctxOf, flash } from '../admin/routes';
import { LicenseModel, ProfileModel, SiteModel } from '../data/models';
import { usersCsv, type UserFilters } from '../users';
import { ValidationError } from '../shared/errors';
import { OBJECT_ID_PATTERN } from '../shared/ids';
import { MSG } from '../shared/messages';
import { assertMayIngest, findIngestJob, listIngestJobs } from './ingest-jobs';
import { resultsCsv, type ResultKind } from './ingest-results';
import { ingestInOneStep } from './one-step-upload';

export const BULK = {
  page: '/admin/bulk',
  upload: '/admin/bulk/upload',
  usersCsv: '/admin/bulk/users.csv',
  job: (id: unknown) => `/admin/bulk/jobs/${String(id)}`,
} as const;
const RESULT_FILES: { kind: ResultKind; label: string }[] = [
  { kind: 'successfulResults', label: 'Successful rows' },
  { kind: 'failedResults', label: 'Failed rows, with the reason' },
  { kind: 'unprocessedrecords', label: 'Rows not processed' },
];
/** Seconds between refreshes of a running job's page. */
const REFRESH_SECONDS = 3;

const yesNo = z.preprocess(
  (v) => (v === '' ? undefined : v),
  z.enum(['yes', 'no'], { error: 'Choose yes, no or any.' }).optional(),
);
const id = z.preprocess(
  (v) => (v === '' ? undefined : v),
  z.string({ error: MSG.sendOnceAsText }).regex(OBJECT_ID_PATTERN, 'Choose from the list.').optional(),
);
/** The export's filters: those of GET /api/v1/users, as the page's GET form sends them. */
const EXPORT_FILTERS = {
  q: formOptional(100),
  username: formOptional(80),
  email: formOptional(254),
  contactless: yesNo,
  active: yesNo,
  license: id,
  profile: id,
  site: id,
};

function exportFilters(query: unknown): UserFilters {
  const f = readForm(query, EXPORT_FILTERS);
  const flag = (v: 'yes' | 'no' | undefined) => (v === undefined ? undefined : v === 'yes');
  return {
    q: f.q,
    username: f.username,
    email: f.email,
    contactless: flag(f.contactless),
    active: flag(f.active),
    licenseId: f.license,
    profileId: f.profile,
    siteId: f.site,
  };
}

async function renderPage(req: Request, res: Response) {
  const jobs = await listIngestJobs(actorOf(res), 20);
  const [profiles, licenses, sites] = await Promise.all([
    ProfileModel.find().sort({ name: 1 }).select('name').lean(),
    LicenseModel.find().sort({ name: 1 }).select('name').lean(),
    SiteModel.find().sort({ name: 1 }).select('name').lean(),
  ]);
  res.render('admin/bulk', {
    title: 'Bulk upload and export',
    B: BULK,
    jobs,
    profiles,
    licenses,
    sites,
    error: res.locals.error ?? null,
    fieldErrors: res.locals.fieldErrors ?? {},
  });
}

export function adminIngestRouter(deps: AppDeps): Router {
  const router = csrfProtected(Router());
  const maxBytes = deps.config.ingest.maxUploadBytes;

  router.get(BULK.page, (req, res) => renderPage(req, res));

  // The file is streamed from the request into the job's rows; its form fields (_csrf first) are read
  // before it, so the CSRF check below runs before a byte of the file is stored.
  router.use(BULK.upload, multipartFile({ field: 'file', maxBytes }));
  router.post(
    BULK.upload,
    formRoute(
      (req) => (r) => renderPage(req, r),
      async (req, res) => {
        assertMayIngest(actorOf(res));
        const { matchBy } = readForm(req.body, {
          matchBy: z.preprocess(
            (v) => (v === '' ? undefined : v),
            z.literal('email', { error: 'Choose a match rule from the list.' }).optional(),
          ),
        });
        const upload = res.locals.upload as UploadedFile | undefined;
        if (!upload) throw new ValidationError(MSG.fieldsNeedAttention, { file: 'Choose a CSV file to upload.' });
        const job = await ingestInOneStep(matchBy ? { matchBy } : {}, upload.stream, { maxBytes }, ctxOf(req, res));
        flash(
          req,
          job.state === 'Failed' ? 'error' : 'ok',
          job.state === 'Failed'
            ? 'The upload failed: nothing was imported. The job says why.'
            : `Uploaded ${job.numberRecordsUploaded} rows; this page shows the job's progress.`,
        );
        res.redirect(303, BULK.job(job._id));
      },
    ),
  );

  router.get('/admin/bulk/jobs/:id', async (req, res) => {
    const job = await findIngestJob(String(req.params.id), actorOf(res));
    const running = ['Open', 'UploadComplete', 'InProgress'].includes(job.state);
    res.render('admin/bulk-job', {
      title: 'Bulk upload',
      B: BULK,
      job,
      running,
      refreshSeconds: REFRESH_SECONDS,
      files: RESULT_FILES.map((f) => ({ ...f, href: `${BULK.job(job._id)}/${f.kind}.csv` })),
    });
  });

  for (const { kind } of RESULT_FILES) {
    router.get(`/admin/bulk/jobs/:id/${kind}.csv`, async (req, res) => {
      const job = await findIngestJob(String(req.params.id), actorOf(res));
      res.status(200).type('text/csv; charset=utf-8').attachment(`ingest-${job._id}-${kind}.csv`);
      await pipeline(resultsCsv(job, kind, { spreadsheetSafe: true }), res);
    });
  }

  router.get(BULK.usersCsv, async (req, res) => {
    await sendCsvLines(res, 'users.csv', usersCsv(actorOf(res), exportFilters(req.query)));
  });

  return router;
}
