/**
 * The first administrator. There is never an account with a default password: either ADMIN_USERNAME +
 * ADMIN_PASSWORD (or `npm run admin:create`) creates one, or the start-up log prints a one-time setup
 * link (single use, expiring) with which the first visitor creates one.
 */
import crypto from 'node:crypto';
import { trusted } from 'mongoose';
import { ProfileModel, SetupTokenModel, UserModel, type UserDoc } from '../data/models';
import { PROFILE_NAMES } from '../data/seed';
import { systemContext } from '../access';
import { ConflictError, NotFoundError } from '../shared/errors';
import { createUser } from './users';
import { normaliseUsername } from '../shared/username';
import { MSG } from '../shared/messages';

export const SETUP_TOKEN_TTL_MS = 60 * 60 * 1000;

export interface NewAdminInput {
  username: string;
  password: string;
  firstName?: string;
  lastName?: string;
  email?: string;
}

const sha256 = (value: string) => crypto.createHash('sha256').update(value).digest('hex');

/** True when an active internal user can manage internal users. */
export async function administratorExists(): Promise<boolean> {
  const adminProfiles = await ProfileModel.find({ userType: 'internal', 'permissions.manageInternalUsers': true })
    .select('_id')
    .lean();
  if (adminProfiles.length === 0) return false;
  const ids = adminProfiles.map((p) => p._id);
  return (await UserModel.countDocuments({ profile: trusted({ $in: ids }), isActive: true })) > 0;
}

/** Creates a System Administrator; with `onlyIfMissing`, an existing username is left untouched. */
export async function createAdministrator(
  input: NewAdminInput,
  opts: { onlyIfMissing?: boolean } = {},
): Promise<UserDoc | null> {
  const username = normaliseUsername(input.username);
  if (opts.onlyIfMissing && (await UserModel.exists({ username }))) return null;
  const profile = await ProfileModel.findOne({ name: PROFILE_NAMES.systemAdministrator }).lean();
  if (!profile)
    throw new NotFoundError('The System Administrator profile is missing; start the portal once to seed it.');
  return createUser(
    {
      username,
      email: input.email ?? username,
      firstName: input.firstName ?? '',
      lastName: input.lastName || 'Administrator',
      profileId: profile._id,
      password: input.password,
    },
    systemContext,
  );
}

/** Issues a one-time setup token (only its hash is stored) and returns the plain token. */
export async function issueSetupToken(now: Date = new Date()): Promise<string> {
  const token = crypto.randomBytes(32).toString('base64url');
  await SetupTokenModel.create({ hash: sha256(token), expiresAt: new Date(now.getTime() + SETUP_TOKEN_TTL_MS) });
  return token;
}

/** True when the token is known, unused and unexpired (the setup form is shown). */
export async function setupTokenIsValid(token: unknown, now: Date = new Date()): Promise<boolean> {
  if (typeof token !== 'string' || token.length > 200) return false;
  const found = await SetupTokenModel.findOne({ hash: sha256(token), usedAt: null }).lean();
  return Boolean(found && found.expiresAt > now);
}

/**
 * Creates the first administrator with a setup token. The token is claimed first with a conditional
 * update so two visitors racing with one link cannot both succeed; it is released if creation fails.
 */
export async function completeSetup(token: unknown, input: NewAdminInput, now: Date = new Date()): Promise<UserDoc> {
  if (typeof token !== 'string' || !(await setupTokenIsValid(token, now))) {
    throw new NotFoundError(MSG.setupLinkInvalid);
  }
  if (await administratorExists())
    throw new ConflictError('An administrator already exists; sign in instead.', {}, 'already_set_up');
  const claimed = await SetupTokenModel.updateOne({ hash: sha256(token), usedAt: null }, { $set: { usedAt: now } });
  if (claimed.modifiedCount !== 1) throw new NotFoundError('This setup link was just used. Sign in instead.');
  try {
    return (await createAdministrator(input))!;
  } catch (err) {
    await SetupTokenModel.updateOne({ hash: sha256(token) }, { $set: { usedAt: null } });
    throw err;
  }
}
