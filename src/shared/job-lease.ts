/**
 * The lease every background job uses (bulk ingest, bulk actions): a job is claimed by one conditional
 * findOneAndUpdate (ready, or its worker's lease ran out), each claim counts an attempt, and the job is
 * finished only by the worker that still holds it. Instances share the queue through the database.
 */
import { trusted, type Model } from 'mongoose';

/** A job claimed this many times without finishing is marked Failed rather than retried forever. */
export const MAX_ATTEMPTS = 5;
const DEFAULT_LEASE_MS = 60_000;

export interface LeaseOptions {
  owner: string;
  /** The clock used for leases; tests move it instead of waiting. */
  now?: () => Date;
  leaseMs?: number;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- each queue's own model and document type
export function leasedQueue<Doc>(model: Model<any>, readyState: string) {
  const clock = (opts: LeaseOptions) => opts.now ?? (() => new Date());
  const leaseUntil = (opts: LeaseOptions) => new Date(clock(opts)().getTime() + (opts.leaseMs ?? DEFAULT_LEASE_MS));
  /** Jobs ready, or InProgress whose worker's lease ran out. */
  const claimable = (now: Date) => ({
    state: trusted({ $in: [readyState, 'InProgress'] }),
    $or: [{ leaseExpiresAt: null }, { leaseExpiresAt: trusted({ $lte: now }) }],
  });
  return {
    clock,
    leaseUntil,
    /** Whether a job is waiting for a worker (the server starts its worker thread only then). */
    waiting: async (now = new Date()): Promise<boolean> => (await model.exists(claimable(now))) !== null,
    /** Claims the oldest claimable job for `opts.owner`, counting an attempt. */
    claimNext: (opts: LeaseOptions): Promise<Doc | null> =>
      model.findOneAndUpdate(
        claimable(clock(opts)()),
        {
          $set: { state: 'InProgress', leaseOwner: opts.owner, leaseExpiresAt: leaseUntil(opts) },
          $inc: { attempts: 1 },
        },
        { sort: { createdAt: 1, _id: 1 }, returnDocument: 'after' },
      ),
    /** Ends a job this worker still holds; a worker that lost its lease writes nothing. */
    finish: async (
      job: { _id: unknown },
      opts: LeaseOptions,
      state: 'JobComplete' | 'Failed',
      errorMessage: string | null = null,
    ): Promise<void> => {
      await model.updateOne(
        { _id: job._id, leaseOwner: opts.owner, state: 'InProgress' },
        { $set: { state, errorMessage, completedAt: clock(opts)(), leaseOwner: null, leaseExpiresAt: null } },
      );
    },
  };
}
