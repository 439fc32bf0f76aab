/**
 * A signed-in user's own account: their name, nickname, locale, language and time zone, and their
 * password (the current one required). Changing the password ends every other session of the user and
 * cancels every link still outstanding (reset, verification, email change).
 */
import { UserModel, type UserDoc } from '../data/models';
import { assertOwnerPresent, selfContext, type Origin } from '../access';
import { recordAudit } from '../audit';
import { ValidationError } from '../shared/errors';
import { hashPassword, passwordProblem, recheckPassword, type PasswordRecheckThrottle } from '../signin';
import { conflictFor, validateAndSave } from '../users';
import { revokeOutstandingLinks } from './tokens';
import { MSG } from '../shared/messages';
import { forgetAllDevices } from '../signin';
import { endProviderSessionsOf } from '../oidc';
import { sendSecurityNotice, whereOf } from './security-notices';
import { assertLocaleSettings } from '../i18n';

export interface ProfileChanges {
  firstName: string;
  lastName: string;
  communityNickname: string;
  localeSidKey: string;
  languageLocaleKey: string;
  timeZoneSidKey: string;
}

/** The fields of ProfileChanges, in the account form's order (its pages show them again after a refusal). */
export const PROFILE_FIELDS = [
  'firstName',
  'lastName',
  'communityNickname',
  'localeSidKey',
  'languageLocaleKey',
  'timeZoneSidKey',
] as const satisfies readonly (keyof ProfileChanges)[];

export async function updateOwnProfile(user: UserDoc, changes: ProfileChanges, origin?: Origin): Promise<UserDoc> {
  const before = {
    firstName: user.firstName,
    lastName: user.lastName,
    communityNickname: user.communityNickname,
    localeSidKey: user.localeSidKey,
    languageLocaleKey: user.languageLocaleKey,
    timeZoneSidKey: user.timeZoneSidKey,
  };
  // Locale, language and time zone come from the page's lists; a value the user already has may stay.
  assertLocaleSettings(changes, before);
  user.set(changes);
  await validateAndSave(user, { communityNickname: () => conflictFor('communityNickname') });
  await recordAudit(selfContext(user, origin), {
    action: 'user.profile_updated',
    target: { type: 'User', id: user._id, label: user.username },
    before,
    after: { ...changes },
  });
  return user;
}

/** Checks the current password, sets the new one and bumps the session epoch (other sessions end). */
/** `confirm`: the form's "Confirm new password", when sent; a mismatch is reported with the new password's own problem. */
/** `keepProviderSession`: this browser's provider session, which stays; the others end, their apps notified. */
export async function changeOwnPassword(
  userId: UserDoc['_id'],
  current: string,
  next: string,
  recheck: PasswordRecheckThrottle,
  origin?: Origin,
  confirm?: string,
  keepProviderSession?: string | null,
): Promise<UserDoc> {
  assertOwnerPresent(origin, 'Changing the password');
  const user = await UserModel.findById(userId).select('+passwordHash');
  if (!user) throw new ValidationError(MSG.fieldsNeedAttention, { currentPassword: 'Sign in again.' });
  if (!(await recheckPassword(user._id, current, recheck))) {
    throw new ValidationError(MSG.fieldsNeedAttention, { currentPassword: MSG.currentPasswordWrong });
  }
  const problem = passwordProblem(next, [user.firstName, user.lastName, user.email, user.username]);
  const fields: Record<string, string> = problem ? { newPassword: problem } : {};
  if (confirm !== undefined && confirm !== next)
    fields.newPasswordConfirm = 'The two passwords differ. Type the new password twice.';
  if (Object.keys(fields).length) throw new ValidationError(MSG.fieldsNeedAttention, fields);
  const updated = await UserModel.findOneAndUpdate(
    { _id: user._id },
    { $set: { passwordHash: await hashPassword(next), passwordChangedAt: new Date() }, $inc: { sessionEpoch: 1 } },
    { returnDocument: 'after' },
  );
  await endProviderSessionsOf(String(user._id), keepProviderSession);
  // Links asked for with the old password (an email change to someone else's address) die with it.
  await revokeOutstandingLinks(user._id);
  // A browser remembered with the old password skips no code with the new one.
  await forgetAllDevices(user, selfContext(user, origin), 'password_changed');
  await recordAudit(selfContext(user, origin), {
    action: 'user.password_changed',
    target: { type: 'User', id: user._id, label: user.username },
  });
  await sendSecurityNotice(updated!, 'password-changed', whereOf(origin));
  return updated!;
}
