/**
 * Data migrations for installations that existed before a feature: each has a name, runs at start
 * (after the seed) unless the database records it as applied, and is idempotent, so two instances
 * starting together, or a crash before the record is written, only repeat work that changes nothing.
 */
import { trusted } from 'mongoose';
import { LicenseModel, MigrationModel, ProfileModel, SiteModel, UserModel } from './models';
import { searchTermsOf } from '../users';
import { COMMUNITY_LICENSES, COMMUNITY_PAGE, DEFAULT_SITE_SLUG } from './seed';

interface Migration { id: string; run(): Promise<unknown> }

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
];

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
    await m.run();
    await MigrationModel.updateOne({ _id: m.id }, { $setOnInsert: { appliedAt: new Date() } }, { upsert: true });
    applied.push(m.id);
  }
  return applied;
}
