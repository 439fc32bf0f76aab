/**
 * What an admin sees of one user and the edits delegated admins may also make: name, email and the
 * like. Password resets and invitations are links by mail (src/account/invitations.ts).
 */
import { assertLocaleSettings } from '../i18n/choices';
import { trusted, type Types } from 'mongoose';
import {
  AccountModel,
  AuditEventModel,
  ContactModel,
  LicenseModel,
  LoginEventModel,
  ProfileModel,
  SiteModel,
  UserModel,
} from '../data/models';
import type { Actor, RequestContext } from '../access';
import { recordAudit } from '../audit';
import {
  assertCanManage,
  assertUserAdministrator,
  canLoginAs,
  missingPermissions,
  loadUserFor,
  managedView,
} from '../access';
import { asEmailConflict, contactlessProfileOf } from '../registration';
import { isSiteMember } from '../sites';
import { conflictFor, createUser } from './users';
import { externalIdOf, withExternalId } from './external-ids';
import { ValidationError } from '../shared/errors';
import { PermissionSetModel } from '../data/models';
import { validateAndSave } from './save';
import { inviteNewUser } from '../account';
import { isObjectIdString } from '../shared/ids';
import { MSG } from '../shared/messages';
import { assertEmailFree } from './email-owner';

export async function userDetails(userId: string, actor: Actor) {
  const user = await loadUserFor('view', userId, { actor, via: 'admin' });
  const view = await managedView(user);
  const [profile, license, contact, site, logins, events, permissionSets] = await Promise.all([
    ProfileModel.findById(user.profile).lean(),
    LicenseModel.findById(user.license).lean(),
    user.contact ? ContactModel.findById(user.contact).lean() : null,
    user.site ? SiteModel.findById(user.site).lean() : null,
    LoginEventModel.find({ user: user._id }).sort({ at: -1 }).limit(10).lean(),
    AuditEventModel.find({ 'target.id': user._id }).sort({ at: -1 }).limit(50).lean(),
    PermissionSetModel.find({ _id: trusted({ $in: user.permissionSets ?? [] }) })
      .sort({ name: 1 })
      .lean(),
  ]);
  const hasPassword = Boolean(await UserModel.exists({ _id: user._id, passwordHash: trusted({ $type: 'string' }) }));
  const account = contact ? await AccountModel.findById(contact.account).lean() : null;
  return {
    user,
    profile,
    license,
    contact,
    account,
    site,
    logins,
    events,
    permissionSets,
    hasPassword,
    canLoginAs: canLoginAs(actor, { ...view, isActive: user.isActive }),
  };
}

export interface UserEdits {
  firstName: string;
  lastName: string;
  email: string;
  communityNickname: string;
  alias: string;
  localeSidKey: string;
  timeZoneSidKey: string;
  languageLocaleKey: string;
  emailEncodingKey: string;
  /** SCIM only (renames and the provisioning client's id); no form or REST schema offers them. */
  username: string;
  usernameAsSent: string;
  externalId: string | null;
  externalIdOwner: Types.ObjectId | null;
}

/**
 * Changes the given fields only (the admin form sends its eight, the API any of them). `fromLists`: the
 * admin form offers locale, language and time zone as lists, and a value outside them is refused (one the
 * user already has may stay); the API and SCIM keep accepting any well-formed value.
 */
export async function editUser(
  userId: string,
  edits: Partial<UserEdits>,
  ctx: RequestContext & { actor: Actor },
  opts: { fromLists?: boolean } = {},
) {
  const user = await loadUserFor('edit', userId, ctx);
  const { externalId, externalIdOwner, ...plain } = edits;
  const changed: Record<string, unknown> = Object.fromEntries(Object.entries(plain).filter(([, v]) => v !== undefined));
  const before: Record<string, unknown> = Object.fromEntries(Object.keys(changed).map((k) => [k, user.get(k)]));
  if (opts.fromLists) {
    const current = {
      localeSidKey: user.localeSidKey,
      languageLocaleKey: user.languageLocaleKey,
      timeZoneSidKey: user.timeZoneSidKey,
    };
    assertLocaleSettings(
      { ...current, ...Object.fromEntries(Object.entries(edits).filter(([k, v]) => k in current && v !== undefined)) },
      current,
    );
  }
  user.set(changed);
  // A SCIM client's externalId: only that client's own entry changes (src/users/external-ids.ts).
  if (externalId !== undefined && externalIdOwner) {
    before.externalId = externalIdOf(user.scimExternalIds, externalIdOwner);
    changed.externalId = externalId;
    user.set('scimExternalIds', withExternalId(user.scimExternalIds, externalIdOwner, externalId));
  }
  // A new address is one nobody has confirmed: whoever changed it (an admin, the API, SCIM), the owner
  // confirms it again before a site that asks for a confirmed address lets them in. The same address in
  // another case is not a change (the schema lowercases it, so it is not marked modified).
  if (user.isModified('email') && user.emailVerifiedAt) {
    before.emailVerifiedAt = user.emailVerifiedAt;
    changed.emailVerifiedAt = null;
    user.emailVerifiedAt = null;
  }
  if (user.isModified('email')) await assertEmailFree(user.email, user._id);
  await validateAndSave(user, {
    communityNickname: () => conflictFor('communityNickname'),
    username: () => conflictFor('username'),
    emailKey: () => conflictFor('emailKey'),
    'scimExternalIds.owner': () => conflictFor('externalId'),
  });
  await recordAudit(ctx, {
    action: 'user.edited',
    target: { type: 'User', id: user._id, label: user.username },
    before,
    after: changed,
  });
  return user;
}

/** Contacts not held by any user, for the "Associate contact" picker. */
export async function freeContacts(limit = 200) {
  const held = await UserModel.find({ contact: trusted({ $ne: null }) })
    .select('contact')
    .lean();
  const heldIds = held.map((u) => u.contact);
  return ContactModel.find({ _id: trusted({ $nin: heldIds }) })
    .sort({ lastName: 1 })
    .limit(limit)
    .populate('account', 'name')
    .lean();
}

export function listAccounts() {
  return AccountModel.find().sort({ name: 1 }).limit(500).lean();
}

/** Profiles an admin can upgrade to: licenses that require a contact. */
export async function upgradeProfiles() {
  const licenses = await LicenseModel.find({ requiresContact: true }).lean();
  return ProfileModel.find({ license: trusted({ $in: licenses.map((l) => l._id) }) })
    .sort({ name: 1 })
    .lean();
}

export interface NewInternalUser {
  firstName: string;
  lastName: string;
  email: string;
  username?: string;
  profileId: string;
}

/**
 * An internal user (staff) made in the admin area: an internal profile, never a contact, and a random
 * temporary password shown once to the admin, who hands it over; the user changes it after signing in.
 */
export async function createInternalUser(input: NewInternalUser, ctx: RequestContext & { actor: Actor }) {
  assertUserAdministrator(ctx.actor);
  const profile = isObjectIdString(input.profileId) ? await ProfileModel.findById(input.profileId).lean() : null;
  if (!profile || profile.userType !== 'internal')
    throw new ValidationError(MSG.fieldsNeedAttention, { profileId: 'Choose an internal profile.' });
  // No password is chosen for them: they get a set-password invitation by mail (no temporary secret to hand over).
  const user = await createUser(
    { ...input, username: input.username || input.email, profileId: profile._id, contactId: null },
    ctx,
  );
  await inviteNewUser(user, {}, ctx);
  return { user };
}

export interface NewExternalUser {
  siteId: string;
  firstName: string;
  lastName: string;
  email: string;
}

/**
 * Sites on which the actor may create external users: those whose registration profile (the contactless
 * External Identity profile new users of the site get) holds users the actor may create.
 */
export async function externalUserSites(actor: Actor) {
  if (!actor.permissions.manageInternalUsers) return [];
  const sites = await SiteModel.find().sort({ name: 1 }).select('name slug registrationProfile').lean();
  const profiles = await ProfileModel.find({ _id: trusted({ $in: sites.map((s) => s.registrationProfile) }) })
    .select('name userType')
    .lean();
  const byId = new Map(profiles.map((p) => [String(p._id), p]));
  return sites
    .map((s) => ({ ...s, profile: byId.get(String(s.registrationProfile)) ?? null }))
    .filter(
      (s) =>
        s.profile && s.profile.userType !== 'internal' && missingPermissions(actor, s.profile.userType).length === 0,
    );
}

/**
 * An external user made in the admin area: contactless, on the chosen site with its registration profile
 * (External Identity; the same rule as self-registration), no password: a set-password invitation is
 * mailed. Creating needs the rights createUser checks for that user type (as POST /api/v1/users does).
 */
export async function createExternalUser(input: NewExternalUser, ctx: RequestContext & { actor: Actor }) {
  assertUserAdministrator(ctx.actor);
  const site = isObjectIdString(input.siteId) ? await SiteModel.findById(input.siteId).lean() : null;
  if (!site) throw new ValidationError(MSG.fieldsNeedAttention, { siteId: 'Choose the site the user signs in on.' });
  const { profile, license } = await contactlessProfileOf(
    site,
    `The site ${site.name} has no External Identity registration profile; choose one in its Login & Registration settings first.`,
  );
  assertCanManage(ctx.actor, { userType: profile.userType, contact: null }, 'create');
  if (!isSiteMember(site, { profile: profile._id, license: license._id, permissionSets: [] })) {
    throw new ValidationError(MSG.fieldsNeedAttention, {
      siteId: `${profile.name} is not a member of ${site.name}, so the user could never sign in there. Add it to the site's members first, or choose another site.`,
    });
  }
  const missing: Record<string, string> = {};
  if (!input.firstName.trim()) missing.firstName = 'Enter their first name.';
  if (!input.lastName.trim()) missing.lastName = 'Enter their last name.';
  if (!input.email.trim()) missing.email = 'Enter their email address.';
  let user;
  try {
    user = await createUser(
      {
        firstName: input.firstName,
        lastName: input.lastName,
        email: input.email,
        profileId: profile._id,
        siteId: site._id,
        contactId: null,
      },
      ctx,
      missing,
    );
  } catch (err) {
    throw asEmailConflict(err, 'A user with this email already exists: find them in the list instead.');
  }
  await inviteNewUser(user, {}, ctx);
  return { user, site, profile };
}

/** Names for the user list's filters: what a user administrator may filter by. */
export async function userFilterChoices(actor: Actor) {
  assertUserAdministrator(actor);
  const [licenses, profiles, sites] = await Promise.all([
    LicenseModel.find().sort({ name: 1 }).select('name').lean(),
    ProfileModel.find().sort({ name: 1 }).select('name userType').lean(),
    SiteModel.find().sort({ name: 1 }).select('name').lean(),
  ]);
  return { licenses, profiles, sites };
}
