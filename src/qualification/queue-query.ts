/**
 * The qualification queue's query: active contactless external users, each given the signals and score
 * of src/qualification/qualification-signals.ts by one aggregation, filtered, ranked and paged in the database
 * (never every user loaded here). The first $match reads the index { contact: 1, site: 1 } (users/user.model.ts);
 * "same email as a contact" is a $lookup on the contacts' index { email: 1 } (qualification/contact.model.ts).
 * Values are validated by the caller; operators are trusted() because sanitizeFilter is on.
 */
import { trusted, Types } from 'mongoose';
import { ContactModel, UserModel, type UserType } from '../data/models';
import { EMAIL_DOMAIN_EXPR, isCompanyDomain, signalStages, type Signals } from './qualification-signals';

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

/** Domains of existing contacts' emails (public mail providers left out), grouped by the database. */
export async function accountDomains(): Promise<string[]> {
  const rows = await ContactModel.aggregate<{ _id: string | null }>([
    { $match: { email: trusted({ $type: 'string' }) } },
    { $group: { _id: EMAIL_DOMAIN_EXPR } },
  ]);
  return rows.map((r) => r._id).filter((d): d is string => typeof d === 'string' && isCompanyDomain(d));
}

/** The users a queue covers: contactless, active, of the given types, with the filters that need no signal. */
export function queueMatch(userTypes: UserType[], f: QueueFilters): Record<string, unknown> {
  const match: Record<string, unknown> = { contact: null, userType: trusted({ $in: userTypes.filter((t) => t !== 'internal') }), isActive: true };
  if (f.userIds) match._id = trusted({ $in: f.userIds });
  if (f.siteId) match.site = f.siteId;
  if (f.verified === true) match.emailVerifiedAt = trusted({ $ne: null });
  if (f.verified === false) match.emailVerifiedAt = null;
  return match;
}

const SORTS: Record<QueueSort, Record<string, 1 | -1>> = {
  score: { score: -1, createdAt: -1, _id: -1 },
  newest: { createdAt: -1, _id: -1 },
  oldest: { createdAt: 1, _id: 1 },
};

/** The ranked pipeline over the queue's users; `tail` stages (paging, projection) come after the sort. */
export function rankedPipeline(userTypes: UserType[], f: QueueFilters, inputs: { now: Date; accountDomains: string[] }, tail: Record<string, unknown>[]): Record<string, unknown>[] {
  return [
    { $match: queueMatch(userTypes, f) },
    { $lookup: { from: ContactModel.collection.collectionName, localField: 'email', foreignField: 'email', as: 'matchedContacts' } },
    ...signalStages(inputs),
    ...(f.minScore ? [{ $match: { score: trusted({ $gte: f.minScore }) } }] : []),
    { $sort: SORTS[f.sort ?? 'score'] },
    ...tail,
  ];
}

const ROW_FIELDS = { firstName: 1, lastName: 1, email: 1, username: 1, userType: 1, site: 1, createdAt: 1, lastLoginAt: 1, emailVerifiedAt: 1, signals: 1, score: 1 };

/** One page of the queue and how many users match in all. */
export async function queuePage(userTypes: UserType[], f: QueueFilters, page: number, size: number, now: Date): Promise<{ rows: QueueRow[]; total: number }> {
  if (!userTypes.some((t) => t !== 'internal')) return { rows: [], total: 0 };
  const inputs = { now, accountDomains: await accountDomains() };
  const [out] = await UserModel.aggregate<{ rows: QueueRow[]; total: { n: number }[] }>(
    rankedPipeline(userTypes, f, inputs, [
      { $facet: { total: [{ $count: 'n' }], rows: [{ $skip: (page - 1) * size }, { $limit: size }, { $project: ROW_FIELDS }] } },
    ]) as never,
  ).allowDiskUse(true);
  return { rows: out?.rows ?? [], total: out?.total[0]?.n ?? 0 };
}

/** Every row of the search in rank order, read in pages of `size` (the CSV export streams them). */
export async function* queueRows(userTypes: UserType[], f: QueueFilters, now: Date, cap: number, size = 1000): AsyncGenerator<QueueRow> {
  if (!userTypes.some((t) => t !== 'internal')) return;
  const inputs = { now, accountDomains: await accountDomains() };
  for (let skip = 0; skip < cap; skip += size) {
    const rows = await UserModel.aggregate<QueueRow>(rankedPipeline(userTypes, f, inputs, [{ $skip: skip }, { $limit: Math.min(size, cap - skip) }, { $project: ROW_FIELDS }]) as never).allowDiskUse(true);
    yield* rows;
    if (rows.length < size) return;
  }
}

/** The ids of every user of the queue's search, in rank order, capped (bulk actions on a search). */
export async function queueUserIds(userTypes: UserType[], f: QueueFilters, now: Date, cap: number): Promise<Types.ObjectId[]> {
  if (!userTypes.some((t) => t !== 'internal')) return [];
  const inputs = { now, accountDomains: await accountDomains() };
  const rows = await UserModel.aggregate<{ _id: Types.ObjectId }>(rankedPipeline(userTypes, f, inputs, [{ $limit: cap }, { $project: { _id: 1 } }]) as never).allowDiskUse(true);
  return rows.map((r) => r._id);
}
