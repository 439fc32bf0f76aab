/**
 * User search for the admin list and the API: filters, newest first, keyset pagination on
 * (createdAt, _id) so a page costs the same at row 50 and at row 99,950 (index { createdAt: -1, _id: -1 }).
 * The text search `q` matches prefixes of the users' search terms (search-terms.ts: words of the first
 * and last name, email and username and their local parts, nickname; case and accents ignored), every
 * word of the query required, one index range per word on the multikey index { searchTerms: 1 }:
 * `{searchTerms: {$elemMatch: {$gte: 'ada', $lt: 'adb'}}}`. $elemMatch matters: without it, on an array
 * `$gte` and `$lt` may each be met by a different term (['zed', 'abc'] is in ['ada', 'adb')), and
 * MongoDB can then bound only one side of the index. There is no substring search: it cannot use an index.
 * Every value here has been validated as a plain string/boolean by the caller; operators are built here
 * and marked trusted() because sanitizeFilter is on.
 */
import { trusted, Types } from 'mongoose';
import { UserModel, type User, type UserType } from '../data/models';
import { prefixEnd, queryWords } from './search-terms';
import { parseIdField, toObjectId } from '../shared/ids';
import { normaliseUsername } from '../shared/username';
import { MSG } from '../shared/messages';

export interface UserFilters {
  /** Words, each a prefix of a word of the first or last name, the email, username or nickname (case and accents ignored). */
  q?: string;
  username?: string;
  email?: string;
  contactless?: boolean;
  licenseId?: string;
  profileId?: string;
  siteId?: string;
  active?: boolean;
  userType?: UserType;
  /** Only external users (customers and partners): what "contactless" means in the admin console. */
  externalOnly?: boolean;
}

/** Limits what the searching actor may see: user types managed with full rights, plus delegated contacts. */
export interface UserScope {
  userTypes: UserType[];
  /** Contacts of accounts delegated to the actor (external users with those contacts are visible). */
  delegatedContactIds: Types.ObjectId[];
}

export interface UserPage<T = User & { _id: Types.ObjectId; createdAt: Date }> {
  records: T[];
  nextCursor: string | null;
}

export const MAX_PAGE_SIZE = 200;

const escapeRegex = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

export function encodeCursor(createdAt: Date, id: Types.ObjectId): string {
  return Buffer.from(`${createdAt.getTime()}.${id.toHexString()}`).toString('base64url');
}

/** Returns null for anything that is not a cursor this module made. */
export function decodeCursor(cursor: string): { createdAt: Date; id: Types.ObjectId } | null {
  const m = /^(\d{1,15})\.([^.]+)$/.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
  const id = m && toObjectId(m[2]);
  return m && id ? { createdAt: new Date(Number(m[1])), id } : null;
}

function oid(value: string, field: string): Types.ObjectId {
  return parseIdField(value, field, MSG.useValidId, 'Some filters need attention.');
}

export function buildUserFilter(f: UserFilters, scope: UserScope | null): Record<string, unknown> {
  const and: Record<string, unknown>[] = [];
  if (f.q) {
    for (const word of queryWords(f.q)) {
      const end = prefixEnd(word);
      // The rare word without a successor (it ends in U+FFFF...) is matched by an anchored regex instead.
      and.push({
        searchTerms: trusted(
          end ? { $elemMatch: { $gte: word, $lt: end } } : { $regex: new RegExp(`^${escapeRegex(word)}`) },
        ),
      });
    }
  }
  if (f.username) and.push({ username: normaliseUsername(f.username) });
  if (f.email) and.push({ email: f.email.trim().toLowerCase() });
  if (f.contactless === true) and.push({ contact: null });
  if (f.contactless === false) and.push({ contact: trusted({ $ne: null }) });
  if (f.licenseId) and.push({ license: oid(f.licenseId, 'licenseId') });
  if (f.profileId) and.push({ profile: oid(f.profileId, 'profileId') });
  if (f.siteId) and.push({ site: oid(f.siteId, 'siteId') });
  if (f.active !== undefined) and.push({ isActive: f.active });
  if (f.userType) and.push({ userType: f.userType });
  if (f.externalOnly) and.push({ userType: trusted({ $ne: 'internal' }) });
  if (scope) {
    const visible: Record<string, unknown>[] = [];
    if (scope.userTypes.length) visible.push({ userType: trusted({ $in: scope.userTypes }) });
    if (scope.delegatedContactIds.length) {
      visible.push({ userType: trusted({ $ne: 'internal' }), contact: trusted({ $in: scope.delegatedContactIds }) });
    }
    // Nothing visible: match nothing rather than everything.
    and.push(visible.length ? { $or: visible } : { _id: null });
  }
  return and.length ? { $and: and } : {};
}

/** The query of one page (limit + 1 rows, to know whether a next page exists); `explain()` shows its plan. */
export function userPageQuery(f: UserFilters, scope: UserScope | null, cursor: string | undefined, limit: number) {
  const filter = buildUserFilter(f, scope);
  if (cursor) {
    const c = decodeCursor(cursor);
    if (c) {
      // The $lte repeats what the $or implies, as bounds an index can start from (the $or alone would
      // make the engine walk from the newest user, and MongoDB plan an OR of two index scans).
      const after = [
        { createdAt: trusted({ $lte: c.createdAt }) },
        {
          $or: [{ createdAt: trusted({ $lt: c.createdAt }) }, { createdAt: c.createdAt, _id: trusted({ $lt: c.id }) }],
        },
      ];
      if (Array.isArray(filter.$and)) filter.$and.push(...after);
      else filter.$and = after;
    }
  }
  const size = Math.min(Math.max(1, limit), MAX_PAGE_SIZE);
  return UserModel.find(filter)
    .sort({ createdAt: -1, _id: -1 })
    .limit(size + 1)
    .lean();
}

export async function findUsersPage(
  f: UserFilters,
  scope: UserScope | null,
  cursor: string | undefined,
  limit: number,
): Promise<UserPage> {
  const size = Math.min(Math.max(1, limit), MAX_PAGE_SIZE);
  const rows = await userPageQuery(f, scope, cursor, limit);
  const records = rows.slice(0, size) as unknown as UserPage['records'];
  const last = records[records.length - 1];
  return { records, nextCursor: rows.length > size && last ? encodeCursor(last.createdAt, last._id) : null };
}
