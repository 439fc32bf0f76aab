/**
 * Changing one's email: the password is asked again, the new address confirms by a link before it
 * replaces the old one, and the old address is told (with the new one masked). The username follows
 * when it was the old email, unless the user's site turned that off or the new address is another
 * account's username (then only the email changes). Whether the new address belongs to another account
 * is never said at the request; it is refused, one address one account, to whoever holds the new
 * mailbox, when they confirm.
 *
 * Confirming needs the owner signed in: a link in the hands of someone who once knew the password (and
 * asked to move the account to their own address) is useless without the current one. A change of
 * password, "end other sessions" and resets cancel a pending change (tokens.ts revokeOutstandingLinks).
 */
import { searchTermsOf } from '../users';
import { EMAIL_PATTERN, SiteModel, UserModel, emailKeyOf, type UserDoc } from '../data/models';
import { trusted } from 'mongoose';
import { duplicateKeyField } from '../data/errors';
import { queueMail } from '../mail';
import { assertOwnerPresent, selfContext, type Origin } from '../access';
import { recordAudit } from '../audit';
import { ConflictError, ForbiddenError, InvalidLinkError, ValidationError } from '../shared/errors';
import { lifecycleSettings } from '../shared/lifecycle-settings';
import { assertEmailFree } from '../users';
import { linkUrl, siteSlugOf, type LinkArea } from './links';
import { recheckPassword, type PasswordRecheckThrottle } from '../signin';
import { consumeToken, issueToken, peekToken, releaseToken } from './tokens';
import { MSG } from '../shared/messages';

/** "a***@e***.com": enough for the owner to recognise, little for anyone else. */
export function maskEmail(email: string): string {
  const [local, domain = ''] = email.split('@');
  const dot = domain.lastIndexOf('.');
  const host = dot > 0 ? domain.slice(0, dot) : domain;
  const tld = dot > 0 ? domain.slice(dot) : '';
  return `${local.slice(0, 1)}***@${host.slice(0, 1)}***${tld}`;
}

export async function requestEmailChange(
  user: UserDoc,
  newEmail: string,
  password: string,
  where: LinkArea,
  recheck: PasswordRecheckThrottle,
  origin?: Origin,
  now: Date = new Date(),
): Promise<void> {
  assertOwnerPresent(origin, 'Changing the email');
  const email = newEmail.trim().toLowerCase();
  const fields: Record<string, string> = {};
  if (!email) fields.newEmail = 'Enter your new email address.';
  else if (email.length > 254 || !EMAIL_PATTERN.test(email)) fields.newEmail = MSG.enterValidEmail;
  else if (email === user.email) fields.newEmail = 'This is already your email address.';
  if (!password) fields.password = 'Enter your current password.';
  else if (!(await recheckPassword(user._id, password, recheck))) fields.password = MSG.currentPasswordWrong;
  if (Object.keys(fields).length) throw new ValidationError(MSG.fieldsNeedAttention, fields);

  const ttl = lifecycleSettings().tokens.verifyMs;
  const { token } = await issueToken('email-change', user._id, ttl, { now, email });
  const name = (user.firstName || user.lastName).trim();
  await queueMail(
    {
      to: email,
      template: 'email-change-confirm',
      user: user._id,
      language: user.languageLocaleKey,
      siteSlug: siteSlugOf(where),
      locals: { name, username: user.username, email, url: linkUrl(where, 'confirm-email', token), expiresInMs: ttl },
    },
    now,
  );
  await queueMail(
    {
      to: user.email,
      template: 'email-changed-notice',
      user: user._id,
      language: user.languageLocaleKey,
      siteSlug: siteSlugOf(where),
      locals: { name, username: user.username, maskedEmail: maskEmail(email) },
    },
    now,
  );
  await recordAudit(selfContext(user, origin), {
    action: 'user.email_change_requested',
    target: { type: 'User', id: user._id, label: user.username },
    after: { email },
  });
}

/** Checks the link for the signed-in `owner` (null: nobody signed in, a link check only). */
export async function checkEmailChangeLink(token: unknown, owner: Pick<UserDoc, '_id'> | null, now: Date = new Date()) {
  const holder = await peekToken('email-change', token, now);
  if (owner && !holder.user._id.equals(owner._id)) {
    throw new ForbiddenError(
      'This link is for another account. Sign out, then sign in as the account that asked for the change.',
    );
  }
  return holder;
}

/** Confirms the new address: it replaces the old one, verified; the username follows where the site says. */
export async function confirmEmailChange(
  token: unknown,
  owner: Pick<UserDoc, '_id'> | null,
  ip?: string,
  now: Date = new Date(),
): Promise<UserDoc> {
  if (!owner) throw new ForbiddenError('Sign in to confirm the change of your email address.');
  const holder = await checkEmailChangeLink(token, owner, now);
  const user = holder.user;
  const email = holder.email;
  if (!email) throw new InvalidLinkError('invalid', 'This link is not valid.');
  // The username follows where it was the old address ("your email is your username"), unless the site
  // turned that off or another account has that username: then only the email changes (sign-in by
  // email keeps working, src/users/email-owner.ts).
  const site = user.site ? await SiteModel.findById(user.site).select('usernameFollowsEmail').lean() : null;
  const wanted = (site ? site.usernameFollowsEmail !== false : true) && user.username === user.email;
  const follows = wanted && !(await UserModel.exists({ username: email, _id: trusted({ $ne: user._id }) }));
  await consumeToken('email-change', holder, now);
  const before = { email: user.email, username: user.username };
  let updated: UserDoc | null;
  try {
    await assertEmailFree(email, user._id);
    updated = await UserModel.findOneAndUpdate(
      { _id: user._id, email: user.email, isActive: true },
      {
        $set: {
          email,
          emailKey: emailKeyOf(email),
          emailVerifiedAt: now,
          ...(follows ? { username: email } : {}),
          // The admin search finds people by their address: its terms follow the change.
          searchTerms: searchTermsOf({
            firstName: user.firstName,
            lastName: user.lastName,
            communityNickname: user.communityNickname,
            email,
            username: follows ? email : user.username,
          }),
        },
      },
      { returnDocument: 'after', runValidators: true },
    );
  } catch (err) {
    await releaseToken(holder);
    const field = err instanceof ConflictError ? 'emailKey' : duplicateKeyField(err);
    if (field === 'emailKey') {
      throw new ConflictError(
        'This address belongs to another account, so it cannot become yours. Your email address was not changed.',
        {},
        'email_taken',
      );
    }
    if (field === 'username') {
      throw new ConflictError(
        'Another account took this address as its username meanwhile. Your email address was not changed; try again.',
        {},
        'username_taken',
      );
    }
    throw err;
  }
  if (!updated) {
    await releaseToken(holder);
    throw new InvalidLinkError(
      'used',
      'Your account changed since this link was sent. Sign in and change your email address again.',
    );
  }
  await recordAudit(selfContext(user, ip), {
    action: 'user.email_changed',
    target: { type: 'User', id: user._id, label: updated.username },
    before,
    after: { email: updated.email, username: updated.username },
  });
  return updated;
}
