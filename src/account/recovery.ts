/**
 * Password recovery and invitations: a link by mail with which a person sets a password.
 *
 * Asking for a reset link tells nothing: the caller answers the same whatever happens here, and only
 * the one active account whose username (else email) is the address gets a mail (staff only, from the admin area).
 * Setting the password with a link follows the password policy, proves the mailbox (the email becomes
 * verified), ends every session of the user (the session epoch moves), cancels the user's other
 * outstanding links (a pending email change included), and is audited. The link is
 * consumed by one conditional update after every check has passed, so a refused password leaves the
 * link usable, and of two requests racing with one link exactly one sets its password.
 */
import { EMAIL_PATTERN, UserModel, type UserDoc } from '../data/models';
import { queueMail } from '../mail';
import type { MailTemplate } from '../mail';
import { selfContext } from '../access';
import { recordAudit } from '../audit';
import { findAccountBySignInName } from '../users';
import { sendSecurityNotice } from './security-notices';
import { InvalidLinkError, ValidationError } from '../shared/errors';
import { hashPassword, passwordProblem } from '../signin';
import { lifecycleSettings } from '../shared/lifecycle-settings';
import { homeAreaOf, linkUrl, type LinkArea } from './links';
import { consumeToken, issueToken, peekToken, releaseToken, revokeOutstandingLinks, type TokenHolder } from './tokens';
import type { Area } from '../shared/area';
import { MSG } from '../shared/messages';
import { forgetAllDevices } from '../signin';
import { endProviderSessionsOf } from '../oidc';
import { siteSlugOf } from './links';

const displayName = (u: Pick<UserDoc, 'firstName' | 'lastName'>) => (u.firstName || u.lastName || 'there').trim();

/**
 * Mails one reset link to the account the address names (its username, else its email: one address,
 * one account, src/users/email-owner.ts), if it is active (and staff, from the admin area). Returns
 * how many were sent (0 or 1).
 */
export async function sendPasswordResetLinks(
  address: string,
  where: LinkArea,
  now: Date = new Date(),
): Promise<number> {
  const a = address.trim().toLowerCase();
  if (a.length > 254 || !EMAIL_PATTERN.test(a)) return 0;
  const user = await findAccountBySignInName(a);
  if (!user || !user.isActive || (where.area === 'admin' && user.userType !== 'internal')) return 0;
  await sendResetLink(user, where, now);
  return 1;
}

export async function sendResetLink(user: UserDoc, where: LinkArea, now: Date = new Date()): Promise<void> {
  await mailPasswordLink(user, 'reset', lifecycleSettings().tokens.resetMs, 'password-reset', where, now);
}

/** The invitation to a user created without a password: a set-password link to their home area. */
export async function sendInvitation(user: UserDoc, now: Date = new Date()): Promise<void> {
  await mailPasswordLink(
    user,
    'invite',
    lifecycleSettings().tokens.inviteMs,
    'invitation',
    await homeAreaOf(user),
    now,
  );
}

/** Issues a link of `purpose` and queues its mail; the reset and the invitation differ only in these. */
async function mailPasswordLink(
  user: UserDoc,
  purpose: 'reset' | 'invite',
  ttl: number,
  template: MailTemplate,
  where: LinkArea,
  now: Date,
): Promise<void> {
  const { token } = await issueToken(purpose, user._id, ttl, { now });
  await queueMail(
    {
      to: user.email,
      template,
      user: user._id,
      language: user.languageLocaleKey,
      siteSlug: siteSlugOf(where),
      locals: {
        name: displayName(user),
        username: user.username,
        url: linkUrl(where, purpose === 'reset' ? 'reset' : 'welcome', token),
        expiresInMs: ttl,
      },
    },
    now,
  );
}

export type PasswordLinkPurpose = 'reset' | 'invite';

/** Checks a reset or invitation link before its form is shown; staff-only in the admin area. */
export async function checkPasswordLink(
  purpose: PasswordLinkPurpose,
  token: unknown,
  area: Area,
  now: Date = new Date(),
): Promise<TokenHolder> {
  const holder = await peekToken(purpose, token, now);
  if (area === 'admin' && holder.user.userType !== 'internal')
    throw new InvalidLinkError('invalid', 'This link is not valid here. Open it from the mail you received.');
  return holder;
}

/**
 * Sets the password with a reset or invitation link and returns the user (signed in by the caller).
 * Order: link checked -> password checked -> link consumed -> password written; if the write finds the
 * user gone or deactivated, the link is given back and nothing has changed.
 */
export async function setPasswordWithLink(
  purpose: PasswordLinkPurpose,
  token: unknown,
  password: string,
  opts: { area: Area; ip?: string; userAgent?: string; now?: Date },
): Promise<UserDoc> {
  const now = opts.now ?? new Date();
  const holder = await checkPasswordLink(purpose, token, opts.area, now);
  const user = holder.user;
  const problem = passwordProblem(password, [user.firstName, user.lastName, user.email, user.username]);
  if (problem) throw new ValidationError(MSG.fieldsNeedAttention, { password: problem });
  const passwordHash = await hashPassword(password);
  await consumeToken(purpose, holder, now);
  const updated = await UserModel.findOneAndUpdate(
    { _id: user._id, isActive: true },
    {
      $set: { passwordHash, passwordChangedAt: now, ...(user.emailVerifiedAt ? {} : { emailVerifiedAt: now }) },
      $inc: { sessionEpoch: 1 },
    },
    { returnDocument: 'after' },
  );
  if (!updated) {
    await releaseToken(holder);
    throw new InvalidLinkError('used', 'This link can no longer be used.');
  }
  // Every other outstanding link (a pending email change above all) ends with the old password.
  await revokeOutstandingLinks(user._id, now);
  // So does every provider session (the password may have been stolen): the apps are notified.
  await endProviderSessionsOf(String(user._id));
  await forgetAllDevices(
    user,
    selfContext(user, opts.ip),
    purpose === 'reset' ? 'password_reset' : 'invitation_accepted',
  );
  await recordAudit(selfContext(user, opts.ip), {
    action: purpose === 'reset' ? 'user.password_reset_by_link' : 'user.invitation_accepted',
    target: { type: 'User', id: user._id, label: user.username },
  });
  // An invitation sets the first password: there was none to lose, so only a reset is a security notice.
  if (purpose === 'reset')
    await sendSecurityNotice(updated, 'password-changed', { ip: opts.ip, userAgent: opts.userAgent }, {}, now);
  return updated;
}
