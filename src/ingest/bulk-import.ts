/**
 * Creating many users at once (bulk ingest). Every rule is createUser's, through the same checks
 * (prepareUserRecord: profile and license, a contact where the license needs one, the actor's rights,
 * the schema's own setters, defaults and validators, without a mongoose document per user); what
 * changes is the cost: lookups are loaded once per batch, seats are taken per license in one
 * conditional update, and users are inserted with one unordered insertMany whose writeErrors say which
 * rows collided (username, nickname, contact). Seats of rows that failed are given back.
 *
 * Each row brings the _id its user will get. A batch retried after a crash first looks those ids up:
 * a user that exists was created by this very row in the earlier attempt, so it is reported as created,
 * never inserted twice, and given its audit event if the crash came before it was written.
 * Seats are taken with a hold recorded on the license (takeHeldSeats) and the hold is settled once the
 * users are in; a batch cut off in between is settled by recoverSeatHolds before its key's next batch,
 * so a crash never leaks a seat.
 */
import {
  searchTermsOf,
  conflictFor,
  deriveNickname,
  prepareUserRecord,
  userCreatedEntry,
  withSuffix,
  type NewUserInput,
  type PreparedUserRecord,
  type UserRecord,
  type UserLookups,
} from '../users';
import crypto from 'node:crypto';
import { trusted, Types } from 'mongoose';
import { AuditEventModel, ContactModel, LicenseModel, ProfileModel, UserModel } from '../data/models';
import { duplicateKeyField } from '../data/errors';
import { settleSeatHold, takeHeldSeats } from '../qualification';
import type { RequestContext } from '../access';
import { ConflictError, isDomainError, type FieldErrors } from '../shared/errors';
import { recordAudits } from '../audit';
import { isObjectIdString } from '../shared/ids';
import { MSG } from '../shared/messages';

export interface BulkUserRow {
  /** The id the user gets; chosen when the row was stored, so a retry recognises its own user. */
  userId: Types.ObjectId;
  /** Bulk rows carry no password: an imported user sets one through the site's reset flow. */
  input: Omit<NewUserInput, 'password'>;
}

export type BulkRowResult =
  | {
      ok: true;
      created: true;
      userId: Types.ObjectId;
      /** The user as this call inserted it; absent when an earlier attempt (or another worker) did. */
      user?: UserRecord;
    }
  | { ok: false; code: string; message: string; fields?: FieldErrors };

const NICKNAME_RETRIES = 6;
/**
 * Users per insert command. The engine runs one command at a time, and inserting a user updates the
 * user collection's 15 indexes: at 100k users a whole 250-user batch in one command held the sign-in
 * page's database calls behind it (p99 5.1 x idle in the ingest bench); two commands of 125 kept it at
 * 1.2 x. Smaller slices cost CPU: each insert command also has a cost that grows with the collection.
 */
const INSERT_SLICE = 125;

function idsOf(values: unknown[]): Types.ObjectId[] {
  const hex = new Set(
    values
      .map((v) => (v instanceof Types.ObjectId ? v.toHexString() : isObjectIdString(v) ? v.toLowerCase() : null))
      .filter((v): v is string => v !== null),
  );
  return [...hex].map((h) => new Types.ObjectId(h));
}

/** Profiles, licenses and contacts the batch refers to, read once, served to prepareUserRecord from memory. */
async function batchLookups(rows: BulkUserRow[]): Promise<UserLookups> {
  const profiles = await ProfileModel.find({ _id: trusted({ $in: idsOf(rows.map((r) => r.input.profileId)) }) }).lean();
  const licenses = await LicenseModel.find({ _id: trusted({ $in: profiles.map((p) => p.license) }) }).lean();
  const contacts = await ContactModel.find({ _id: trusted({ $in: idsOf(rows.map((r) => r.input.contactId)) }) })
    .select('account')
    .lean();
  const byId = <T extends { _id: Types.ObjectId }>(docs: T[]) => new Map(docs.map((d) => [d._id.toHexString(), d]));
  const [p, l, c] = [byId(profiles), byId(licenses), byId(contacts)];
  return {
    profile: async (id) => p.get(id.toHexString()) ?? null,
    license: async (id) => l.get(id.toHexString()) ?? null,
    contact: async (id) => c.get(id.toHexString()) ?? null,
  };
}

function failure(err: unknown): BulkRowResult {
  if (!isDomainError(err)) throw err;
  const fields = (err as { fields?: FieldErrors }).fields;
  return {
    ok: false,
    code: err.code,
    message: err.message,
    ...(fields && Object.keys(fields).length ? { fields } : {}),
  };
}

interface Pending {
  index: number;
  prepared: PreparedUserRecord;
  derivedNickname: boolean;
  /** Found already inserted under its _id (another worker's attempt): the stored user may differ. */
  insertedElsewhere?: boolean;
}

/**
 * Takes seats for the pending rows, license by license, under the batch's hold key. When fewer seats
 * are left than rows, as many rows as there are seats keep theirs (in row order) and the rest fail
 * with no_seats_left.
 */
async function takeSeatsFor(pending: Pending[], results: BulkRowResult[], holdKey: string): Promise<Pending[]> {
  const byLicense = new Map<string, Pending[]>();
  for (const p of pending) {
    const key = p.prepared.license._id.toHexString();
    byLicense.set(key, [...(byLicense.get(key) ?? []), p]);
  }
  const seated: Pending[] = [];
  const idsOfGroup = (group: Pending[]) => group.map((p) => p.prepared.user._id);
  for (const group of byLicense.values()) {
    const license = group[0].prepared.license;
    let granted = 0;
    for (let attempt = 0; attempt < 3 && granted === 0; attempt++) {
      if (await takeHeldSeats(license._id, holdKey, idsOfGroup(group))) granted = group.length;
      else {
        const now = await LicenseModel.findById(license._id).lean();
        const left = now ? Math.max(0, now.totalSeats - now.usedSeats) : 0;
        if (left === 0) break;
        const some = Math.min(left, group.length);
        if (await takeHeldSeats(license._id, holdKey, idsOfGroup(group.slice(0, some)))) granted = some;
      }
    }
    seated.push(...group.slice(0, granted));
    for (const p of group.slice(granted)) {
      results[p.index] = failure(
        new ConflictError(
          `No ${license.name} seat is left. Free a seat or raise the license's total seats.`,
          {},
          'no_seats_left',
        ),
      );
    }
  }
  return seated;
}

/** Inserts unordered; a derived nickname that collides is retried with a suffix, like createUser does. */
async function insertAll(pending: Pending[], results: BulkRowResult[]): Promise<Pending[]> {
  const inserted: Pending[] = [];
  let round = pending;
  for (let attempt = 0; round.length; attempt++) {
    const now = new Date();
    // insertMany with lean skips the save hooks: the search terms are computed here (the nickname may have changed).
    const docs = round.map((p) => ({
      ...p.prepared.user,
      searchTerms: searchTermsOf(p.prepared.user),
      createdAt: now,
      updatedAt: now,
    }));
    const failedAt = new Map<number, unknown>();
    for (let from = 0; from < docs.length; from += INSERT_SLICE) {
      try {
        await UserModel.insertMany(docs.slice(from, from + INSERT_SLICE), { ordered: false, lean: true });
      } catch (err) {
        const writeErrors = (err as { writeErrors?: { index: number }[] }).writeErrors;
        if (!writeErrors) throw err;
        for (const we of writeErrors) failedAt.set(from + we.index, we);
      }
    }
    const retry: Pending[] = [];
    round.forEach((p, i) => {
      const err = failedAt.get(i);
      if (!err) return inserted.push(p);
      const field = duplicateKeyField(err);
      // Another worker (a lease taken over mid-batch) inserted this very row's user: it exists once.
      if (field === '_id') return inserted.push(Object.assign(p, { insertedElsewhere: true }));
      if (field === 'communityNickname' && p.derivedNickname && attempt < NICKNAME_RETRIES) {
        p.prepared.user.communityNickname = withSuffix(deriveNickname(p.prepared.user.email));
        return retry.push(p);
      }
      if (!field) throw err;
      results[p.index] = failure(conflictFor(field));
    });
    round = retry;
  }
  return inserted;
}

/** Settles the batch's holds: seats of seated rows whose user was not inserted come back. */
async function settleHolds(seated: Pending[], insertedIds: Set<string>, holdKey: string): Promise<void> {
  const unused = new Map<string, { id: Types.ObjectId; count: number }>();
  for (const p of seated) {
    const id = p.prepared.license._id;
    const entry = unused.get(id.toHexString()) ?? { id, count: 0 };
    if (!insertedIds.has(p.prepared.user._id.toHexString())) entry.count++;
    unused.set(id.toHexString(), entry);
  }
  for (const { id, count } of unused.values()) await settleSeatHold(id, holdKey, count);
}

/** Users an earlier attempt created but whose audit event it did not get to write (a crash) get it now. */
async function auditMissing(userIds: Types.ObjectId[], ctx: RequestContext): Promise<void> {
  if (!userIds.length) return;
  const audited = await AuditEventModel.find({ action: 'user.created', 'target.id': trusted({ $in: userIds }) })
    .select('target.id')
    .lean();
  const seen = new Set(audited.map((e) => String(e.target?.id)));
  const missing = userIds.filter((id) => !seen.has(id.toHexString()));
  if (!missing.length) return;
  const users = await UserModel.find({ _id: trusted({ $in: missing }) })
    .select('username isActive profile contact createdAt')
    .lean();
  const profiles = new Map(
    (
      await ProfileModel.find({ _id: trusted({ $in: users.map((u) => u.profile) }) })
        .select('name')
        .lean()
    ).map((p) => [String(p._id), p.name]),
  );
  await recordAudits(
    ctx,
    users.map((u) => ({
      ...userCreatedEntry(u, profiles.get(String(u.profile)) ?? '', u.contact ?? null),
      at: u.createdAt ?? undefined,
    })),
  );
}

export interface BulkOptions {
  /**
   * Names the batch's seat holds. The ingest worker passes one per job, so a batch cut off by a crash
   * is settled (recoverSeatHolds) before the job's next; by default each call has its own.
   */
  holdKey?: string;
}

/** Creates the users of one batch; one result per row, in order. Never throws for a bad row. */
export async function createUsersInBulk(
  rows: BulkUserRow[],
  ctx: RequestContext,
  opts: BulkOptions = {},
): Promise<BulkRowResult[]> {
  const holdKey = opts.holdKey ?? `bulk:${crypto.randomUUID()}`;
  const results: BulkRowResult[] = new Array(rows.length);
  const existing = await UserModel.find({ _id: trusted({ $in: rows.map((r) => r.userId) }) })
    .select('_id')
    .lean();
  const done = new Set(existing.map((u) => u._id.toHexString()));
  await auditMissing(
    existing.map((u) => u._id),
    ctx,
  );

  const lookups = await batchLookups(rows);
  const pending: Pending[] = [];
  for (let i = 0; i < rows.length; i++) {
    const { userId, input } = rows[i];
    if (done.has(userId.toHexString())) {
      results[i] = { ok: true, created: true, userId };
      continue;
    }
    try {
      const prepared = await prepareUserRecord(input, ctx, lookups, userId);
      if (Object.keys(prepared.fields).length) {
        results[i] = {
          ok: false,
          code: 'validation_failed',
          message: MSG.fieldsNeedAttention,
          fields: prepared.fields,
        };
        continue;
      }
      pending.push({ index: i, prepared, derivedNickname: input.communityNickname === undefined });
    } catch (err) {
      results[i] = failure(err);
    }
  }

  const seated = await takeSeatsFor(pending, results, holdKey);
  let inserted: Pending[];
  try {
    inserted = await insertAll(seated, results);
  } catch (err) {
    // Unexpected (the database went away): keep the seats of users that did get in, return the rest.
    // If even that fails, the holds stay and recoverSeatHolds settles them before the next attempt.
    const found = await UserModel.find({ _id: trusted({ $in: seated.map((p) => p.prepared.user._id) }) })
      .select('_id')
      .lean()
      .catch(() => null);
    if (found)
      await settleHolds(seated, new Set(found.map((u) => u._id.toHexString())), holdKey).catch(() => undefined);
    throw err;
  }

  // Audit events before the holds are settled: a crash in between leaves a hold, and the retry both
  // settles it and writes any event still missing.
  const at = new Date();
  await recordAudits(
    ctx,
    inserted.map(({ prepared: { user, profile, contactId } }) => ({
      ...userCreatedEntry(user, profile.name, contactId),
      at,
    })),
  );
  await settleHolds(seated, new Set(inserted.map((p) => p.prepared.user._id.toHexString())), holdKey);
  for (const p of inserted)
    results[p.index] = {
      ok: true,
      created: true,
      userId: p.prepared.user._id,
      ...(p.insertedElsewhere ? {} : { user: p.prepared.user }),
    };
  return results;
}
