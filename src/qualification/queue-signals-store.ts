/**
 * The qualification queue's stored ranking. Every write to a field the signals read marks the user
 * stale in the same write (users/user.model.ts hooks; contacts mark the users of their email and domain,
 * contact.model.ts); a time-based signal marks its own end (queueStaleAt = when it stops holding).
 * Before the queue is read, the users whose queueStaleAt has passed are recomputed here in batches: an
 * indexed range on queueStaleAt, so a page with nothing stale costs one empty index read. Each write is
 * conditional on queueVersion, so a change made while the batch was computed is never overwritten.
 */
import { trusted, type Types } from 'mongoose';
import { ContactModel, UserModel, type UserType } from '../data/models';
import { emailDomainOf, evaluateSignals, isCompanyDomain } from './qualification-signals';

const BATCH = 1000;
/** A batch whose writes all lost to concurrent changes is read again; this bounds it (never loops). */
const MAX_ROUNDS = 1000;

interface StaleUser {
  _id: Types.ObjectId;
  email: string;
  emailVerifiedAt: Date | null;
  lastLoginAt: Date | null;
  createdAt: Date;
  contact: Types.ObjectId | null;
  isActive: boolean;
  userType: UserType;
  queueVersion: number;
}

/** Domains of existing contacts' emails (public mail providers left out), grouped by the database. */
export async function accountDomains(): Promise<Set<string>> {
  const rows = await ContactModel.aggregate<{ _id: string | null }>([
    { $match: { email: trusted({ $type: 'string' }) } },
    { $group: { _id: { $arrayElemAt: [{ $split: ['$email', '@'] }, 1] } } },
  ]);
  return new Set(rows.map((r) => r._id).filter((d): d is string => typeof d === 'string' && isCompanyDomain(d)));
}

const inQueue = (u: StaleUser) => u.contact == null && u.isActive && u.userType !== 'internal';

/** Recomputes every user whose stored ranking is stale at `now`; returns how many were written. */
export async function refreshQueueSignals(now: Date): Promise<number> {
  let written = 0;
  let domains: Set<string> | null = null;
  for (let round = 0; round < MAX_ROUNDS; round++) {
    const users = await UserModel.find({ queueStaleAt: trusted({ $lte: now }) })
      .sort({ queueStaleAt: 1 })
      .limit(BATCH)
      .select('email emailVerifiedAt lastLoginAt createdAt contact isActive userType queueVersion')
      .lean<StaleUser[]>();
    if (!users.length) break;
    const queued = users.filter(inQueue);
    domains ??= queued.length ? await accountDomains() : null;
    const emails = [...new Set(queued.map((u) => u.email))];
    const contactEmails = new Set(
      emails.length
        ? (
            await ContactModel.find({ email: trusted({ $in: emails }) })
              .select('email')
              .lean()
          ).map((c) => c.email ?? '')
        : [],
    );
    const inputs = { now, contactEmails, accountDomains: domains ?? new Set<string>() };
    const res = await UserModel.bulkWrite(
      users.map((u) => {
        const set = inQueue(u)
          ? (({ signals, score, changesAt }) => ({
              queueScore: score,
              queueSignals: signals,
              queueDomain: emailDomainOf(u.email),
              queueStaleAt: changesAt,
            }))(evaluateSignals(u, inputs))
          : { queueScore: null, queueSignals: null, queueDomain: null, queueStaleAt: null };
        return { updateOne: { filter: { _id: u._id, queueVersion: u.queueVersion }, update: { $set: set } } };
      }),
      { ordered: false },
    );
    written += res.modifiedCount;
    if (users.length < BATCH && res.matchedCount === users.length) break;
  }
  return written;
}
