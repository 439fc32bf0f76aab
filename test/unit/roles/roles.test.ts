/**
 * Profiles, permission sets and the no-lock-out rule against a real database: effective permissions
 * are the profile's plus the sets', bad input is refused with nothing saved, concurrent edits of one
 * profile are refused, and no change takes the last user who can manage internal users and profiles.
 */
import { startTestApp, type TestApp } from '../../helpers/app';
import { makeAdmin, makeStaff } from '../../helpers/admin';
import {
  AuditEventModel,
  LicenseModel,
  PermissionSetModel,
  ProfileModel,
  SiteModel,
  UserModel,
} from '../../../src/data/models';
import { loadActor, systemContext, type Actor } from '../../../src/access/actor';
import {
  assignPermissionSet,
  createPermissionSet,
  deletePermissionSet,
  removePermissionSet,
  updatePermissionSet,
} from '../../../src/roles/permission-sets';
import { cloneProfile, createProfile, deleteProfile, updateProfile } from '../../../src/roles/profiles';
import { changeInternalProfile, setUserActive } from '../../../src/qualification/qualification';
import { keyAdministrators } from '../../../src/access/lockout';
import { ConflictError, ForbiddenError, ValidationError } from '../../../src/shared/errors';
import { runMigrations } from '../../../src/data/migrations';
import mongoose, { trusted, type Types } from 'mongoose';
import { findSiteBySlug, registerContactlessUser } from '../../../src/registration/registration';
import { createUser } from '../../../src/users/users';
import { createSite } from '../../../src/sites/sites';

let t: TestApp;
let admin: Actor;
const ctx = () => ({ actor: admin, ip: '127.0.0.1', via: 'admin' as const });
beforeAll(async () => {
  t = await startTestApp('domain-roles');
  admin = (await loadActor((await makeAdmin())!._id))!;
});
afterAll(() => t.stop());

const internalLicense = async () => String((await LicenseModel.findOne({ userType: 'internal' }).lean())!._id);
async function rejects<E>(p: Promise<unknown>, type: new (...a: never[]) => E): Promise<E> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(type);
  return err as E;
}

describe('effective permissions', () => {
  it("are the profile's plus every assigned permission set's, and change at the next load", async () => {
    const staff = await makeStaff('effective@example.com', ['manageInternalUsers']);
    const before = (await loadActor(staff._id))!;
    expect(before.permissions.manageInternalUsers).toBe(true);
    expect(before.permissions.manageCustomerUsers).toBe(false);
    const set = await createPermissionSet(
      { name: 'Customer care', permissions: ['manageCustomerUsers', 'viewAuditTrail'] },
      ctx(),
    );
    await assignPermissionSet(String(staff._id), String(set._id), ctx());
    const after = (await loadActor(staff._id))!;
    expect(after.permissions).toMatchObject({
      manageInternalUsers: true,
      manageCustomerUsers: true,
      viewAuditTrail: true,
      manageSites: false,
    });
    const audit = await AuditEventModel.findOne({
      action: 'user.permission_set_assigned',
      'target.id': staff._id,
    }).lean();
    expect(audit!.after).toMatchObject({ permissionSet: 'Customer care' });
    await removePermissionSet(String(staff._id), String(set._id), ctx());
    expect((await loadActor(staff._id))!.permissions.manageCustomerUsers).toBe(false);
    expect(
      await AuditEventModel.countDocuments({ action: 'user.permission_set_removed', 'target.id': staff._id }),
    ).toBe(1);
  });

  it('refuses unknown permission names and saves nothing', async () => {
    const err = await rejects(
      createPermissionSet({ name: 'Typo', permissions: ['manageInternalUser', 'loginAs'] }, ctx()),
      ValidationError,
    );
    expect(err.fields.permissions).toMatch(/Unknown permission: manageInternalUser/);
    expect(await PermissionSetModel.exists({ name: 'Typo' })).toBeNull();
    const err2 = await rejects(
      createProfile({ name: 'Typo profile', licenseId: await internalLicense(), permissions: ['rootAccess'] }, ctx()),
      ValidationError,
    );
    expect(err2.fields.permissions).toMatch(/rootAccess/);
    expect(await ProfileModel.exists({ name: 'Typo profile' })).toBeNull();
  });

  it('permission sets go to internal users only, and need Manage Profiles and Permission Sets', async () => {
    const set = await createPermissionSet({ name: 'Only staff', permissions: ['loginAs'] }, ctx());
    const external = await registerContactlessUser(
      await findSiteBySlug('portal'),
      { firstName: 'E', lastName: 'Xt', email: 'ext@example.com', password: 'violet-harbor-tractor-91' },
      {},
    );
    await rejects(assignPermissionSet(String(external._id), String(set._id), ctx()), ConflictError);
    const userManager = (await loadActor(
      (await makeStaff('um@example.com', ['manageInternalUsers', 'manageCustomerUsers']))._id,
    ))!;
    const staff = await makeStaff('target@example.com', []);
    const refused = await rejects(
      assignPermissionSet(String(staff._id), String(set._id), { actor: userManager, via: 'admin' }),
      ForbiddenError,
    );
    expect(refused.permission).toBe('manageProfiles');
    expect((await UserModel.findById(staff._id).lean())!.permissionSets).toEqual([]);
  });
});

describe('profiles', () => {
  it('the license fixes the user type; a profile on a license of another user type is refused', async () => {
    const community = (await LicenseModel.findOne({ name: 'Customer Community' }).lean())!;
    const p = await createProfile({ name: 'Community Plus Helpers', licenseId: String(community._id) }, ctx());
    expect(p.userType).toBe('customer');
    const err = await rejects(
      createProfile({ name: 'Wrong type', licenseId: String(community._id), userType: 'partner' }, ctx()),
      ValidationError,
    );
    expect(err.fields.userType).toMatch(/Customer Community license is for customer users/);
    const internalOnExternal = await rejects(
      createProfile(
        {
          name: 'Staff on EI',
          licenseId: String((await LicenseModel.findOne({ name: 'External Identity' }).lean())!._id),
          userType: 'internal',
        },
        ctx(),
      ),
      ValidationError,
    );
    expect(internalOnExternal.fields.userType).toBeDefined();
    const perms = await rejects(
      createProfile({ name: 'External admin', licenseId: String(community._id), permissions: ['manageSites'] }, ctx()),
      ValidationError,
    );
    expect(perms.fields.permissions).toMatch(/internal profiles/);
    expect(
      await ProfileModel.countDocuments({ name: trustedIn(['Wrong type', 'Staff on EI', 'External admin']) }),
    ).toBe(0);
  });

  it('clones, edits with a version check, and refuses a concurrent edit without writing it', async () => {
    const base = await createProfile(
      { name: 'Support base', licenseId: await internalLicense(), permissions: ['manageInternalUsers'] },
      ctx(),
    );
    const copy = await cloneProfile(String(base._id), 'Support copy', ctx());
    expect(copy.permissions!.manageInternalUsers).toBe(true);
    const first = await updateProfile(
      String(copy._id),
      { permissions: ['manageInternalUsers', 'manageCustomerUsers'], version: 0 },
      ctx(),
    );
    expect(first.version).toBe(1);
    const stale = await rejects(
      updateProfile(String(copy._id), { permissions: [], name: 'Renamed', version: 0 }, ctx()),
      ConflictError,
    );
    expect(stale.code).toBe('concurrent_change');
    const now = (await ProfileModel.findById(copy._id).lean())!;
    expect(now.name).toBe('Support copy');
    expect(now.permissions!.manageCustomerUsers).toBe(true);
  });

  it('a profile in use is not deleted: 409 naming how many users hold it', async () => {
    const p = await createProfile({ name: 'Held profile', licenseId: await internalLicense() }, ctx());
    await makeStaffWithProfile('held1@example.com', p._id);
    await makeStaffWithProfile('held2@example.com', p._id);
    const err = await rejects(deleteProfile(String(p._id), ctx()), ConflictError);
    expect(err.message).toMatch(/^2 users hold this profile/);
    expect(await ProfileModel.exists({ _id: p._id })).not.toBeNull();
    const free = await createProfile({ name: 'Free profile', licenseId: await internalLicense() }, ctx());
    const site = (await SiteModel.findOne({ slug: 'portal' }))!;
    site.members!.profiles.push(free._id);
    await site.save();
    await deleteProfile(String(free._id), ctx());
    expect(await ProfileModel.exists({ _id: free._id })).toBeNull();
    expect((await SiteModel.findById(site._id).lean())!.members!.profiles.some((id) => id.equals(free._id))).toBe(
      false,
    );
  });

  it('standard profiles keep their name and are never deleted', async () => {
    const ei = (await ProfileModel.findOne({ name: 'External Identity User' }).lean())!;
    expect(
      (await rejects(updateProfile(String(ei._id), { name: 'Guests', version: ei.version ?? 0 }, ctx()), ConflictError))
        .code,
    ).toBe('standard_profile');
  });
});

describe('no lock-out', () => {
  let onlyAdminId: string;
  beforeAll(async () => {
    onlyAdminId = String(admin.id);
  });

  it('counts the users who can manage internal users and profiles', async () => {
    expect(await keyAdministrators()).toBeGreaterThanOrEqual(1);
  });

  it("refuses removing Manage Profiles from the last administrators' profile, and says why", async () => {
    const sa = (await ProfileModel.findOne({ name: 'System Administrator' }).lean())!;
    const keep = await keyAdministrators();
    expect(keep).toBe(1);
    const err = await rejects(
      updateProfile(String(sa._id), { permissions: ['manageInternalUsers'], version: sa.version ?? 0 }, ctx()),
      ConflictError,
    );
    expect(err.code).toBe('lockout');
    expect(err.message).toMatch(
      /would leave the portal without an active user who can manage internal users and profiles/,
    );
    expect((await ProfileModel.findById(sa._id).lean())!.permissions!.manageProfiles).toBe(true);
  });

  it('refuses deactivating or moving the last such user to a lesser profile', async () => {
    // A lesser admin may not touch the last administrator at all (src/access); the system and the
    // administrator themselves reach the lock-out rule.
    const other = (await loadActor((await makeStaff('deactivator@example.com', ['manageInternalUsers']))._id))!;
    await rejects(setUserActive(onlyAdminId, false, { actor: other, via: 'admin' }), ForbiddenError);
    const err = await rejects(setUserActive(onlyAdminId, false, systemContext), ConflictError);
    expect(err.code).toBe('lockout');
    expect((await UserModel.findById(onlyAdminId).lean())!.isActive).toBe(true);
    const standard = (await ProfileModel.findOne({ name: 'Standard User' }).lean())!;
    const moved = await rejects(changeInternalProfile(onlyAdminId, String(standard._id), ctx()), ConflictError);
    expect(moved.message).toMatch(/Moving this user to that profile would leave the portal without/);
    expect((await UserModel.findById(onlyAdminId).lean())!.profile.equals(standard._id)).toBe(false);
  });

  it('refuses removing or emptying the last permission set that makes someone an administrator', async () => {
    // A second administrator through a set; the first one is then moved away; the set becomes the last way.
    const set = await createPermissionSet(
      { name: 'Admin rights', permissions: ['manageInternalUsers', 'manageProfiles'] },
      ctx(),
    );
    const second = await makeStaff('second-admin@example.com', []);
    await assignPermissionSet(String(second._id), String(set._id), ctx());
    expect(await keyAdministrators()).toBe(2);
    const secondActor = (await loadActor(second._id))!;
    const standard = (await ProfileModel.findOne({ name: 'Standard User' }).lean())!;
    // The first administrator steps down themselves (the second, holding less, may not move them).
    await rejects(
      changeInternalProfile(onlyAdminId, String(standard._id), { actor: secondActor, via: 'admin' }),
      ForbiddenError,
    );
    await changeInternalProfile(onlyAdminId, String(standard._id), ctx());
    expect(await keyAdministrators()).toBe(1);
    const removal = await rejects(
      removePermissionSet(String(second._id), String(set._id), { actor: secondActor, via: 'admin' }),
      ConflictError,
    );
    expect(removal.code).toBe('lockout');
    const emptied = await rejects(
      updatePermissionSet(
        String(set._id),
        { permissions: ['manageInternalUsers'], version: 0 },
        { actor: secondActor, via: 'admin' },
      ),
      ConflictError,
    );
    expect(emptied.code).toBe('lockout');
    expect((await PermissionSetModel.findById(set._id).lean())!.permissions!.manageProfiles).toBe(true);
    const deletion = await rejects(
      deletePermissionSet(String(set._id), { actor: secondActor, via: 'admin' }),
      ConflictError,
    );
    expect(deletion.message).toMatch(/1 user holds this permission set/);
    // Back to the System Administrator: now the set may go.
    const sa = (await ProfileModel.findOne({ name: 'System Administrator' }).lean())!;
    // The second may not give System Administrator (it holds less): the CLI (system) restores it.
    await rejects(
      changeInternalProfile(onlyAdminId, String(sa._id), { actor: secondActor, via: 'admin' }),
      ForbiddenError,
    );
    await changeInternalProfile(onlyAdminId, String(sa._id), systemContext);
    await removePermissionSet(String(second._id), String(set._id), { actor: secondActor, via: 'admin' });
    expect(await keyAdministrators()).toBe(1);
  });
});

describe('migration of existing installations', () => {
  it('gives existing sites their registration profile and the community profiles as members, once', async () => {
    const ei = (await ProfileModel.findOne({ name: 'External Identity User' }).lean())!;
    await SiteModel.collection.insertOne({
      name: 'Old site',
      slug: 'old-site',
      selfRegistrationEnabled: true,
      registrationProfile: ei._id,
      pages: [],
    });
    await mongoose.connection.collection('migrations').deleteMany({});
    await runMigrations();
    const old = (await SiteModel.findOne({ slug: 'old-site' }).lean())!;
    const names = (await ProfileModel.find({ _id: trustedIn(old.members!.profiles) }).lean()).map((p) => p.name).sort();
    // Every profile of a community license (including one an admin made earlier), never a staff profile.
    expect(names).toEqual([
      'Community Plus Helpers',
      'Customer Community Plus User',
      'Customer Community User',
      'External Identity User',
      'Partner Community User',
    ]);
    // Once: a second run (a restart) changes nothing an admin has changed since.
    await SiteModel.updateOne({ slug: 'old-site' }, { $set: { 'members.profiles': [ei._id] } });
    expect(await runMigrations()).toEqual([]);
    expect((await SiteModel.findOne({ slug: 'old-site' }).lean())!.members!.profiles).toHaveLength(1);
    const created = await createSite(
      { name: 'Brand new', slug: 'brand-new', registrationProfileId: String(ei._id) },
      ctx(),
    );
    expect(created.members!.profiles).toEqual([]);
  });
});

function trustedIn(values: unknown[]): never {
  return trusted({ $in: values }) as never;
}

async function makeStaffWithProfile(username: string, profileId: Types.ObjectId) {
  return createUser(
    { username, email: username, lastName: 'Held', profileId, password: 'lantern-copper-wisdom-77' },
    { actor: null, via: 'system' },
  );
}
