/**
 * An ingest job in one step, as the admin page sends it: create, upload the CSV, close. Its upload has
 * no second chance (the page made the job for this one file), so an upload that fails (an invalid or
 * truncated CSV, a file too large, the request aborted) ends the job Failed with the reason as its
 * errorMessage, shown on the job's page and by GET /api/v1/jobs/ingest/:id alike: never a job left Open,
 * nor one complete with 0 rows and no error. The steps are the API's own services, so a row is checked,
 * mailed and audited exactly as in an API job.
 */
import type { Readable } from 'node:stream';
import type { Actor, RequestContext } from '../access';
import type { IngestJobDoc } from '../data/models';
import { changeIngestJobState, createIngestJob, failIngestUpload } from './ingest-jobs';
import { refusalText, uploadCsv } from './ingest-upload';

export async function ingestInOneStep(
  input: { matchBy?: 'email' },
  body: Readable,
  opts: { maxBytes: number },
  ctx: RequestContext & { actor: Actor },
): Promise<IngestJobDoc> {
  const job = await createIngestJob({ object: 'User', operation: 'insert', ...input }, ctx);
  try {
    await uploadCsv(job, body, opts);
    return await changeIngestJobState(String(job._id), 'UploadComplete', ctx);
  } catch (err) {
    return failIngestUpload(job, refusalText(err), ctx);
  }
}
