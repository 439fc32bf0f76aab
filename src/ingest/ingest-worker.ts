/**
 * The ingest worker. It claims one job at a time with a lease (a conditional findOneAndUpdate: only a
 * job ready to run whose lease is free or expired), then takes its rows in batches in row order. Every
 * write that moves the job on is conditional on still holding the lease and on the row the job had
 * reached, so a worker that lost its lease (it stalled, another took over) cannot count twice.
 *
 * Crash safety, step by step for one batch:
 *  0. (once per claim) seats an interrupted batch held for users it never created are given back;
 *  1. rows above `processedThrough` are read; rows whose result was already recorded keep it;
 *  2. the others go through createUsersInBulk, which recognises users an earlier attempt created
 *     (each row carries its user's _id), never inserts them twice and writes any audit event missing;
 *  3. failed rows are marked with their reason, then the job's counters and `processedThrough` move in
 *     one update (a counted row not marked failed is a success: its user carries the row's userId).
 * A crash anywhere leaves the batch to be redone by whoever holds the lease next, with the same result.
 */
import os from 'node:os';
import crypto from 'node:crypto';
import { parse } from 'csv-parse/sync';
import { trusted, type Types } from 'mongoose';
import { IngestJobModel, IngestJobRowModel, type IngestJobDoc } from '../data/models';
import { loadActor, type RequestContext } from '../access';
import { createUsersInBulk, type BulkRowResult, type BulkUserRow } from './bulk-import';
import { recoverSeatHolds } from '../qualification';
import { columnOf, invitationOf, rowToInput } from './ingest-columns';
import { matchContactsByEmail } from '../qualification';
import { UserModel } from '../data/models';
import { MSG } from '../shared/messages';
import { DEFAULTS } from '../config';
import { leasedQueue, MAX_ATTEMPTS } from '../shared/job-lease';

export interface WorkerOptions {
  /** Who holds the lease; unique per process. */
  owner: string;
  /** The clock used for leases; tests move it instead of waiting. */
  now?: () => Date;
  leaseMs?: number;
  batchSize?: number;
  /** Stop after this many batches (tests: process part of a job, then "crash"). */
  maxBatches?: number;
  /** Asked between batches; true hands the job back (shutdown) for any instance to resume at once. */
  shouldStop?: () => boolean;
}

export { MAX_ATTEMPTS };

export function workerId(): string {
  return `${os.hostname()}:${process.pid}:${crypto.randomBytes(4).toString('hex')}`;
}

const queue = leasedQueue<IngestJobDoc>(IngestJobModel, 'UploadComplete');
const { leaseUntil, finish } = queue;

/** Whether a job is waiting for a worker (the server starts its ingest thread only then). */
export const jobWaiting = queue.waiting;

/** Claims the oldest job that is ready (UploadComplete) or whose worker's lease ran out (InProgress). */
export const claimNextJob = (opts: WorkerOptions): Promise<IngestJobDoc | null> => queue.claimNext(opts);

/** "code: message (Column: problem; ...)", the sf__Error of a failed row. */
export function rowError(result: Extract<BulkRowResult, { ok: false }>): string {
  const fields = Object.entries(result.fields ?? {}).map(([f, m]) => `${columnOf(f)}: ${m}`);
  return `${result.code}: ${result.message}${fields.length ? ` (${fields.join('; ')})` : ''}`;
}

type RowDoc = {
  _id: Types.ObjectId;
  row: number;
  raw: string;
  userId: Types.ObjectId;
  status: string;
  error?: string | null;
};

/** The values of each row: the batch's raw records parsed in one go, row by row only if that fails. */
function parseRows(rows: RowDoc[]): (string[] | null)[] {
  try {
    const all = parse(rows.map((r) => r.raw).join('\n'), {
      relax_column_count: true,
      record_delimiter: '\n',
    }) as string[][];
    if (all.length === rows.length) return all;
  } catch {
    /* one row is not valid CSV on its own: find which below */
  }
  return rows.map((r) => {
    try {
      return (parse(r.raw, { relax_column_count: true }) as string[][])[0] ?? [];
    } catch {
      return null;
    }
  });
}

/** Runs one batch's pending rows through the bulk path; returns each row's new status. */
async function runBatch(
  columns: string[],
  rows: RowDoc[],
  ctx: RequestContext,
  holdKey: string,
  matchBy: 'email' | null = null,
): Promise<Map<string, { status: 'success' | 'failed'; error: string | null }>> {
  const out = new Map<string, { status: 'success' | 'failed'; error: string | null }>();
  const todo: { doc: RowDoc; input: BulkUserRow; invite: boolean }[] = [];
  const parsed = parseRows(rows);
  rows.forEach((doc, i) => {
    const values = parsed[i];
    if (!values)
      return out.set(String(doc._id), {
        status: 'failed',
        error: 'invalid_row: this record could not be read as CSV.',
      });
    if (values.length !== columns.length) {
      return out.set(String(doc._id), {
        status: 'failed',
        error: `invalid_row: expected ${columns.length} values, found ${values.length}.`,
      });
    }
    const invite = invitationOf(columns, values);
    if (invite === null)
      return out.set(String(doc._id), {
        status: 'failed',
        error: `validation_failed: ${MSG.fieldsNeedAttention} (SendInvitation: Use true or false.)`,
      });
    todo.push({ doc, input: { userId: doc.userId, input: rowToInput(columns, values) }, invite });
  });
  if (matchBy === 'email') {
    // The job's match rule: a row without a ContactId gets the contact that has its email (qualification/contact-match.ts).
    const open = todo.filter((t) => !t.input.input.contactId && t.input.input.email);
    const matches = await matchContactsByEmail(open.map((t) => t.input.input.email));
    for (const t of open) {
      const m = matches.get(t.input.input.email.trim().toLowerCase());
      if (m && 'contactId' in m) t.input.input.contactId = m.contactId;
      else if (m) out.set(String(t.doc._id), { status: 'failed', error: `${m.code}: ${m.message}` });
    }
    todo.splice(0, todo.length, ...todo.filter((t) => !out.has(String(t.doc._id))));
  }
  const results = await createUsersInBulk(
    todo.map((t) => t.input),
    ctx,
    { holdKey },
  );
  results.forEach((r, i) =>
    out.set(
      String(todo[i].doc._id),
      r.ok ? { status: 'success', error: null } : { status: 'failed', error: rowError(r) },
    ),
  );
  // Created users without a password are invited unless their row says SendInvitation=false. The users
  // this batch inserted are in memory; only those an earlier attempt created are read back.
  const invited = todo.flatMap((t, i) => {
    const r = results[i];
    return t.invite && r.ok ? [r] : [];
  });
  const inMemory = invited.flatMap((r) => (r.user ? [r.user] : []));
  const elsewhere = invited.filter((r) => !r.user).map((r) => r.userId);
  const users = [
    ...inMemory.filter((u) => u.isActive && u.passwordHash == null),
    ...(elsewhere.length
      ? await UserModel.find({ _id: trusted({ $in: elsewhere }), isActive: true, passwordHash: null })
          // Only what the invitation needs: the rest of each user would be decoded for nothing.
          .select('_id email username firstName lastName userType site languageLocaleKey')
          .lean()
      : []),
  ];
  if (users.length) {
    // Loaded on first use: the thread starts (and restarts) without the mail templates' modules.

    const { inviteUsersInBulk } = require('../account') as typeof import('../account');
    await inviteUsersInBulk(users as never, ctx);
  }
  return out;
}

export type JobOutcome = 'completed' | 'failed' | 'paused' | 'released' | 'lost';

/** Gives the lease up without finishing, so the next claim (any instance) resumes where this stopped. */
async function release(job: IngestJobDoc, opts: WorkerOptions): Promise<void> {
  await IngestJobModel.updateOne(
    { _id: job._id, leaseOwner: opts.owner },
    { $set: { leaseOwner: null, leaseExpiresAt: null } },
  );
}

/** Processes a claimed job until done, the lease is lost, the job is aborted, or maxBatches is reached. */
export async function processJob(job: IngestJobDoc, opts: WorkerOptions): Promise<JobOutcome> {
  if (job.attempts > MAX_ATTEMPTS) {
    await finish(
      job,
      opts,
      'Failed',
      `The job was interrupted ${MAX_ATTEMPTS} times; its remaining rows are unprocessed.`,
    );
    return 'failed';
  }
  const actor = await loadActor(job.createdBy);
  if (!actor) {
    await finish(
      job,
      opts,
      'Failed',
      'The administrator who created this job is no longer active, so the job has no permissions.',
    );
    return 'failed';
  }
  const ctx: RequestContext = { actor, via: 'bulk' };
  // Seats an interrupted batch of this job took for users it never recorded come back first. Holds are
  // per worker, so one that stalled past its lease and wakes up later settles only its own.
  const jobHolds = `ingest:${job._id.toHexString()}:`;
  await recoverSeatHolds(jobHolds);
  const holdKey = `${jobHolds}${opts.owner}`;
  const columns = job.columns ?? [];
  const batchSize = opts.batchSize ?? DEFAULTS.ingest.batchSize;
  let through = job.processedThrough;
  for (let batches = 0; ; batches++) {
    if (opts.maxBatches !== undefined && batches >= opts.maxBatches) return 'paused';
    if (opts.shouldStop?.()) {
      await release(job, opts);
      return 'released';
    }
    const rows = (await IngestJobRowModel.find({ job: job._id, row: trusted({ $gt: through }) })
      .sort({ row: 1 })
      .limit(batchSize)
      .lean()) as RowDoc[];
    if (!rows.length) {
      // A job with no row at all never had data (a job closed before uploads needed rows): that is a
      // failure to say, not a job complete with 0 rows.
      if (through === 0) {
        await finish(
          job,
          opts,
          'Failed',
          'The job has no rows: its upload stored none. Create a job and upload the CSV again.',
        );
        return 'failed';
      }
      await finish(job, opts, 'JobComplete');
      return 'completed';
    }
    // Rows already marked failed (by an attempt that crashed before counting) keep that result.
    const pending = rows.filter((r) => r.status !== 'failed');
    const decided = pending.length ? await runBatch(columns, pending, ctx, holdKey, job.matchBy ?? null) : new Map();
    // Only failures are written: a counted row that is not marked failed succeeded (its user has the
    // row's userId). One update per failed row instead of one per row keeps batches cheap.
    const failures = [...decided].filter(([, r]) => r.status === 'failed');
    if (failures.length) {
      await IngestJobRowModel.bulkWrite(
        failures.map(([id, r]) => ({
          updateOne: { filter: { _id: id }, update: { $set: { status: 'failed', error: r.error } } },
        })),
        { ordered: false },
      );
    }
    const failed = rows.filter((r) => r.status === 'failed').length + failures.length;
    const last = rows[rows.length - 1].row;
    const moved = await IngestJobModel.findOneAndUpdate(
      { _id: job._id, leaseOwner: opts.owner, processedThrough: through },
      {
        $set: { processedThrough: last, leaseExpiresAt: leaseUntil(opts) },
        $inc: { numberRecordsProcessed: rows.length, numberRecordsFailed: failed },
      },
      { returnDocument: 'after', projection: { state: 1 } },
    );
    if (!moved) return 'lost';
    if (moved.state !== 'InProgress') return 'lost'; // aborted meanwhile: the rest stays unprocessed
    through = last;
  }
}

/** Claims and processes jobs until none is ready; returns how many reached a final state. */
export async function processAvailableJobs(opts: WorkerOptions): Promise<number> {
  let finished = 0;
  for (;;) {
    if (opts.shouldStop?.()) return finished;
    const job = await claimNextJob(opts);
    if (!job) return finished;
    const outcome = await processJob(job, opts);
    if (outcome === 'completed' || outcome === 'failed') finished++;
    if (outcome === 'paused' || outcome === 'released') return finished;
  }
}
