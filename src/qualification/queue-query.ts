/**
 * The qualification queue's query: active contactless external users ranked by the score stored on them
 * (queue-signals-store.ts keeps it current), filtered, ranked and paged by one find on the index
 * { queueScore: -1, createdAt: -1, _id: -1 } (users/user.model.ts): never every user loaded or scored
 * here. Stale rankings are recomputed first (an indexed range, empty when nothing changed).
 * Values are validated by the caller; operators are trusted() because sanitizeFilter is on.
 */
import { trusted, Types } from 'mongoose';
import { UserModel, type UserType } from '../data/models';
import type { Signals } from './qualification-signals';
import { refreshQueueSignals } from './queue-signals-store';
import { usersWhoAsked } from './join-request-flags';

/** The filters with the ids of the people who asked to join, when that filter is on. */
async function withAskedIds(f: QueueFilters): Promise<QueueFilters> {
  return f.askedToJoin ? { ...f, askedIds: await usersWhoAsked() } : f;
}

export const QUEUE_SORTS = ['score', 'newest', 'oldest'] as const;
export type QueueSort = (typeof QUEUE_SORTS)[number];

export interface QueueFilters {
  siteId?: Types.ObjectId;
  /** true: verified emails only; false: unverified only. */
  verified?: boolean;
  minScore?: number;
  sort?: QueueSort;
  /** Only these users (a selection), still within the queue's rules. */
  userIds?: Types.ObjectId[];
  /** Only people with an open "ask to become a community member" request (join-request-flags.ts). */
  askedToJoin?: boolean;
  /** Their ids, read by withAskedIds before the query (queueMatch is synchronous). */
  askedIds?: Types.ObjectId[];
}

export interface QueueRow {
  _id: Types.ObjectId;
  firstName: string;
  lastName: string;
  email: string;
  username: string;
  userType: UserType;
  site: Types.ObjectId | null;
  createdAt: Date;
  lastLoginAt: Date | null;
  emailVerifiedAt: Date | null;
  signals: Signals;
  score: number;
}

/** The users a queue covers: contactless, active, of the given types, with the filters that need no signal. */
export function queueMatch(userTypes: UserType[], f: QueueFilters): Record<string, unknown> {
  // queueScore is null outside the queue; the other conditions repeat its rule as a guard.
  const match: Record<string, unknown> = {
    queueScore: trusted({ $gte: f.minScore ?? 0 }),
    contact: null,
    userType: trusted({ $in: userTypes.filter((t) => t !== 'internal') }),
    isActive: true,
  };
  const asked = f.askedIds && new Set(f.askedIds.map(String));
  const ids = f.userIds && asked ? f.userIds.filter((id) => asked.has(String(id))) : (f.userIds ?? f.askedIds);
  if (ids) match._id = trusted({ $in: ids });
  if (f.siteId) match.site = f.siteId;
  if (f.verified === true) match.emailVerifiedAt = trusted({ $ne: null });
  if (f.verified === false) match.emailVerifiedAt = null;
  return match;
}

const SORTS: Record<QueueSort, Record<string, 1 | -1>> = {
  score: { queueScore: -1, createdAt: -1, _id: -1 },
  newest: { createdAt: -1, _id: -1 },
  oldest: { createdAt: 1, _id: 1 },
};

const ROW_FIELDS =
  'firstName lastName email username userType site createdAt lastLoginAt emailVerifiedAt queueSignals queueScore';
type StoredRow = Omit<QueueRow, 'signals' | 'score'> & { queueSignals: Signals; queueScore: number };
const rowOf = ({ queueSignals, queueScore, ...r }: StoredRow): QueueRow => ({
  ...r,
  signals: queueSignals,
  score: queueScore,
});

function rankedFind(userTypes: UserType[], f: QueueFilters, skip: number, limit: number) {
  return UserModel.find(queueMatch(userTypes, f))
    .sort(SORTS[f.sort ?? 'score'])
    .skip(skip)
    .limit(limit);
}

/** One page of the queue and how many users match in all. */
export async function queuePage(
  userTypes: UserType[],
  f: QueueFilters,
  page: number,
  size: number,
  now: Date,
): Promise<{ rows: QueueRow[]; total: number }> {
  if (!userTypes.some((t) => t !== 'internal')) return { rows: [], total: 0 };
  await refreshQueueSignals(now);
  f = await withAskedIds(f);
  const [rows, total] = await Promise.all([
    rankedFind(userTypes, f, (page - 1) * size, size)
      .select(ROW_FIELDS)
      .lean<StoredRow[]>(),
    UserModel.countDocuments(queueMatch(userTypes, f)),
  ]);
  return { rows: rows.map(rowOf), total };
}

/** Every row of the search in rank order, read in pages of `size` (the CSV export streams them). */
export async function* queueRows(
  userTypes: UserType[],
  f: QueueFilters,
  now: Date,
  cap: number,
  size = 1000,
): AsyncGenerator<QueueRow> {
  if (!userTypes.some((t) => t !== 'internal')) return;
  await refreshQueueSignals(now);
  f = await withAskedIds(f);
  for (let skip = 0; skip < cap; skip += size) {
    const rows = await rankedFind(userTypes, f, skip, Math.min(size, cap - skip))
      .select(ROW_FIELDS)
      .lean<StoredRow[]>();
    yield* rows.map(rowOf);
    if (rows.length < size) return;
  }
}

/** The ids of every user of the queue's search, in rank order, capped (bulk actions on a search). */
export async function queueUserIds(
  userTypes: UserType[],
  f: QueueFilters,
  now: Date,
  cap: number,
): Promise<Types.ObjectId[]> {
  if (!userTypes.some((t) => t !== 'internal')) return [];
  await refreshQueueSignals(now);
  f = await withAskedIds(f);
  const rows = await rankedFind(userTypes, f, 0, cap).select('_id').lean<{ _id: Types.ObjectId }[]>();
  return rows.map((r) => r._id);
}
