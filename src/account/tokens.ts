/**
 * Links sent by mail carry a token: 32 random bytes (base64url, 43 characters), stored only as its
 * SHA-256, for one purpose and one user, expiring, and usable once. Consuming it is one conditional
 * update (unused and unexpired -> used), so of two requests racing with one link exactly one wins.
 */
import crypto from 'node:crypto';
import { trusted, type Types } from 'mongoose';
import { ActionTokenModel, UserModel, type TokenPurpose, type UserDoc } from '../data/models';
import { InvalidLinkError } from '../shared/errors';

const TOKEN_SHAPE = /^[A-Za-z0-9_-]{43}$/;
const sha256 = (value: string) => crypto.createHash('sha256').update(value).digest('hex');

export interface IssuedToken {
  token: string;
  expiresAt: Date;
}

/** Issues a token; earlier unused tokens of the same purpose for the user stop working. */
export async function issueToken(
  purpose: TokenPurpose,
  userId: Types.ObjectId,
  ttlMs: number,
  opts: { now?: Date; email?: string } = {},
): Promise<IssuedToken> {
  const now = opts.now ?? new Date();
  const token = crypto.randomBytes(32).toString('base64url');
  const expiresAt = new Date(now.getTime() + ttlMs);
  await ActionTokenModel.deleteMany({ user: userId, purpose, usedAt: null });
  await ActionTokenModel.create({ purpose, user: userId, hash: sha256(token), expiresAt, email: opts.email ?? null });
  return { token, expiresAt };
}

const MESSAGES: Record<TokenPurpose, string> = {
  reset: 'Ask for a new password reset link from the log in page.',
  invite: 'Ask your administrator to send you a new invitation.',
  verify: 'Sign in and ask for a new verification link.',
  'email-change': 'Sign in and change your email address again.',
  'identity-link': 'Start again with the Continue with button on the log in page, in the same browser.',
};

function refuse(purpose: TokenPurpose, reason: 'used' | 'expired' | 'invalid'): never {
  const what =
    reason === 'used'
      ? 'This link has already been used.'
      : reason === 'expired'
        ? 'This link has expired.'
        : 'This link is not valid. Check that you copied all of it.';
  throw new InvalidLinkError(reason, `${what} ${MESSAGES[purpose]}`);
}

export interface TokenHolder {
  tokenId: Types.ObjectId;
  user: UserDoc;
  email: string | null;
  hash: string;
}

/**
 * Checks a token without using it (the form behind the link is shown): well-formed, known, of this
 * purpose, unused, unexpired, and its user still active. Throws InvalidLinkError otherwise.
 */
export async function peekToken(
  purpose: TokenPurpose,
  token: unknown,
  now: Date = new Date(),
  opts: { selectUser?: string } = {},
): Promise<TokenHolder> {
  if (typeof token !== 'string' || !TOKEN_SHAPE.test(token)) refuse(purpose, 'invalid');
  const hash = sha256(token);
  const found = await ActionTokenModel.findOne({ hash, purpose }).lean();
  if (!found) refuse(purpose, 'invalid');
  if (found.usedAt) refuse(purpose, 'used');
  if (found.revokedAt)
    throw new InvalidLinkError(
      'used',
      `This link was cancelled: the account's password or sign-ins changed after it was sent. ${MESSAGES[purpose]}`,
    );
  if (found.expiresAt <= now) refuse(purpose, 'expired');
  const query = UserModel.findById(found.user);
  if (opts.selectUser) query.select(opts.selectUser);
  const user = await query;
  // A deactivated (or deleted) user's links stop working; said as plainly as a used link.
  if (!user || !user.isActive)
    throw new InvalidLinkError('used', `This link can no longer be used. ${MESSAGES[purpose]}`);
  return { tokenId: found._id, user, email: found.email ?? null, hash };
}

/** Uses a token checked by peekToken: exactly one caller wins; the others get "already used". */
export async function consumeToken(purpose: TokenPurpose, holder: TokenHolder, now: Date = new Date()): Promise<void> {
  const res = await ActionTokenModel.updateOne(
    { _id: holder.tokenId, purpose, usedAt: null, revokedAt: null, expiresAt: trusted({ $gt: now }) },
    { $set: { usedAt: now } },
  );
  if (res.modifiedCount !== 1) refuse(purpose, 'used');
}

/**
 * Cancels every link of the user still outstanding (reset, invitation, verification, email change):
 * called whenever the account's security changes (password changed or reset, other sessions ended, an
 * admin's reset), so a link asked for by someone who knew the old password, such as an email change to
 * their own address, dies with it. Returns how many were cancelled.
 */
export async function revokeOutstandingLinks(userId: Types.ObjectId, now: Date = new Date()): Promise<number> {
  const res = await ActionTokenModel.updateMany(
    { user: userId, usedAt: null, revokedAt: null },
    { $set: { revokedAt: now } },
  );
  return res.modifiedCount;
}

/** Gives a consumed token back when the change it allowed could not be written (nothing half-done). */
export async function releaseToken(holder: TokenHolder): Promise<void> {
  await ActionTokenModel.updateOne({ _id: holder.tokenId }, { $set: { usedAt: null } });
}
