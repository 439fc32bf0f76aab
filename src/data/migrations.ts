/**
 * Data migrations for installations that existed before a feature: each has a name, runs at start
 * (after the seed) unless the database records it as applied, and is idempotent, so two instances
 * starting together, or a crash before the record is written, only repeat work that changes nothing.
 */
import { trusted } from 'mongoose';
import { ApiTokenModel, LicenseModel, MigrationModel, ProfileModel, SiteModel, UserModel, emailKeyOf } from './models';
import { searchTermsOf } from '../users';
import { duplicateKeyField } from './errors';
import { COMMUNITY_LICENSES, COMMUNITY_PAGE, DEFAULT_SITE_SLUG } from './seed';

/** `run` may return a report (kept with the migration's record) of what an operator should look at. */
interface Migration { id: string; run(): Promise<unknown> }

export const EMAIL_KEYS_MIGRATION = '2027-01-one-account-per-email';

const MIGRATIONS: Migration[] = [
  {
    // SCIM externalId became one per provisioning client (scimExternalIds); the single externalId and its
    // owner move into that list. Raw collection access: the schema no longer knows the old fields.
    id: '2026-12-scim-external-ids-per-client',
    async run() {
      const users = UserModel.collection;
      for await (const u of users.find({ externalId: { $type: 'string' } }, { projection: { externalId: 1, externalIdOwner: 1 } })) {
        const entry = u.externalIdOwner ? [{ owner: u.externalIdOwner, value: u.externalId }] : [];
        await users.updateOne({ _id: u._id }, { $set: { scimExternalIds: entry }, $unset: { externalId: '', externalIdOwner: '' } });
      }
    },
  },
  {
    // Profiles and permission sets became editable: whoever could manage internal users could already
    // do everything with users, so they keep the right to manage profiles (nobody is locked out).
    id: '2026-12-roles-manage-profiles',
    async run() {
      await ProfileModel.updateMany({ userType: 'internal', 'permissions.manageInternalUsers': true }, { $set: { 'permissions.manageProfiles': true } });
      await ProfileModel.updateOne({ name: 'System Administrator' }, { $set: { 'permissions.viewOutbox': true } });
    },
  },
  {
    // Sites got members. Existing sites keep letting in whom they let in before: their registration
    // profile and the community profiles (licenses that need a contact). Sites made later start with none.
    id: '2026-12-roles-site-members',
    async run() {
      const communityLicenses = (await LicenseModel.find({ requiresContact: true, userType: trusted({ $ne: 'internal' }) }).lean()).map((l) => l._id);
      const communityProfiles = (await ProfileModel.find({ license: trusted({ $in: communityLicenses }) }).lean()).map((p) => p._id);
      for (const site of await SiteModel.find({ 'members.profiles': trusted({ $exists: false }) }).lean()) {
        await SiteModel.updateOne(
          { _id: site._id },
          { $set: { 'members.permissionSets': [] }, $addToSet: { 'members.profiles': { $each: [site.registrationProfile, ...communityProfiles] } } },
        );
      }
    },
  },
  {
    // The seeded site got a Community area for community-licensed users.
    id: '2026-12-roles-community-page',
    async run() {
      const licenses = (await LicenseModel.find({ name: trusted({ $in: COMMUNITY_LICENSES }) }).lean()).map((l) => l._id);
      await SiteModel.updateOne(
        { slug: DEFAULT_SITE_SLUG, 'pages.slug': trusted({ $ne: COMMUNITY_PAGE.slug }) },
        { $push: { pages: { ...COMMUNITY_PAGE, audience: { licenses, profiles: [] } } } },
      );
    },
  },
  {
    // The user search moved to prefixes of normalized terms on an index: users made before get theirs.
    // Only users without terms are read, and the terms depend only on the user's own fields.
    id: '2027-01-user-search-terms',
    run: addSearchTerms,
  },
  {
    // One address, one account (src/users/email-owner.ts): every user gets the key of their address,
    // except the later holders of an address several users already shared. Those are reported, not
    // refused: an operator merges or readdresses them; meanwhile they sign in by username.
    id: EMAIL_KEYS_MIGRATION,
    run: claimEmailKeys,
  },
  {
    // API tokens got scopes and an expiry: tokens made before keep working as they did (every scope)
    // and expire API_TOKEN_MAX_DAYS' default (365 days) after this migration runs.
    id: '2027-01-api-token-scopes',
    async run() {
      await ApiTokenModel.collection.updateMany({ scopes: trusted({ $exists: false }) }, { $set: { scopes: ['users:read', 'users:write', 'bulk', 'scim'], expiresAt: new Date(Date.now() + 365 * 86_400_000) } });
    },
  },
  {
    // The qualification queue reads a ranking stored on each user (qualification/queue-signals-store.ts):
    // users made before have none, so they are marked stale and the queue's next read computes theirs.
    id: '2027-01-qualification-queue-stored-ranking',
    async run() {
      await UserModel.collection.updateMany({ queueVersion: trusted({ $exists: false }) }, { $set: { queueStaleAt: new Date(0), queueVersion: 1, queueScore: null, queueSignals: null, queueDomain: null } });
    },
  },
];

export interface SharedEmailReport { sharedAddresses: { email: string; kept: string; others: string[] }[] }

/**
 * Gives each user without one the key of their address, oldest user first, so the oldest holder of a
 * shared address keeps it. Idempotent: a key already held is skipped, and a user whose address is held
 * by another keeps none and is reported.
 */
export async function claimEmailKeys(): Promise<SharedEmailReport> {
  const shared = new Map<string, { email: string; kept: string; others: string[] }>();
  const cursor = UserModel.find({ emailKey: trusted({ $not: { $type: 'string' } }) }).select('email username').sort({ _id: 1 }).lean().cursor({ batchSize: 1000 });
  for await (const u of cursor) {
    const key = emailKeyOf(u.email);
    const holder = await UserModel.findOne({ emailKey: key }).select('username').lean();
    if (!holder) {
      try {
        // updateOne sets only the key (no searched field), so the query guards let it through.
        await UserModel.updateOne({ _id: u._id }, { $set: { emailKey: key } });
        continue;
      } catch (err) {
        if (duplicateKeyField(err) !== 'emailKey') throw err;
      }
    }
    const kept = holder?.username ?? (await UserModel.findOne({ emailKey: key }).select('username').lean())?.username ?? '';
    const entry = shared.get(key) ?? { email: key, kept, others: [] };
    entry.others.push(u.username);
    shared.set(key, entry);
  }
  return { sharedAddresses: [...shared.values()] };
}

/** Computes the search terms of every user that has none, 1,000 writes at a time. */
export async function addSearchTerms(): Promise<number> {
  let ops: Parameters<typeof UserModel.bulkWrite>[0] = [];
  let n = 0;
  const flush = async () => {
    // bulkWrite runs no query middleware: the update below sets the terms themselves.
    if (ops.length) await UserModel.bulkWrite(ops, { ordered: false });
    n += ops.length;
    ops = [];
  };
  const cursor = UserModel.find({ searchTerms: trusted({ $exists: false }) })
    .select('firstName lastName email username communityNickname').lean().cursor({ batchSize: 1000 });
  for await (const u of cursor) {
    ops.push({ updateOne: { filter: { _id: u._id }, update: { $set: { searchTerms: searchTermsOf(u) } } } });
    if (ops.length >= 1000) await flush();
  }
  await flush();
  return n;
}

export async function runMigrations(): Promise<string[]> {
  const done = new Set((await MigrationModel.find().lean()).map((m) => String(m._id)));
  const applied: string[] = [];
  for (const m of MIGRATIONS) {
    if (done.has(m.id)) continue;
    const report = await m.run();
    await MigrationModel.updateOne({ _id: m.id }, { $setOnInsert: { appliedAt: new Date(), ...(report && typeof report === 'object' ? { report } : {}) } }, { upsert: true });
    applied.push(m.id);
  }
  return applied;
}
