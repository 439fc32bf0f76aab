/**
 * The current password asked again behind a session (turning two-factor off, changing the password,
 * changing the email). A stolen session must not become an unlimited password oracle, so each re-check
 * is counted per account (in the database, shared by every instance) BEFORE the hash is verified: a
 * burst verifies at most the allowed number; over the limit the answer is 429 with Retry-After. A
 * correct password resets the count, as a successful sign-in does.
 */
import type { Types } from 'mongoose';
import { UserModel } from '../data/models';
import { verifyPassword } from './passwords';

export interface RecheckAttempt {
  succeeded(): Promise<void>;
}

/** Counts one re-check for the account; throws TooManyRequestsError when it is over the limit. */
export interface PasswordRecheckThrottle {
  begin(userId: string): Promise<RecheckAttempt>;
}

/** True when `password` is the account's current one; counted first (throws TooManyRequestsError). */
export async function recheckPassword(
  userId: Types.ObjectId,
  password: string,
  throttle: PasswordRecheckThrottle,
): Promise<boolean> {
  if (!password) return false;
  const attempt = await throttle.begin(String(userId));
  const user = await UserModel.findById(userId).select('+passwordHash');
  const ok = Boolean(user?.passwordHash) && (await verifyPassword(user!.passwordHash!, password));
  if (ok) await attempt.succeeded();
  return ok;
}
