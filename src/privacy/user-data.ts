/**
 * EVERY collection that holds a user's id or personal data, in one list: what an export reads and what
 * an erasure (src/privacy/deletion.ts) deletes or anonymises. A feature that stores something about a
 * user adds its holder here, and the deletion test checks each holder finds nothing left afterwards.
 *
 * Kept on purpose (README, "Your data: export and deletion"): the audit trail, with the person replaced
 * by a pseudonym, and their values in it erased; the consent ledger, its rows under the same pseudonym.
 */
import crypto from 'node:crypto';
import mongoose, { trusted, type Types } from 'mongoose';
import {
  ActionTokenModel,
  ApiTokenModel,
  AuditEventModel,
  BulkActionRowModel,
  ConsentModel,
  DelegatedAdminGroupModel,
  IngestJobRowModel,
  JoinRequestModel,
  LoginEventModel,
  MailMessageModel,
  RememberedDeviceModel,
  SavedSearchModel,
  UpgradeNoticeModel,
  UserModel,
} from '../data/models';
import { AREAS } from '../shared/area';
import { pseudonymiseConsents } from '../registration';

/** Who is being erased: their id, the names and address other records may carry, and their pseudonym. */
export interface ErasedUser {
  id: Types.ObjectId;
  username: string;
  email: string;
  /** What the audit trail calls them afterwards: stable per user, not reversible without the key. */
  pseudonym: string;
}

export interface UserDataHolder {
  /** The collection, as the README and the deletion test name it. */
  name: string;
  /** Deletes or anonymises what it holds about the user; how many records changed. */
  erase(user: ErasedUser): Promise<number>;
  /** Records that still name the user (by id, username or address): 0 once erased. */
  remaining(user: ErasedUser): Promise<number>;
}

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const raw = (name: string) => mongoose.connection.db!.collection(name);
const sessionFilter = (user: ErasedUser) => ({ $or: AREAS.map((a) => ({ [`session.${a}.userId`]: String(user.id) })) });
/** Throttle counters whose key names the user (rate-limiter-flexible's `<prefix>:<key>`). */
const throttleKeys = (user: ErasedUser) => ({
  key: {
    $regex: `^(?:login:user-ip:(?:${escape(user.username)}|${escape(user.email)})\\||(?:recheck|mfa):user:${user.id}$|[a-z-]+:address:${escape(user.email)}$)`,
  },
});
/** Audit events where the user is the actor, the target, or the one acted for. */
const auditOf = (user: ErasedUser) => ({
  $or: [{ 'actor.id': user.id }, { 'target.id': user.id }, { 'onBehalfOf.id': user.id }],
});

export const USER_DATA_HOLDERS: UserDataHolder[] = [
  {
    name: 'sessions',
    // Only the user's area of each stored session: an admin signed in to the same browser stays.
    async erase(user) {
      let n = 0;
      for (const area of AREAS)
        n += (
          await raw('sessions').updateMany(
            { [`session.${area}.userId`]: String(user.id) },
            { $unset: { [`session.${area}`]: '' } },
          )
        ).modifiedCount;
      return n;
    },
    remaining: (user) => raw('sessions').countDocuments(sessionFilter(user)),
  },
  {
    name: 'loginevents',
    // The history, and failures typed with their name or address before or after the account existed.
    erase: async (user) =>
      (
        await LoginEventModel.deleteMany({
          $or: [{ user: user.id }, { username: trusted({ $in: [user.username, user.email] }) }],
        })
      ).deletedCount,
    remaining: (user) =>
      LoginEventModel.countDocuments({
        $or: [{ user: user.id }, { username: trusted({ $in: [user.username, user.email] }) }],
      }),
  },
  {
    name: 'remembereddevices',
    erase: async (user) => (await RememberedDeviceModel.deleteMany({ user: user.id })).deletedCount,
    remaining: (user) => RememberedDeviceModel.countDocuments({ user: user.id }),
  },
  {
    name: 'actiontokens',
    erase: async (user) => (await ActionTokenModel.deleteMany({ user: user.id })).deletedCount,
    remaining: (user) => ActionTokenModel.countDocuments({ user: user.id }),
  },
  {
    name: 'mailmessages',
    erase: async (user) =>
      (await MailMessageModel.deleteMany({ $or: [{ user: user.id }, { to: user.email }] })).deletedCount,
    remaining: (user) => MailMessageModel.countDocuments({ $or: [{ user: user.id }, { to: user.email }] }),
  },
  {
    name: 'apitokens',
    erase: async (user) => (await ApiTokenModel.deleteMany({ createdBy: user.id })).deletedCount,
    remaining: (user) => ApiTokenModel.countDocuments({ createdBy: user.id }),
  },
  {
    name: 'savedsearches',
    erase: async (user) => (await SavedSearchModel.deleteMany({ owner: user.id })).deletedCount,
    remaining: (user) => SavedSearchModel.countDocuments({ owner: user.id }),
  },
  {
    name: 'delegatedadmingroups',
    erase: async (user) =>
      (await DelegatedAdminGroupModel.updateMany({ members: user.id }, { $pull: { members: user.id } })).modifiedCount,
    remaining: (user) => DelegatedAdminGroupModel.countDocuments({ members: user.id }),
  },
  {
    name: 'ingestjobrows',
    // A bulk row keeps the CSV line it came from (the person's fields).
    erase: async (user) => (await IngestJobRowModel.deleteMany({ userId: user.id })).deletedCount,
    remaining: (user) => IngestJobRowModel.countDocuments({ userId: user.id }),
  },
  {
    name: 'joinrequests',
    // "Ask to become a community member": the person's own words.
    erase: async (user) => (await JoinRequestModel.deleteMany({ user: user.id })).deletedCount,
    remaining: (user) => JoinRequestModel.countDocuments({ user: user.id }),
  },
  {
    name: 'upgradenotices',
    erase: async (user) => (await UpgradeNoticeModel.deleteMany({ user: user.id })).deletedCount,
    remaining: (user) => UpgradeNoticeModel.countDocuments({ user: user.id }),
  },
  {
    name: 'bulkactionrows',
    erase: async (user) => (await BulkActionRowModel.deleteMany({ userId: user.id })).deletedCount,
    remaining: (user) => BulkActionRowModel.countDocuments({ userId: user.id }),
  },
  {
    name: 'login_throttle, request_throttle',
    async erase(user) {
      const filter = throttleKeys(user);
      return (
        (await raw('login_throttle').deleteMany(filter)).deletedCount +
        (await raw('request_throttle').deleteMany(filter)).deletedCount
      );
    },
    remaining: async (user) =>
      (await raw('login_throttle').countDocuments(throttleKeys(user))) +
      (await raw('request_throttle').countDocuments(throttleKeys(user))),
  },
  {
    name: 'users (SCIM ids owned by the user)',
    erase: async (user) =>
      (
        await UserModel.updateMany(
          { 'scimExternalIds.owner': user.id },
          { $pull: { scimExternalIds: { owner: user.id } } },
        )
      ).modifiedCount,
    remaining: (user) => UserModel.countDocuments({ 'scimExternalIds.owner': user.id }),
  },
  {
    name: 'auditevents (kept, pseudonymised)',
    // The trail stays (who changed what, when, through which channel), with the person as a pseudonym,
    // the values of the change erased and no IP for what they did themselves.
    async erase(user) {
      let n = 0;
      const anon = { id: null, username: user.pseudonym };
      const redact = (v: unknown) =>
        v && typeof v === 'object' ? Object.fromEntries(Object.keys(v as object).map((k) => [k, '[erased]'])) : v;
      for (const e of await AuditEventModel.find(auditOf(user)).lean()) {
        const self = e.actor?.id?.equals(user.id) || (e.actor === null && e.target?.id?.equals(user.id));
        const aboutThem = e.target?.id?.equals(user.id);
        await AuditEventModel.updateOne(
          { _id: e._id },
          {
            $set: {
              ...(e.actor?.id?.equals(user.id) ? { actor: anon } : {}),
              ...(e.onBehalfOf?.id?.equals(user.id) ? { onBehalfOf: anon } : {}),
              ...(aboutThem
                ? {
                    target: { type: e.target!.type, id: null, label: user.pseudonym },
                    before: redact(e.before),
                    after: redact(e.after),
                  }
                : {}),
              ...(self ? { ip: null } : {}),
            },
          },
        );
        n++;
      }
      return n;
    },
    remaining: async (user) =>
      (await AuditEventModel.countDocuments(auditOf(user))) +
      (await AuditEventModel.countDocuments({
        $or: [
          { 'actor.username': trusted({ $in: [user.username, user.email] }) },
          { 'target.label': trusted({ $in: [user.username, user.email] }) },
        ],
      })),
  },
  {
    name: 'consents (kept, pseudonymised)',
    // A legal record that version X was accepted then: the rows stay and still count for their version,
    // under the audit trail's pseudonym, with no user id, IP or user agent (the ledger's one exception to
    // append-only, src/registration/terms.ts).
    erase: (user) => pseudonymiseConsents(user.id, user.pseudonym),
    remaining: async (user) =>
      (await ConsentModel.countDocuments({
        $or: [{ user: user.id }, { username: trusted({ $in: [user.username, user.email] }) }],
      })) +
      (await ConsentModel.countDocuments({
        username: user.pseudonym,
        $or: [{ ip: trusted({ $ne: null }) }, { userAgent: trusted({ $ne: null }) }],
      })),
  },
];

/** A user's pseudonym: an HMAC of their id, so the same person reads the same everywhere in the trail. */
export function pseudonymOf(userId: Types.ObjectId, key: string): string {
  return `deleted-user-${crypto.createHmac('sha256', key).update(String(userId)).digest('hex').slice(0, 12)}`;
}
