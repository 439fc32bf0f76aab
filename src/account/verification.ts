/**
 * Email verification: a registrant (and anyone asking again) gets a link that proves they read mail at
 * their address. The link names the address it was sent to, so it verifies nothing once the address
 * has changed. Each site chooses whether unverified users may sign in (by default they may, with a
 * banner asking them to confirm).
 */
import { EMAIL_PATTERN, UserModel, type SiteDoc, type UserDoc } from '../data/models';
import { queueMail } from '../mail';
import { selfContext, type Actor, type RequestContext } from '../access';
import { recordAudit } from '../audit';
import { ConflictError, EmailUnverifiedError, InvalidLinkError } from '../shared/errors';
import { lifecycleSettings } from '../shared/lifecycle-settings';
import { homeAreaOf, linkUrl, type LinkArea } from './links';
import { loadUserFor } from '../access';
import { consumeToken, issueToken, peekToken } from './tokens';
import { findAccountBySignInName } from '../users';
import { siteSlugOf } from './links';

export async function sendVerificationLink(user: UserDoc, where: LinkArea, now: Date = new Date()): Promise<void> {
  const ttl = lifecycleSettings().tokens.verifyMs;
  const { token } = await issueToken('verify', user._id, ttl, { now, email: user.email });
  await queueMail(
    {
      to: user.email,
      template: 'verify-email',
      user: user._id,
      language: user.languageLocaleKey,
      siteSlug: siteSlugOf(where),
      locals: {
        name: (user.firstName || user.lastName).trim(),
        email: user.email,
        url: linkUrl(where, 'verify-email', token),
        expiresInMs: ttl,
      },
    },
    now,
  );
}

/** "Send the link again" without signing in: to the account the address names, if active and unverified. */
export async function resendVerificationByAddress(address: string, where: LinkArea): Promise<number> {
  const a = address.trim().toLowerCase();
  if (a.length > 254 || !EMAIL_PATTERN.test(a)) return 0;
  const user = await findAccountBySignInName(a);
  if (!user || !user.isActive || user.emailVerifiedAt) return 0;
  await sendVerificationLink(user, where);
  return 1;
}

/** The page behind the link: who it is for (the link is checked, not used). */
export async function checkVerificationLink(token: unknown, now: Date = new Date()) {
  const holder = await peekToken('verify', token, now);
  if (holder.email !== holder.user.email)
    throw new InvalidLinkError(
      'used',
      'This link was sent to an address your account no longer uses. Sign in and ask for a new one.',
    );
  return holder;
}

/** Confirms the address with a link: once, and only while the account still has that address. */
export async function confirmEmailWithLink(token: unknown, ip?: string, now: Date = new Date()): Promise<UserDoc> {
  const holder = await checkVerificationLink(token, now);
  await consumeToken('verify', holder, now);
  const updated = await UserModel.findOneAndUpdate(
    { _id: holder.user._id, email: holder.email },
    { $set: { emailVerifiedAt: now } },
    { returnDocument: 'after' },
  );
  if (!updated)
    throw new InvalidLinkError(
      'used',
      'This link was sent to an address your account no longer uses. Sign in and ask for a new one.',
    );
  await recordAudit(selfContext(holder.user, ip), {
    action: 'user.email_verified',
    target: { type: 'User', id: updated._id, label: updated.username },
    after: { email: updated.email },
  });
  return updated;
}

/** Refuses sign-in to a site that wants confirmed addresses, for a user who has not confirmed theirs. */
export function assertMaySignIn(
  user: Pick<UserDoc, 'emailVerifiedAt'>,
  site: Pick<SiteDoc, 'allowUnverifiedSignIn'>,
): void {
  if (site.allowUnverifiedSignIn === false && !user.emailVerifiedAt) throw new EmailUnverifiedError();
}

export async function resendVerificationAsAdmin(
  userId: string,
  ctx: RequestContext & { actor: Actor },
): Promise<UserDoc> {
  const user = await loadUserFor('edit', userId, ctx);
  if (user.emailVerifiedAt) throw new ConflictError('This email address is already verified.', {}, 'already_verified');
  if (!user.isActive) throw new ConflictError('This user is inactive; activate them first.', {}, 'user_inactive');
  await sendVerificationLink(user, await homeAreaOf(user));
  await recordAudit(ctx, {
    action: 'user.verification_sent',
    target: { type: 'User', id: user._id, label: user.username },
  });
  return user;
}
