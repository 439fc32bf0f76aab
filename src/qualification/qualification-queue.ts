/**
 * The qualification queue and contact matching (README, Admin guide, "Qualification queue and bulk
 * actions"). The queue lists the contactless users the actor may qualify, ranked by the signals of
 * qualification-signals.ts; matching proposes existing contacts for one user, strongest reason first,
 * so an admin associates the contact the CRM already has instead of making a duplicate.
 */
import { stringify } from 'csv-stringify/sync';
import { trusted, Types } from 'mongoose';
import { AccountModel, ContactModel, SavedSearchModel, SiteModel, UserModel, type UserType } from '../data/models';
import { duplicateKeyField } from '../data/errors';
import { queuePage, queueRows, queueUserIds, type QueueFilters, type QueueRow } from './queue-query';
import { neutraliseCell } from '../shared/spreadsheet-safe';
import { MAX_BULK_USERS } from './bulk-actions';
import type { Actor, RequestContext } from '../access';
import { ConflictError, ForbiddenError, NotFoundError, ValidationError } from '../shared/errors';
import { assertUserAdministrator, manageableUserTypes } from '../access';
import { isCompanyDomain, scoreOf } from './qualification-signals';
import { allOpenAsks, askedReason, openAsksOf } from './join-request-flags';
import { addContactAndAssociate, associateContact, type ContactInput } from './qualification';
import { loadUserFor } from '../access';
import { MSG } from '../shared/messages';

export const QUEUE_PAGE_SIZE = 50;

/** A row's why: the "Asked to join" flag with its reason first, then the signals. */
function whyOf(r: QueueRow, asks: Map<string, string>): string[] {
  const asked = asks.get(String(r._id));
  return [...(asked ? [askedReason(asked)] : []), ...scoreOf(r.signals).reasons];
}

/** The kinds of contactless users the actor may qualify; refused when none (delegated admins included). */
export function queueUserTypes(actor: Actor): UserType[] {
  assertUserAdministrator(actor);
  const types = manageableUserTypes(actor).filter((t) => t !== 'internal');
  if (!types.length) {
    throw new ForbiddenError(
      'The qualification queue lists contactless customer and partner users: it needs Manage Internal Users with Manage Customer Users or Manage External Users.',
      'manageCustomerUsers',
    );
  }
  return types;
}

export interface QueueEntry extends QueueRow {
  reasons: string[];
  /** The reason of the person's open "ask to become a community member" request, if any. */
  askedToJoin: string | null;
  siteName: string | null;
}

export async function qualificationQueue(
  actor: Actor,
  filters: QueueFilters,
  page: number,
  now = new Date(),
): Promise<{ rows: QueueEntry[]; total: number; pages: number }> {
  const types = queueUserTypes(actor);
  const { rows, total } = await queuePage(types, filters, page, QUEUE_PAGE_SIZE, now);
  const siteIds = [
    ...new Set(
      rows
        .map((r) => r.site)
        .filter(Boolean)
        .map(String),
    ),
  ].map((id) => new Types.ObjectId(id));
  const sites = new Map(
    (
      await SiteModel.find({ _id: trusted({ $in: siteIds }) })
        .select('name')
        .lean()
    ).map((s) => [String(s._id), s.name]),
  );
  const asks = await openAsksOf(rows.map((r) => r._id));
  return {
    rows: rows.map((r) => ({
      ...r,
      reasons: whyOf(r, asks),
      askedToJoin: asks.get(String(r._id)) ?? null,
      siteName: r.site ? (sites.get(String(r.site)) ?? null) : null,
    })),
    total,
    pages: Math.max(1, Math.ceil(total / QUEUE_PAGE_SIZE)),
  };
}

export interface ContactProposal {
  contactId: Types.ObjectId;
  name: string;
  email: string | null;
  accountName: string;
  reason: string;
  /** The user holding the contact, if any: such a contact is shown but never offered. */
  heldBy: { id: Types.ObjectId; username: string; isActive: boolean } | null;
}

const escapeRegex = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const fullName = (c: { firstName?: string | null; lastName: string }) => `${c.firstName ?? ''} ${c.lastName}`.trim();

/**
 * Contacts that match the user: the same email first, then the same first and last name (ignoring case)
 * within an account whose contacts share the user's email domain. At most `limit` proposals.
 */
export async function proposeContacts(
  userId: string | Types.ObjectId,
  ctx: RequestContext,
  limit = 20,
): Promise<ContactProposal[]> {
  const user = await loadUserFor('qualify', userId, ctx);
  const sameEmail = await ContactModel.find({ email: user.email }).limit(limit).lean();
  const found = sameEmail.map((c) => ({ contact: c, reason: 'Same email as this user' }));
  const domain = user.email.split('@')[1] ?? '';
  if (isCompanyDomain(domain) && found.length < limit) {
    const accounts = await ContactModel.distinct('account', {
      email: trusted({ $regex: new RegExp(`@${escapeRegex(domain)}$`) }),
    });
    if (accounts.length) {
      const name = (v: string) => trusted({ $regex: new RegExp(`^${escapeRegex(v.trim())}$`, 'i') });
      const sameName = await ContactModel.find({
        account: trusted({ $in: accounts }),
        lastName: name(user.lastName),
        ...(user.firstName ? { firstName: name(user.firstName) } : {}),
        _id: trusted({ $nin: sameEmail.map((c) => c._id) }),
      })
        .limit(limit - found.length)
        .lean();
      found.push(
        ...sameName.map((c) => ({ contact: c, reason: `Same name, in an account whose contacts use @${domain}` })),
      );
    }
  }
  const accounts = new Map(
    (
      await AccountModel.find({ _id: trusted({ $in: found.map((f) => f.contact.account) }) })
        .select('name')
        .lean()
    ).map((a) => [String(a._id), a.name]),
  );
  const holders = new Map(
    (
      await UserModel.find({ contact: trusted({ $in: found.map((f) => f.contact._id) }) })
        .select('username isActive contact')
        .lean()
    ).map((u) => [String(u.contact), u]),
  );
  return found.map(({ contact, reason }) => {
    const holder = holders.get(String(contact._id));
    return {
      contactId: contact._id,
      name: fullName(contact),
      email: contact.email ?? null,
      accountName: accounts.get(String(contact.account)) ?? '',
      reason,
      heldBy: holder ? { id: holder._id, username: holder.username, isActive: holder.isActive } : null,
    };
  });
}

/**
 * matchBy=email: associates the one contact whose email is the user's. None is answered null (the caller
 * creates a contact, or says what is missing); several are a conflict naming them, never a guess; a
 * contact another user holds is refused by associateContact (contact_taken), so it is never held twice.
 */
export async function associateByEmail(
  userId: string | Types.ObjectId,
  ctx: RequestContext,
): Promise<Types.ObjectId | null> {
  const user = await loadUserFor('qualify', userId, ctx);
  const matches = await ContactModel.find({ email: user.email }).select('_id').limit(10).lean();
  if (matches.length === 0) return null;
  if (matches.length > 1) {
    throw new ConflictError(
      `Several contacts have the email ${user.email} (${matches.map((m) => String(m._id)).join(', ')}); associate one by its contactId.`,
      { matchBy: 'More than one contact matches.' },
      'ambiguous_match',
    );
  }
  await associateContact(user._id, String(matches[0]._id), ctx);
  return matches[0]._id;
}

/**
 * matchBy=email with an optional new contact: the contact with the user's email when there is one,
 * else the new contact from `input`, else a conflict saying nothing matched (nothing is written).
 */
export async function matchOrAddContact(
  userId: string | Types.ObjectId,
  input: ContactInput | null,
  ctx: RequestContext,
): Promise<'matched' | 'created'> {
  if (await associateByEmail(userId, ctx)) return 'matched';
  if (!input) {
    throw new ConflictError(
      "No contact has this user's email. Send the fields of a new contact with matchBy to create one when none matches, or a contactId.",
      { matchBy: 'No contact matches.' },
      'no_match',
    );
  }
  await addContactAndAssociate(userId, input, ctx);
  return 'created';
}

/** The users of a queue search, in rank order, for a bulk action (at most MAX_BULK_USERS). */
export async function searchUserIds(actor: Actor, filters: QueueFilters, now = new Date()): Promise<Types.ObjectId[]> {
  return queueUserIds(queueUserTypes(actor), filters, now, MAX_BULK_USERS);
}

/**
 * The queue as CSV (a search, or a selection within it), spreadsheet-safe like every export people
 * open: UserId, Username, Name, Email, Site, Registered, Score, Reasons.
 */
export async function* queueCsv(actor: Actor, filters: QueueFilters, now = new Date()): AsyncGenerator<string> {
  const types = queueUserTypes(actor);
  const line = (values: unknown[]) => stringify([values.map(neutraliseCell)], { record_delimiter: 'unix' });
  const sites = new Map((await SiteModel.find().select('name').lean()).map((s) => [String(s._id), s.name]));
  yield line(['UserId', 'Username', 'Name', 'Email', 'Site', 'Registered', 'Score', 'Reasons']);
  const asks = await allOpenAsks();
  for await (const r of queueRows(types, filters, now, MAX_BULK_USERS)) {
    yield line([
      String(r._id),
      r.username,
      `${r.firstName ?? ''} ${r.lastName}`.trim(),
      r.email,
      r.site ? (sites.get(String(r.site)) ?? '') : '',
      r.createdAt.toISOString(),
      r.score,
      whyOf(r, asks).join('; '),
    ]);
  }
}

/** Saved searches are each admin's own: a name and the queue's query string. */
export async function listSavedSearches(actor: Actor) {
  return SavedSearchModel.find({ owner: actor.id }).sort({ name: 1 }).limit(50).lean();
}

export async function saveSearch(actor: Actor, name: string, query: string): Promise<void> {
  queueUserTypes(actor);
  const search = new SavedSearchModel({ owner: actor.id, name, query: query.replace(/^\?/, '') });
  try {
    await search.validate();
  } catch {
    throw new ValidationError(MSG.fieldsNeedAttention, { name: 'Name the search in at most 60 characters.' });
  }
  try {
    await search.save();
  } catch (err) {
    // The only unique index is (owner, name).
    if (duplicateKeyField(err) !== null)
      throw new ConflictError(
        'You already have a search with this name.',
        { name: 'Choose another name.' },
        'name_taken',
      );
    throw err;
  }
}

export async function deleteSavedSearch(actor: Actor, id: string): Promise<void> {
  queueUserTypes(actor);
  const res = /^[0-9a-f]{24}$/i.test(id)
    ? await SavedSearchModel.deleteOne({ _id: id, owner: actor.id })
    : { deletedCount: 0 };
  if (res.deletedCount !== 1) throw new NotFoundError('No saved search has this id.');
}
