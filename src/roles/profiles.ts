/**
 * Profiles: a name, a license (which fixes the user type) and the administrative permissions they grant.
 * Reading them needs Manage Profiles and Permission Sets, Manage Internal Users or Manage Sites (user and
 * site admins pick profiles); changing them needs Manage Profiles and Permission Sets.
 * Rules: the license decides the user type (internal licenses hold internal profiles; a license that
 * needs a contact holds profiles of its own user type; a contactless license such as External Identity
 * holds customer and partner profiles); administrative permissions belong to internal profiles only;
 * a profile users hold can't be deleted or moved to another license; standard profiles keep their name
 * and can't be deleted. Every edit names the version it started from (one conditional update), and
 * none may lock the portal out (lockout.ts).
 */
import { trusted, Types } from 'mongoose';
import {
  LicenseModel,
  ProfileModel,
  SiteModel,
  UserModel,
  type License,
  type ProfileDoc,
  type UserType,
} from '../data/models';
import { duplicateKeyField } from '../data/errors';
import { PROFILE_NAMES } from '../data/seed';
import type { Actor, RequestContext } from '../access';
import { recordAudit } from '../audit';
import { ConflictError, NotFoundError, ValidationError } from '../shared/errors';
import {
  withNoLockOut,
  assertAnyPermission,
  assertPermission,
  assertCanChangeGrant,
  holdersOfProfile,
  parsePermissionNames,
  permissionNames,
} from '../access';
import { concurrentChange } from './permission-sets';
import { isObjectIdString } from '../shared/ids';
import { MSG } from '../shared/messages';

const STANDARD = new Set<string>(Object.values(PROFILE_NAMES));

export interface ProfileInput {
  name: string;
  licenseId: string;
  userType?: string;
  permissions?: unknown;
}

/** Every profile with its license, for serialising names; callers check permissions themselves. */
export async function profileCatalog() {
  const [profiles, licenses] = await Promise.all([
    ProfileModel.find().sort({ name: 1 }).lean(),
    LicenseModel.find().lean(),
  ]);
  const byId = new Map(licenses.map((l) => [String(l._id), l]));
  return profiles.map((p) => ({ profile: p, license: byId.get(String(p.license)) ?? null }));
}

export async function listProfiles(actor: Actor) {
  assertAnyPermission(actor, ['manageProfiles', 'manageInternalUsers', 'manageSites']);
  const rows = await profileCatalog();
  const counts = await UserModel.aggregate<{ _id: Types.ObjectId; n: number }>([
    { $group: { _id: '$profile', n: { $sum: 1 } } },
  ]);
  const byId = new Map(counts.map((c) => [String(c._id), c.n]));
  return rows.map((r) => ({
    ...r,
    users: byId.get(String(r.profile._id)) ?? 0,
    standard: STANDARD.has(r.profile.name),
  }));
}

export async function findProfile(id: string, actor: Actor) {
  assertAnyPermission(actor, ['manageProfiles', 'manageInternalUsers', 'manageSites']);
  const profile = isObjectIdString(id) ? await ProfileModel.findById(id).lean() : null;
  if (!profile) throw new NotFoundError(MSG.noProfile);
  const [license, users] = await Promise.all([
    LicenseModel.findById(profile.license).lean(),
    UserModel.countDocuments({ profile: profile._id }),
  ]);
  return { profile, license, users, standard: STANDARD.has(profile.name) };
}

/** The user types a license's profiles may have. */
export function userTypesFor(license: Pick<License, 'userType' | 'requiresContact'>): UserType[] {
  if (license.userType === 'internal') return ['internal'];
  return license.requiresContact ? [license.userType] : ['customer', 'partner'];
}

async function licenseAndType(licenseId: string, userType: string | undefined) {
  const license = isObjectIdString(licenseId) ? await LicenseModel.findById(licenseId).lean() : null;
  if (!license) throw new ValidationError(MSG.fieldsNeedAttention, { licenseId: 'Choose a license.' });
  const allowed = userTypesFor(license);
  const type = (userType || allowed[0]) as UserType;
  if (!allowed.includes(type)) {
    throw new ValidationError(MSG.fieldsNeedAttention, {
      userType: `The ${license.name} license is for ${allowed.join(' or ')} users; a ${type} profile can't use it.`,
    });
  }
  return { license, userType: type };
}

function validName(name: unknown): string {
  if (typeof name !== 'string' || !name.trim())
    throw new ValidationError(MSG.fieldsNeedAttention, { name: 'Name the profile.' });
  if (name.trim().length > 80) throw new ValidationError(MSG.fieldsNeedAttention, { name: MSG.atMostCharacters(80) });
  return name.trim();
}

function checkedPermissions(value: unknown, userType: UserType) {
  const permissions = parsePermissionNames(value);
  if (userType !== 'internal' && permissionNames(permissions).length) {
    throw new ValidationError(MSG.fieldsNeedAttention, {
      permissions:
        'Administrative permissions belong to internal profiles; external users never sign in to the admin area.',
    });
  }
  return permissions;
}

const nameTaken = () =>
  new ConflictError(
    'Another profile has this name.',
    { name: 'Another profile has this name; choose another.' },
    'name_taken',
  );

function label(p: { _id: Types.ObjectId; name: string }) {
  return { type: 'Profile', id: p._id, label: p.name };
}

function summary(p: { name: string; license: Types.ObjectId; userType: string; permissions?: unknown }) {
  return {
    name: p.name,
    license: String(p.license),
    userType: p.userType,
    permissions: permissionNames(p.permissions as Record<string, boolean>),
  };
}

export async function createProfile(input: ProfileInput, ctx: RequestContext & { actor: Actor }): Promise<ProfileDoc> {
  assertPermission(ctx.actor, 'manageProfiles');
  const name = validName(input.name);
  const { license, userType } = await licenseAndType(input.licenseId, input.userType);
  const permissions = checkedPermissions(input.permissions, userType);
  await assertCanChangeGrant(ctx.actor, { name, permissions: {} }, permissions, 'profile', null);
  try {
    const profile = await ProfileModel.create({ name, license: license._id, userType, permissions });
    await recordAudit(ctx, { action: 'profile.created', target: label(profile), after: summary(profile) });
    return profile;
  } catch (err) {
    if (duplicateKeyField(err) === 'name') throw nameTaken();
    throw err;
  }
}

/** A copy of a profile (license, user type, permissions) under a new name. */
export async function cloneProfile(
  id: string,
  name: unknown,
  ctx: RequestContext & { actor: Actor },
): Promise<ProfileDoc> {
  assertPermission(ctx.actor, 'manageProfiles');
  const { profile } = await findProfile(id, ctx.actor);
  const newName = validName(name);
  await assertCanChangeGrant(ctx.actor, { name: newName, permissions: {} }, profile.permissions, 'profile', null);
  try {
    const copy = await ProfileModel.create({
      name: newName,
      license: profile.license,
      userType: profile.userType,
      permissions: profile.permissions,
    });
    await recordAudit(ctx, {
      action: 'profile.cloned',
      target: label(copy),
      before: { from: profile.name },
      after: summary(copy),
    });
    return copy;
  } catch (err) {
    if (duplicateKeyField(err) === 'name') throw nameTaken();
    throw err;
  }
}

/** Changes a profile as of `version`; a profile changed by someone else since is a 409, nothing written. */
export async function updateProfile(
  id: string,
  input: Partial<ProfileInput> & { version: unknown },
  ctx: RequestContext & { actor: Actor },
) {
  assertPermission(ctx.actor, 'manageProfiles');
  const { profile, users, standard } = await findProfile(id, ctx.actor);
  const version = Number(input.version);
  if (input.version === undefined || input.version === '' || !Number.isInteger(version)) {
    throw new ValidationError(MSG.fieldsNeedAttention, { version: MSG.sendVersion });
  }
  const set: Record<string, unknown> = {};
  if (input.name !== undefined && input.name.trim() !== profile.name) {
    if (standard)
      throw new ConflictError(
        `${profile.name} is a standard profile; its name can't change. Clone it to make your own.`,
        { name: 'Standard profiles keep their name.' },
        'standard_profile',
      );
    set.name = validName(input.name);
  }
  let userType = profile.userType as UserType;
  const licenseChanges = input.licenseId !== undefined && input.licenseId !== String(profile.license);
  if (licenseChanges || (input.userType !== undefined && input.userType !== profile.userType)) {
    if (users > 0) {
      throw new ConflictError(
        `${users} user${users === 1 ? '' : 's'} hold${users === 1 ? 's' : ''} this profile, so its license and user type can't change (their seats are counted on it).`,
        { licenseId: 'In use.' },
        'in_use',
      );
    }
    const chosen = await licenseAndType(input.licenseId ?? String(profile.license), input.userType);
    set.license = chosen.license._id;
    set.userType = userType = chosen.userType;
  }
  if (input.permissions !== undefined) set.permissions = checkedPermissions(input.permissions, userType);
  else if (userType !== 'internal' && permissionNames(profile.permissions).length)
    set.permissions = checkedPermissions([], userType);
  await assertCanChangeGrant(
    ctx.actor,
    profile,
    (set.permissions as Record<string, boolean>) ?? profile.permissions,
    'profile',
    holdersOfProfile(profile._id),
  );
  const write = async () => {
    let written;
    try {
      written = await ProfileModel.findOneAndUpdate(
        { _id: profile._id, version },
        { $set: set, $inc: { version: 1 } },
        { returnDocument: 'after' },
      ).lean();
    } catch (err) {
      if (duplicateKeyField(err) === 'name') throw nameTaken();
      throw err;
    }
    if (!written) throw concurrentChange('profile');
    return written;
  };
  let updated;
  if (set.permissions || set.userType) {
    const after = userType === 'internal' ? ((set.permissions as Record<string, boolean>) ?? profile.permissions) : {};
    const old = Object.fromEntries(Object.keys(set).map((k) => [k, (profile as Record<string, unknown>)[k]]));
    updated = await withNoLockOut(
      { profile: { id: profile._id, permissions: after } },
      'This change to the profile',
      write,
      async (written) => {
        await ProfileModel.updateOne(
          { _id: profile._id, version: written.version },
          { $set: old, $inc: { version: 1 } },
        );
      },
    );
  } else {
    updated = await write();
  }
  await recordAudit(ctx, {
    action: 'profile.updated',
    target: label(updated),
    before: summary(profile),
    after: summary(updated),
  });
  return updated;
}

/** Deletes a profile nobody holds (409 naming how many do), that no site registers with; sites drop it as a member. */
export async function deleteProfile(id: string, ctx: RequestContext & { actor: Actor }): Promise<void> {
  assertPermission(ctx.actor, 'manageProfiles');
  const { profile, users, standard } = await findProfile(id, ctx.actor);
  await assertCanChangeGrant(ctx.actor, profile, null, 'profile', holdersOfProfile(profile._id));
  if (users > 0) {
    throw new ConflictError(
      `${users} user${users === 1 ? '' : 's'} hold${users === 1 ? 's' : ''} this profile; move them to another profile before deleting it.`,
      {},
      'in_use',
    );
  }
  if (standard)
    throw new ConflictError(`${profile.name} is a standard profile and can't be deleted.`, {}, 'standard_profile');
  const registering = await SiteModel.find({ registrationProfile: profile._id }).select('name').lean();
  if (registering.length) {
    throw new ConflictError(
      `Sites register new users with this profile (${registering.map((s) => s.name).join(', ')}); choose another registration profile there first.`,
      {},
      'in_use',
    );
  }
  // Deleted only while still unused: a user given this profile meanwhile keeps it valid.
  const res = await ProfileModel.deleteOne({ _id: profile._id });
  if (res.deletedCount !== 1) throw new NotFoundError(MSG.noProfile);
  if (await UserModel.exists({ profile: profile._id })) {
    await ProfileModel.create(profile);
    throw new ConflictError('A user was given this profile meanwhile; it was not deleted.', {}, 'in_use');
  }
  await SiteModel.updateMany({ 'members.profiles': profile._id }, { $pull: { 'members.profiles': profile._id } });
  for (const site of await SiteModel.find({ 'pages.audience.profiles': profile._id })) {
    for (const page of site.pages)
      page.audience!.profiles = page.audience!.profiles.filter((p) => !p.equals(profile._id));
    await site.save();
  }
  await recordAudit(ctx, { action: 'profile.deleted', target: label(profile), before: summary(profile) });
}

/** The profile a user created without one gets: External Identity User, so the user is contactless. */
export async function defaultProfileId() {
  const profile = await ProfileModel.findOne({ name: PROFILE_NAMES.externalIdentityUser }).select('_id').lean();
  if (!profile) throw new NotFoundError('The External Identity User profile is missing; send a profileId.');
  return profile._id;
}

/** Profiles with their licenses for pickers (membership, audiences, internal users' profile). */
export async function profilesOfType(types: UserType[]) {
  return ProfileModel.find({ userType: trusted({ $in: types }) })
    .sort({ name: 1 })
    .lean();
}
