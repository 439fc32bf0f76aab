/**
 * The bulk action worker, with the ingest worker's lease (./ingest-worker.ts): a job is claimed by one
 * conditional findOneAndUpdate (ready, or its worker's lease ran out), and every write that moves it on
 * is conditional on still holding the lease and on the row the job had reached.
 *
 * Crash safety, step by step for one batch:
 *  1. rows above `processedThrough` are read in row order;
 *  2. each goes through applyRow (the single-user service), or, for upgrades, the whole batch through
 *     applyUpgradeBatch (the same rules, each write made once for the batch): a row whose user is already in the wanted
 *     state (done by an attempt that crashed before counting it) is reported unchanged, not redone, so
 *     no seat is taken twice and no second audit event is written;
 *  3. each row's result is written, then the counters and `processedThrough` move in one update.
 * A crash anywhere leaves the batch to whoever holds the lease next, with the same result. Seats are
 * taken one conditional update per user (data/seats.ts), so rows past the free seats fail no_seats_left.
 */
import { trusted } from 'mongoose';
import { BulkActionJobModel, BulkActionRowModel, type BulkActionJobDoc } from '../data/models';
import { loadActor, type Actor, type RequestContext } from '../access';
import { applyRow, applyUpgradeBatch, planOfJob, refusedRow, type BulkPlan, type RowResult } from './bulk-actions';
import { isDomainError } from '../shared/errors';
import { leasedQueue, MAX_ATTEMPTS } from '../shared/job-lease';

/** The ingest worker's options and outcomes (ingest/ingest-worker.ts), the same shape so one thread runs both. */
export interface WorkerOptions {
  owner: string;
  /** The clock used for leases; tests move it instead of waiting. */
  now?: () => Date;
  leaseMs?: number;
  batchSize?: number;
  /** Stop after this many batches (tests: process part of a job, then "crash"). */
  maxBatches?: number;
  /** Asked between batches; true hands the job back (shutdown). */
  shouldStop?: () => boolean;
}
export type JobOutcome = 'completed' | 'failed' | 'paused' | 'released' | 'lost';
const DEFAULTS = { batchSize: 200 };
const queue = leasedQueue<BulkActionJobDoc>(BulkActionJobModel, 'Queued');
const { leaseUntil, finish } = queue;

export const bulkJobWaiting = queue.waiting;
export const claimNextBulkJob = (opts: WorkerOptions): Promise<BulkActionJobDoc | null> => queue.claimNext(opts);

async function runRow(
  plan: BulkPlan,
  userId: import('mongoose').Types.ObjectId,
  ctx: RequestContext & { actor: Actor },
) {
  try {
    return { status: 'succeeded' as const, outcome: await applyRow(plan, userId, ctx) };
  } catch (err) {
    return refusedRow(plan, err);
  }
}

/** Processes a claimed job until done, the lease is lost, the job is aborted, or maxBatches is reached. */
export async function processBulkJob(job: BulkActionJobDoc, opts: WorkerOptions): Promise<JobOutcome> {
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
      'The administrator who started this job is no longer active, so the job has no permissions.',
    );
    return 'failed';
  }
  const ctx = { actor, via: 'bulk' as const };
  let plan: BulkPlan;
  try {
    plan = await planOfJob(job, ctx);
  } catch (err) {
    if (!isDomainError(err)) throw err;
    await finish(
      job,
      opts,
      'Failed',
      `${err.message} ${Object.values((err as { fields?: Record<string, string> }).fields ?? {}).join(' ')}`.trim(),
    );
    return 'failed';
  }
  const batchSize = opts.batchSize ?? DEFAULTS.batchSize;
  let through = job.processedThrough;
  for (let batches = 0; ; batches++) {
    if (opts.maxBatches !== undefined && batches >= opts.maxBatches) return 'paused';
    if (opts.shouldStop?.()) {
      await BulkActionJobModel.updateOne(
        { _id: job._id, leaseOwner: opts.owner },
        { $set: { leaseOwner: null, leaseExpiresAt: null } },
      );
      return 'released';
    }
    const rows = await BulkActionRowModel.find({ job: job._id, row: trusted({ $gt: through }) })
      .sort({ row: 1 })
      .limit(batchSize)
      .lean();
    if (!rows.length) {
      await finish(job, opts, 'JobComplete');
      return 'completed';
    }
    let results: RowResult[] = [];
    if (plan.action === 'upgrade') {
      // Upgrades are written per batch (seats, users, audit events: one write each); the key names the batch,
      // so a redo after a crash finds the seat hold its cut-off attempt left.
      results = await applyUpgradeBatch(
        plan,
        rows.map((r) => r.userId),
        `bulk:${String(job._id)}:${rows[0].row}`,
        ctx,
      );
    } else {
      // One row at a time, in order, through the single-user service.
      for (const r of rows) results.push(await runRow(plan, r.userId, ctx));
    }
    await BulkActionRowModel.bulkWrite(
      rows.map((r, i) => ({ updateOne: { filter: { _id: r._id }, update: { $set: results[i] } } })),
      { ordered: false },
    );
    const last = rows[rows.length - 1].row;
    const moved = await BulkActionJobModel.findOneAndUpdate(
      { _id: job._id, leaseOwner: opts.owner, processedThrough: through },
      {
        $set: { processedThrough: last, leaseExpiresAt: leaseUntil(opts) },
        $inc: {
          numberRecordsProcessed: rows.length,
          numberRecordsFailed: results.filter((x) => x.status === 'failed').length,
          numberRecordsSkipped: results.filter((x) => x.status === 'skipped').length,
        },
      },
      { returnDocument: 'after', projection: { state: 1 } },
    );
    if (!moved || moved.state !== 'InProgress') return 'lost';
    through = last;
  }
}

/** Claims and processes bulk action jobs until none is ready; returns how many reached a final state. */
export async function processAvailableBulkJobs(opts: WorkerOptions): Promise<number> {
  let finished = 0;
  for (;;) {
    if (opts.shouldStop?.()) return finished;
    const job = await claimNextBulkJob(opts);
    if (!job) return finished;
    const outcome = await processBulkJob(job, opts);
    if (outcome === 'completed' || outcome === 'failed') finished++;
    if (outcome === 'paused' || outcome === 'released') return finished;
  }
}
