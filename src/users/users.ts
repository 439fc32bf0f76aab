/**
 * Creating users. One path for every channel (self-registration, admin pages, REST, bulk, SCIM):
 * validate, resolve profile and license, take a seat, insert; on any failure after the seat was taken
 * the seat is given back, so a refused user leaves nothing behind.
 */
import crypto from 'node:crypto';
import { Error as MongooseError, Types } from 'mongoose';
import {
  ContactModel,
  LicenseModel,
  ProfileModel,
  UserModel,
  emailKeyOf,
  type Contact,
  type License,
  type Profile,
  type User,
  type UserDoc,
} from '../data/models';
import { leanDocument, type ModelLike } from '../data/lean-docs';
import { duplicateKeyField } from '../data/errors';
import { releaseSeat, takeSeat } from '../qualification';
import type { RequestContext } from '../access';
import { recordAudit, type AuditEntry } from '../audit';
import { ConflictError, NotFoundError, ValidationError, type FieldErrors } from '../shared/errors';
import { hashPassword, passwordProblem } from '../signin';
import { assertCanManage, assertCanAssign } from '../access';
import { checkActor } from '../access';
import { parseIdField, parseIdOr404 } from '../shared/ids';
import { normaliseUsername } from '../shared/username';
import { MSG } from '../shared/messages';

export interface NewUserInput {
  firstName?: string;
  lastName: string;
  email: string;
  username?: string;
  alias?: string;
  communityNickname?: string;
  localeSidKey?: string;
  timeZoneSidKey?: string;
  languageLocaleKey?: string;
  emailEncodingKey?: string;
  /** Extra sign-up fields (a site's registration policy); left unset when not given. */
  phone?: string;
  companyName?: string;
  profileId: Types.ObjectId | string;
  contactId?: Types.ObjectId | string | null;
  siteId?: Types.ObjectId | string | null;
  password?: string;
  isActive?: boolean;
  /** SCIM: the userName as sent, and the client's externalId with the client (the token's admin). */
  usernameAsSent?: string;
  externalId?: string | null;
  externalIdOwner?: Types.ObjectId | null;
}

/** Strips accents and anything but letters and digits ("Zoë O'Brien" -> "zoeobrien"). */
function asciiWord(value: string): string {
  return value
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]/g, '');
}

/** Salesforce's default alias: first letter of the first name and the last name, at most 8 characters. */
export function deriveAlias(firstName: string | undefined, lastName: string): string {
  const alias = (asciiWord(firstName ?? '').slice(0, 1) + asciiWord(lastName)).slice(0, 8);
  return alias || 'user';
}

/** The nickname starts from the email's local part; a suffix is added when it is taken. */
export function deriveNickname(email: string): string {
  const local = email.split('@')[0] ?? '';
  const base = local
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/[^A-Za-z0-9._-]/g, '')
    .slice(0, 32);
  return base || 'member';
}

export function withSuffix(nickname: string): string {
  return `${nickname.slice(0, 32)}${crypto.randomInt(1000, 10000)}`;
}

/** Re-exported: the rule lives in src/shared/username.ts so throttling and search need not load this module. */
export { normaliseUsername };

export function fieldErrorsOf(err: MongooseError.ValidationError): FieldErrors {
  return Object.fromEntries(Object.entries(err.errors).map(([path, e]) => [path, e.message]));
}

export function conflictFor(field: string): ConflictError {
  if (field === 'username') {
    return new ConflictError(
      'That username is already taken.',
      { username: 'That username is already taken. Sign in instead, or choose another.' },
      'username_taken',
    );
  }
  if (field === 'communityNickname') {
    return new ConflictError(
      'That nickname is already taken.',
      { communityNickname: 'That nickname is already taken; choose another.' },
      'nickname_taken',
    );
  }
  if (field === 'contact') {
    return new ConflictError(MSG.contactTaken, { contactId: MSG.contactTaken }, 'contact_taken');
  }
  if (field === 'emailKey' || field === 'email') {
    return new ConflictError(
      'Another account already uses this email address.',
      { email: 'Another account already uses this email address.' },
      'email_taken',
    );
  }
  if (field === 'externalId' || field === 'scimExternalIds.owner') {
    return new ConflictError(
      'Another user already has this externalId.',
      { externalId: 'Another user already has this externalId.' },
      'external_id_taken',
    );
  }
  return new ConflictError('That record already exists.', {}, 'duplicate');
}

/** Where createUser reads the profile, license and contact; the bulk importer passes batch-loaded ones. */
export interface UserLookups {
  profile(id: Types.ObjectId): Promise<ProfileRecord | null>;
  license(id: Types.ObjectId): Promise<LicenseRecord | null>;
  contact(id: Types.ObjectId): Promise<ContactRecord | null>;
}
type ProfileRecord = Pick<Profile, 'name' | 'userType' | 'license'> & {
  _id: Types.ObjectId;
  permissions?: Profile['permissions'];
};
type LicenseRecord = Pick<License, 'name' | 'requiresContact'> & { _id: Types.ObjectId };
type ContactRecord = Pick<Contact, 'account'> & { _id: Types.ObjectId };

export const databaseLookups: UserLookups = {
  profile: (id) => ProfileModel.findById(id).lean(),
  license: (id) => LicenseModel.findById(id).lean(),
  contact: (id) => ContactModel.findById(id).lean(),
};

export interface PreparedUser {
  user: UserDoc;
  profile: ProfileRecord;
  license: LicenseRecord;
  contactId: Types.ObjectId | null;
  /** Field problems found by the schema; the caller adds its own and refuses when any. */
  fields: FieldErrors;
}

/**
 * Every rule of a new user short of the password, the seat and the insert: profile and license exist,
 * the contact exists and is present when the license requires one, the actor may manage such a user;
 * returns the user's fields for the schema to check. Shared by prepareUser and prepareUserRecord.
 */
async function checkedUserFields(input: NewUserInput, ctx: RequestContext, lookups: UserLookups) {
  const profile = await lookups.profile(parseIdField(input.profileId, 'profileId'));
  if (!profile) throw new ValidationError(MSG.fieldsNeedAttention, { profileId: MSG.noProfile });
  const license = await lookups.license(profile.license);
  if (!license) throw new ValidationError(MSG.fieldsNeedAttention, { profileId: MSG.profileLicenseGone });

  let contactAccount: Types.ObjectId | null = null;
  const contactId = input.contactId ? parseIdField(input.contactId, 'contactId') : null;
  if (contactId) {
    const contact = await lookups.contact(contactId);
    if (!contact) throw new ValidationError(MSG.fieldsNeedAttention, { contactId: MSG.noContact });
    contactAccount = contact.account;
  }
  if (contactId && profile.userType === 'internal') {
    throw new ConflictError(
      'Internal users never have a contact: leave the contact out, or choose an external profile.',
      { contactId: 'Internal users have no contact.' },
      'internal_user',
    );
  }
  if (license.requiresContact && !contactId) {
    throw new ConflictError(
      `The ${license.name} license requires a contact: create the user with a contact, or use an External Identity profile.`,
      { contactId: 'A contact is required for this profile.' },
      'contact_required',
    );
  }
  checkActor(ctx, (actor) =>
    assertCanManage(actor, { userType: profile.userType, contact: contactId, contactAccount }, 'create'),
  );
  assertCanAssign(ctx, profile, 'profile');

  const username = normaliseUsername(input.username ?? input.email);
  const values = {
    firstName: input.firstName ?? '',
    lastName: input.lastName,
    email: input.email,
    // Set here too, not only by the save hook: the bulk importer inserts without hooks.
    emailKey: emailKeyOf(input.email ?? ''),
    username,
    alias: input.alias ?? deriveAlias(input.firstName, input.lastName ?? ''),
    communityNickname: input.communityNickname ?? deriveNickname(input.email ?? ''),
    localeSidKey: input.localeSidKey,
    timeZoneSidKey: input.timeZoneSidKey,
    languageLocaleKey: input.languageLocaleKey,
    emailEncodingKey: input.emailEncodingKey,
    ...(input.phone ? { phone: input.phone } : {}),
    ...(input.companyName ? { companyName: input.companyName } : {}),
    profile: profile._id,
    license: license._id,
    userType: profile.userType,
    contact: contactId,
    site: input.siteId ? parseIdField(input.siteId, 'siteId') : null,
    isActive: input.isActive ?? true,
    usernameAsSent: input.usernameAsSent ?? null,
    scimExternalIds:
      input.externalId && input.externalIdOwner ? [{ owner: input.externalIdOwner, value: input.externalId }] : [],
  };
  return { values, profile, license, contactId };
}

/**
 * Every rule of a new user short of the password, the seat and the insert (checkedUserFields), and the
 * fields through the schema. Used by createUser.
 */
export async function prepareUser(
  input: NewUserInput,
  ctx: RequestContext,
  lookups: UserLookups = databaseLookups,
): Promise<PreparedUser> {
  const { values, profile, license, contactId } = await checkedUserFields(input, ctx, lookups);
  const user = new UserModel(values);
  const fields: FieldErrors = {};
  try {
    await user.validate();
  } catch (err) {
    if (err instanceof MongooseError.ValidationError) Object.assign(fields, fieldErrorsOf(err));
    else throw err;
  }
  return { user, profile, license, contactId, fields };
}

/** A new user as the schema stores it, without a mongoose document (the bulk importer inserts it as is). */
export type UserRecord = Omit<User, 'createdAt' | 'updatedAt'> & { _id: Types.ObjectId };

export interface PreparedUserRecord extends Omit<PreparedUser, 'user'> {
  user: UserRecord;
}

/**
 * The same rules and the same schema checks as prepareUser, for the bulk importer: the fields are cast,
 * defaulted and validated by the schema without building a document per user (src/data/lean-docs.ts),
 * and the user gets the given `_id`.
 */
export async function prepareUserRecord(
  input: NewUserInput,
  ctx: RequestContext,
  lookups: UserLookups,
  id: Types.ObjectId,
): Promise<PreparedUserRecord> {
  const { values, profile, license, contactId } = await checkedUserFields(input, ctx, lookups);
  const { doc, error } = await leanDocument(UserModel as unknown as ModelLike, { ...values, _id: id });
  return { user: doc as UserRecord, profile, license, contactId, fields: error ? fieldErrorsOf(error) : {} };
}

/** Creates a user (contactless unless a contact is given). Checks the actor's rights when there is one. */
/**
 * `precheck` carries field errors the caller found first (a missing required field of its form): they
 * are reported together with this function's own, so the person sees every problem at once.
 */
export async function createUser(
  input: NewUserInput,
  ctx: RequestContext,
  precheck: FieldErrors = {},
): Promise<UserDoc> {
  const { user, profile, license, contactId, fields } = await prepareUser(input, ctx);
  const username = user.username;
  if (input.password !== undefined) {
    const problem = passwordProblem(input.password, [
      input.firstName ?? '',
      input.lastName ?? '',
      input.email ?? '',
      username,
    ]);
    if (problem) fields.password = problem;
  }
  Object.assign(fields, precheck);
  if (Object.keys(fields).length) throw new ValidationError(MSG.fieldsNeedAttention, fields);
  // A taken username is found before the password is hashed: registration counts these conflicts per
  // IP (they tell who has an account), and a burst of them must cost no argon2 work. The unique index
  // still decides a race between two new users below.
  if (await UserModel.exists({ username })) throw conflictFor('username');
  // One address, one account (src/users/email-owner.ts); the unique index on emailKey decides a race.
  if (await UserModel.exists({ emailKey: emailKeyOf(user.email) })) throw conflictFor('emailKey');
  if (input.password !== undefined) {
    user.passwordHash = await hashPassword(input.password);
    user.passwordChangedAt = new Date();
  }

  if (!(await takeSeat(license._id))) {
    throw new ConflictError(
      `No ${license.name} seat is left. Free a seat or raise the license's total seats.`,
      {},
      'no_seats_left',
    );
  }
  try {
    await insertWithUniqueNickname(user, input.communityNickname === undefined);
  } catch (err) {
    await releaseSeat(license._id);
    const field = duplicateKeyField(err);
    if (field) throw conflictFor(field);
    throw err;
  }
  await recordAudit(ctx, {
    ...userCreatedEntry(user, profile.name, contactId),
    action: ctx.via === 'site' ? 'user.registered' : 'user.created',
  });
  return user;
}

/** The audit entry of a new user, for every channel (the bulk importer writes a batch of them at once). */
export function userCreatedEntry(
  user: { _id: Types.ObjectId; username: string; isActive: boolean },
  profileName: string,
  contactId: Types.ObjectId | null,
): AuditEntry {
  return {
    action: 'user.created',
    target: { type: 'User', id: user._id, label: user.username },
    after: {
      username: user.username,
      profile: profileName,
      contact: contactId ? String(contactId) : null,
      isActive: user.isActive,
    },
  };
}

/** A derived nickname that collides gets a random suffix; a chosen one is reported as taken. */
async function insertWithUniqueNickname(user: UserDoc, derived: boolean): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      await user.save({ validateBeforeSave: false });
      return;
    } catch (err) {
      if (!derived || attempt >= 6 || duplicateKeyField(err) !== 'communityNickname') throw err;
      user.communityNickname = withSuffix(deriveNickname(user.email));
      user.isNew = true;
    }
  }
}

export async function findUserOr404(id: string | Types.ObjectId): Promise<UserDoc> {
  const user = await UserModel.findById(parseIdOr404(id, MSG.noUser));
  if (!user) throw new NotFoundError(MSG.noUser);
  return user;
}
