/**
 * Bulk ingest jobs (the lifecycle of Salesforce Bulk API 2.0): Open -> (one CSV upload) ->
 * UploadComplete -> InProgress (a worker holds the lease) -> JobComplete, or Aborted / Failed.
 * Jobs create users, which needs Manage Internal Users whatever the user type (permissions.ts), so the
 * same permission is needed to create, see, close, abort or delete one. Each transition is one
 * conditional update on the job's state, so two clients (or a client and a worker) cannot both win.
 */
import { trusted, type Types } from 'mongoose';
import { IngestJobModel, IngestJobRowModel, type IngestJobDoc, type IngestJobState } from '../data/models';
import type { Actor, RequestContext } from '../access';
import { recordAudit } from '../audit';
import { ConflictError, NotFoundError } from '../shared/errors';
import { assertPermission } from '../access';
import { isObjectIdString } from '../shared/ids';

const JOB_PERMISSION = 'manageInternalUsers' as const;
const DELETABLE: IngestJobState[] = ['UploadComplete', 'JobComplete', 'Failed', 'Aborted'];
const ABORTABLE: IngestJobState[] = ['Open', 'UploadComplete', 'InProgress'];

function label(job: { _id: Types.ObjectId }) {
  return { type: 'IngestJob', id: job._id, label: `ingest job ${job._id}` };
}

/** The permission every ingest job needs, checked first by the admin upload (a refusal whatever was sent). */
export function assertMayIngest(actor: Actor): void {
  assertPermission(actor, JOB_PERMISSION);
}

export async function createIngestJob(
  input: { object: 'User'; operation: 'insert'; matchBy?: 'email' },
  ctx: RequestContext & { actor: Actor },
): Promise<IngestJobDoc> {
  assertPermission(ctx.actor, JOB_PERMISSION);
  const job = await IngestJobModel.create({
    object: input.object,
    operation: input.operation,
    matchBy: input.matchBy ?? null,
    createdBy: ctx.actor.id,
  });
  await recordAudit(ctx, {
    action: 'ingest_job.created',
    target: label(job),
    after: { object: job.object, operation: job.operation, matchBy: job.matchBy ?? null },
  });
  return job;
}

export async function findIngestJob(id: string, actor: Actor): Promise<IngestJobDoc> {
  assertPermission(actor, JOB_PERMISSION);
  const job = isObjectIdString(id) ? await IngestJobModel.findById(id) : null;
  if (!job) throw new NotFoundError('No ingest job has this id.');
  return job;
}

/** Newest first, keyset-paged on (createdAt, _id) like the user list. */
export async function listIngestJobs(actor: Actor, limit = 100): Promise<IngestJobDoc[]> {
  assertPermission(actor, JOB_PERMISSION);
  return IngestJobModel.find()
    .sort({ createdAt: -1, _id: -1 })
    .limit(Math.min(Math.max(limit, 1), 1000));
}

/** PATCH state: UploadComplete (queue it for processing) or Aborted (stop it; rows left are unprocessed). */
export async function changeIngestJobState(
  id: string,
  state: 'UploadComplete' | 'Aborted',
  ctx: RequestContext & { actor: Actor },
): Promise<IngestJobDoc> {
  const job = await findIngestJob(id, ctx.actor);
  const guard: Record<string, unknown> = { _id: job._id };
  if (state === 'UploadComplete') {
    // Close only once an upload has stored all its rows: one still streaming would be cut in half, and a
    // job with no data (none sent, or the upload was refused) would end "complete" with 0 rows and no error.
    Object.assign(guard, { state: 'Open', uploadState: 'uploaded' });
  } else {
    guard.state = trusted({ $in: ABORTABLE });
  }
  const update = state === 'Aborted' ? { $set: { state, completedAt: new Date() } } : { $set: { state } };
  const changed = await IngestJobModel.findOneAndUpdate(guard, update, { returnDocument: 'after' });
  if (!changed) {
    const now = (await IngestJobModel.findById(job._id).lean())!;
    if (state === 'UploadComplete' && now.state === 'Open' && now.uploadState === 'uploading') {
      throw new ConflictError(
        'The CSV upload of this job is still in progress; close the job once it has finished.',
        {},
        'upload_in_progress',
      );
    }
    if (state === 'UploadComplete' && now.state === 'Open') {
      const last = now.lastUploadError ? ` The last upload was refused: ${now.lastUploadError}` : '';
      throw new ConflictError(
        `This job has no data yet: upload its CSV, then close it (or abort the job).${last}`,
        { state: 'No data uploaded.' },
        'no_data',
      );
    }
    throw new ConflictError(
      `This job is ${now.state}; it can't become ${state}.`,
      { state: `Not allowed from ${now.state}.` },
      'invalid_state',
    );
  }
  await recordAudit(ctx, {
    action: state === 'Aborted' ? 'ingest_job.aborted' : 'ingest_job.closed',
    target: label(job),
    before: { state: job.state },
    after: { state },
  });
  return changed;
}

/** Deletes a job that is not running (Open jobs are aborted first, as in Salesforce) and its rows. */
export async function deleteIngestJob(id: string, ctx: RequestContext & { actor: Actor }): Promise<void> {
  const job = await findIngestJob(id, ctx.actor);
  const res = await IngestJobModel.deleteOne({ _id: job._id, state: trusted({ $in: DELETABLE }) });
  if (res.deletedCount !== 1) {
    const now = await IngestJobModel.findById(job._id).lean();
    throw new ConflictError(`This job is ${now?.state ?? 'gone'}; abort it before deleting it.`, {}, 'invalid_state');
  }
  await IngestJobRowModel.deleteMany({ job: job._id });
  await recordAudit(ctx, { action: 'ingest_job.deleted', target: label(job), before: { state: job.state } });
}

export function assertUploadable(job: IngestJobDoc): void {
  if (job.state !== 'Open')
    throw new ConflictError(
      `Data can be uploaded only while the job is Open; it is ${job.state}.`,
      {},
      'invalid_state',
    );
}

/**
 * Ends an Open job whose upload failed as Failed, with the reason as its errorMessage (the admin page's
 * one-step upload: there is no later upload to wait for). One conditional update: a job closed or
 * aborted meanwhile keeps its state.
 */
export async function failIngestUpload(
  job: IngestJobDoc,
  reason: string,
  ctx: RequestContext & { actor: Actor },
): Promise<IngestJobDoc> {
  const failed = await IngestJobModel.findOneAndUpdate(
    { _id: job._id, state: 'Open' },
    { $set: { state: 'Failed', errorMessage: reason, completedAt: new Date() } },
    { returnDocument: 'after' },
  );
  if (!failed) return (await IngestJobModel.findById(job._id))!;
  await recordAudit(ctx, {
    action: 'ingest_job.failed',
    target: label(job),
    before: { state: 'Open' },
    after: { state: 'Failed', error: reason },
  });
  return failed;
}
