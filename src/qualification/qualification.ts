/**
 * Qualifying registrants: add a contact (1) and associate it with the user (2), upgrade to a license
 * that requires a contact (taking a seat), or downgrade back to contactless (freeing it).
 * No multi-document transactions: each step is a conditional single-document write, and a later step
 * that fails undoes the earlier ones (no orphan contact, no leaked seat).
 */
import { Error as MongooseError, trusted, Types } from 'mongoose';
import {
  AccountModel,
  ContactModel,
  LicenseModel,
  ProfileModel,
  UserModel,
  type AccountDoc,
  type ContactDoc,
  type UserDoc,
} from '../data/models';
import { duplicateKeyField } from '../data/errors';
import { releaseSeat, takeSeat } from './seats';
import { afterUpgrade } from './upgrade-notices';
import type { RequestContext } from '../access';
import { recordAudit } from '../audit';
import { endProviderSessionsOf, revokeGrantsOfAccount } from '../oidc';
import { ConflictError, ValidationError } from '../shared/errors';
import { assertCanManage, assertCanAssign, loadUserFor, withNoLockOut } from '../access';
import { fieldErrorsOf, findUserOr404 } from '../users';
import { checkActor } from '../access';
import { parseIdField } from '../shared/ids';
import { MSG } from '../shared/messages';

export interface ContactInput {
  firstName?: string;
  lastName: string;
  email?: string;
  phone?: string;
  title?: string;
  /** An existing account, or the name of a new one. */
  accountId?: string;
  accountName?: string;
}

function label(user: UserDoc) {
  return { type: 'User', id: user._id, label: user.username };
}

/**
 * A new contact (and its account: an existing one by id, or a new one by name), validated but not
 * saved. Shared by addContactAndAssociate and by provisioning (SCIM creates users with new contacts).
 */
export async function prepareContact(
  input: ContactInput,
): Promise<{ contact: ContactDoc; account: AccountDoc; existingAccount: boolean }> {
  const accountName = input.accountName?.trim();
  if (!input.accountId && !accountName) {
    throw new ValidationError(MSG.fieldsNeedAttention, {
      accountId: 'Choose an account or type the name of a new one.',
    });
  }
  const existingAccount = input.accountId
    ? await AccountModel.findById(parseIdField(input.accountId, 'accountId'))
    : null;
  if (input.accountId && !existingAccount)
    throw new ValidationError(MSG.fieldsNeedAttention, { accountId: 'No account has this id.' });
  const account = existingAccount ?? new AccountModel({ name: accountName });

  const contact = new ContactModel({
    firstName: input.firstName ?? '',
    lastName: input.lastName,
    email: input.email || undefined,
    phone: input.phone ?? '',
    title: input.title ?? '',
    account: account._id,
  });
  const fields = {};
  for (const doc of [contact, ...(existingAccount ? [] : [account])]) {
    try {
      await doc.validate();
    } catch (err) {
      if (err instanceof MongooseError.ValidationError) Object.assign(fields, fieldErrorsOf(err));
      else throw err;
    }
  }
  if ('name' in fields) Object.assign(fields, { accountName: (fields as Record<string, string>).name });
  if (Object.keys(fields).length) throw new ValidationError(MSG.fieldsNeedAttention, fields);
  return { contact, account, existingAccount: Boolean(existingAccount) };
}

/** Creates a contact (and a new account when named) and associates it; neither half survives alone. */
export async function addContactAndAssociate(
  userId: string | Types.ObjectId,
  input: ContactInput,
  ctx: RequestContext,
): Promise<ContactDoc> {
  const user = await loadUserFor('qualify', userId, ctx);
  if (user.userType === 'internal')
    throw new ConflictError('Internal users do not have contacts.', {}, 'internal_user');
  if (user.contact) throw new ConflictError('This user already has a contact.', {}, 'already_has_contact');

  const { contact, account, existingAccount } = await prepareContact(input);
  if (!existingAccount) await account.save();
  await contact.save();
  try {
    await associate(user, contact._id);
  } catch (err) {
    // Undo in reverse order so nothing is left half-made.
    await ContactModel.deleteOne({ _id: contact._id });
    if (!existingAccount) await AccountModel.deleteOne({ _id: account._id });
    throw err;
  }
  await recordAudit(ctx, {
    action: 'user.contact_added',
    target: label(user),
    before: { contact: null },
    after: { contact: String(contact._id), account: String(account._id), accountName: account.name },
  });
  return contact;
}

/** Sets user.contact only while it is still null; the unique partial index keeps one user per contact. */
async function associate(user: UserDoc, contactId: Types.ObjectId): Promise<void> {
  try {
    const res = await UserModel.updateOne({ _id: user._id, contact: null }, { $set: { contact: contactId } });
    if (res.modifiedCount !== 1)
      throw new ConflictError('This user got a contact in the meantime.', {}, 'already_has_contact');
  } catch (err) {
    if (duplicateKeyField(err) === 'contact') {
      throw new ConflictError(MSG.contactTaken, { contactId: MSG.contactTaken }, 'contact_taken');
    }
    throw err;
  }
  user.contact = contactId;
}

/** Associates an existing contact that no other user holds. */
export async function associateContact(
  userId: string | Types.ObjectId,
  contactId: string,
  ctx: RequestContext,
): Promise<UserDoc> {
  const user = await loadUserFor('qualify', userId, ctx);
  if (user.userType === 'internal')
    throw new ConflictError('Internal users do not have contacts.', {}, 'internal_user');
  if (user.contact) throw new ConflictError('This user already has a contact.', {}, 'already_has_contact');
  const contact = await ContactModel.findById(parseIdField(contactId, 'contactId')).lean();
  if (!contact) throw new ValidationError(MSG.fieldsNeedAttention, { contactId: MSG.noContact });
  await associate(user, contact._id);
  await recordAudit(ctx, {
    action: 'user.contact_associated',
    target: label(user),
    before: { contact: null },
    after: { contact: String(contact._id) },
  });
  return user;
}

/**
 * Moves the user to another profile: a seat on the new license is taken first (conditional update),
 * then the user is switched only if nobody changed them meanwhile, then the old seat is given back.
 */
async function switchProfile(
  user: UserDoc,
  profileId: Types.ObjectId,
  set: Record<string, unknown>,
  requireContact: boolean,
): Promise<void> {
  const profile = (await ProfileModel.findById(profileId).lean())!;
  const license = (await LicenseModel.findById(profile.license).lean())!;
  const oldLicense = user.license;
  const sameLicense = oldLicense.equals(license._id);
  if (!sameLicense && !(await takeSeat(license._id))) {
    throw new ConflictError(
      `No ${license.name} seat is left. Free a seat or raise the license's total seats first.`,
      {},
      'no_seats_left',
    );
  }
  const guard: Record<string, unknown> = { _id: user._id, profile: user.profile };
  if (requireContact) guard.contact = trusted({ $ne: null });
  const res = await UserModel.updateOne(guard, {
    $set: { profile: profile._id, license: license._id, userType: profile.userType, ...set },
  });
  if (res.modifiedCount !== 1) {
    if (!sameLicense) await releaseSeat(license._id);
    throw new ConflictError(
      'This user was changed by someone else meanwhile; reload and try again.',
      {},
      'concurrent_change',
    );
  }
  if (!sameLicense) await releaseSeat(oldLicense);
}

async function loadProfileWithLicense(profileId: string | Types.ObjectId) {
  const profile = await ProfileModel.findById(parseIdField(profileId, 'profileId')).lean();
  if (!profile) throw new ValidationError(MSG.fieldsNeedAttention, { profileId: MSG.noProfile });
  const license = await LicenseModel.findById(profile.license).lean();
  if (!license) throw new ValidationError(MSG.fieldsNeedAttention, { profileId: MSG.profileLicenseGone });
  return { profile, license };
}

/** Upgrade to a profile whose license requires a contact (Customer Community, Partner Community...). */
export async function upgradeUser(
  userId: string | Types.ObjectId,
  profileId: string | Types.ObjectId,
  ctx: RequestContext,
): Promise<UserDoc> {
  const user = await loadUserFor('changeLicense', userId, ctx);
  const { profile, license } = await loadProfileWithLicense(profileId);
  if (!license.requiresContact || profile.userType === 'internal') {
    throw new ValidationError(MSG.fieldsNeedAttention, {
      profileId: 'Choose a community profile whose license requires a contact.',
    });
  }
  checkActor(ctx, (actor) =>
    assertCanManage(actor, { userType: profile.userType, contact: user.contact ?? null }, 'changeLicense'),
  );
  assertCanAssign(ctx, profile, 'profile');
  if (!user.contact) {
    throw new ConflictError(
      'This user is contactless: add or associate a contact first, then upgrade.',
      { profileId: 'A contact is needed first.' },
      'contact_required',
    );
  }
  if (user.profile.equals(profile._id)) return user;
  const before = { profile: String(user.profile), license: String(user.license) };
  await switchProfile(user, profile._id, {}, true);
  await recordAudit(ctx, {
    action: 'user.upgraded',
    target: label(user),
    before,
    after: { profile: profile.name, license: license.name },
  });
  const upgraded = await findUserOr404(user._id);
  await afterUpgrade([upgraded], profile, license);
  return upgraded;
}

/**
 * Downgrade to contactless: an External Identity profile, the contact link removed (the contact record
 * is kept for the CRM) and the community seat freed. Without a profile id, the External Identity
 * profile matching the user's type is used.
 */
export async function downgradeUser(
  userId: string | Types.ObjectId,
  profileId: string | Types.ObjectId | undefined,
  ctx: RequestContext,
): Promise<UserDoc> {
  const user = await loadUserFor('changeLicense', userId, ctx);
  let chosen = profileId ? await loadProfileWithLicense(profileId) : null;
  if (!chosen) {
    const candidates = await ProfileModel.find({ userType: user.userType }).lean();
    for (const p of candidates) {
      const l = await LicenseModel.findById(p.license).lean();
      if (l && !l.requiresContact) {
        chosen = { profile: p, license: l };
        break;
      }
    }
    if (!chosen) throw new ValidationError(MSG.fieldsNeedAttention, { profileId: MSG.chooseExternalProfile });
  }
  const { profile, license } = chosen;
  if (license.requiresContact || profile.userType === 'internal') {
    throw new ValidationError(MSG.fieldsNeedAttention, {
      profileId: 'Choose an External Identity profile (its license does not require a contact).',
    });
  }
  checkActor(ctx, (actor) => assertCanManage(actor, { userType: profile.userType, contact: null }, 'changeLicense'));
  assertCanAssign(ctx, profile, 'profile');
  if (user.userType === 'internal')
    throw new ConflictError('Internal users cannot be made contactless.', {}, 'internal_user');
  const before = {
    profile: String(user.profile),
    license: String(user.license),
    contact: user.contact ? String(user.contact) : null,
  };
  await switchProfile(user, profile._id, { contact: null }, false);
  await recordAudit(ctx, {
    action: 'user.downgraded',
    target: label(user),
    before,
    after: { profile: profile.name, license: license.name, contact: null },
  });
  return findUserOr404(user._id);
}

/** Deactivating ends every session of the user (sessionEpoch) and blocks sign-in. */
export async function setUserActive(
  userId: string | Types.ObjectId,
  active: boolean,
  ctx: RequestContext,
): Promise<UserDoc> {
  const user = await loadUserFor('setActive', userId, ctx);
  if (ctx.actor && ctx.actor.id.equals(user._id) && !active) {
    throw new ConflictError("You can't deactivate yourself.", {}, 'self_deactivation');
  }
  if (user.isActive === active) return user;
  // Activating also ends a SCIM deprovisioning (DELETE): the user is back, so SCIM sees them again.
  const write = () =>
    UserModel.updateOne(
      { _id: user._id },
      active
        ? { $set: { isActive: true, deprovisionedAt: null } }
        : { $set: { isActive: false }, $inc: { sessionEpoch: 1 } },
    );
  if (!active && user.userType === 'internal') {
    await withNoLockOut({ user: { id: user._id, isActive: false } }, 'Deactivating this user', write, async () => {
      await UserModel.updateOne({ _id: user._id, isActive: false }, { $set: { isActive: true } });
    });
  } else {
    await write();
  }
  // Every app the user signed in to loses its grants: their access and refresh tokens stop at once.
  // Their provider sessions end first, so the apps get their back-channel logout notices.
  if (!active) await endProviderSessionsOf(String(user._id));
  if (!active) await revokeGrantsOfAccount(String(user._id));
  await recordAudit(ctx, {
    action: active ? 'user.activated' : 'user.deactivated',
    target: label(user),
    before: { isActive: !active },
    after: { isActive: active },
  });
  return findUserOr404(user._id);
}

/**
 * Moves an internal user to another internal profile (their permissions change at their next request).
 * Refused when it would take the last user who can manage internal users and profiles.
 */
export async function changeInternalProfile(
  userId: string | Types.ObjectId,
  profileId: string | Types.ObjectId,
  ctx: RequestContext,
): Promise<UserDoc> {
  // An internal user's profile carries their administrative permissions: Manage Profiles, and nothing the actor lacks.
  const user = await loadUserFor('assignAccess', userId, ctx);
  if (user.userType !== 'internal') {
    throw new ConflictError(
      "An external user's profile changes by upgrading or downgrading their license.",
      {},
      'external_user',
    );
  }
  const { profile, license } = await loadProfileWithLicense(profileId);
  if (profile.userType !== 'internal') {
    throw new ValidationError(MSG.fieldsNeedAttention, {
      profileId: 'Choose an internal profile: internal users never become external users.',
    });
  }
  assertCanAssign(ctx, profile, 'profile');
  if (user.profile.equals(profile._id)) return user;
  const before = { profile: String(user.profile) };
  const oldProfile = user.profile;
  await withNoLockOut(
    { user: { id: user._id, profile: profile._id } },
    'Moving this user to that profile',
    () => switchProfile(user, profile._id, {}, false),
    async () => {
      const moved = await UserModel.findOne({ _id: user._id, profile: profile._id });
      if (moved) await switchProfile(moved, oldProfile, {}, false);
    },
  );
  await recordAudit(ctx, {
    action: 'user.profile_changed',
    target: label(user),
    before,
    after: { profile: profile.name, license: license.name },
  });
  return findUserOr404(user._id);
}
