/**
 * Checks credentials; the name is a username or the email of the account (one address, one account).
 * Unknown user, wrong password, inactive user and (for the admin area) external user
 * all give the same AuthenticationError, after about the same work: an unknown username is verified
 * against a dummy hash. A hash with parameters below the current ones is upgraded on success.
 */
import { UserModel, LoginEventModel, type LoginMethod, type UserDoc } from '../data/models';
import { AuthenticationError } from '../shared/errors';
import { hashPassword, needsRehash, verifyAgainstDummy, verifyPassword } from './passwords';
import { normaliseUsername } from '../users';
import { isSiteMember } from '../sites';
import { lifecycleSettings } from '../shared/lifecycle-settings';
import type { Area } from '../shared/area';
import { findAccountBySignInName } from '../users';
import { describeUserAgent } from '../shared/user-agent';
import { sendSecurityNotice } from '../account';
import { trusted } from 'mongoose';

const historyExpiry = (at: Date) => new Date(at.getTime() + lifecycleSettings().loginHistoryDays * 24 * 3_600_000);

/**
 * `site`: for the site area, the site signed in to; a user who is not a member of it gets the same
 * AuthenticationError as a wrong password, so the page tells nothing about who has an account.
 */
export async function verifyCredentials(
  username: string,
  password: string,
  area: Area,
  site?: Parameters<typeof isSiteMember>[0] | null,
): Promise<UserDoc> {
  // The name typed is a username or an email (src/users/email-owner.ts): one lookup either way.
  const user = await findAccountBySignInName(username, '+passwordHash');
  if (!user || !user.passwordHash) {
    await verifyAgainstDummy(password);
    throw new AuthenticationError();
  }
  const ok = await verifyPassword(user.passwordHash, password);
  const allowedHere = area === 'admin' ? user.userType === 'internal' : Boolean(site && isSiteMember(site, user));
  if (!ok || !user.isActive || !allowedHere) throw new AuthenticationError();
  if (needsRehash(user.passwordHash)) {
    const upgraded = await hashPassword(password);
    await UserModel.updateOne({ _id: user._id, passwordHash: user.passwordHash }, { $set: { passwordHash: upgraded } });
  }
  return user;
}

/**
 * A device, for the new-device notice: the browser and system named from the User-Agent and the network
 * of the IP (IPv4 /16, IPv6 /48), so a new browser version or a new address from the same provider is not
 * a new device, while another browser, another computer or another country's network is.
 */
export function deviceKey(ip: string | null | undefined, userAgent: string | null | undefined): string {
  const address = (ip ?? '').replace(/^::ffff:/, '');
  const network = address.includes(':')
    ? address.split(':').slice(0, 3).join(':')
    : address.split('.').slice(0, 2).join('.');
  return `${describeUserAgent(userAgent)}|${network || 'unknown'}`.slice(0, 120);
}

/**
 * Marks a successful sign-in: last login time and a login history entry. A sign-in from a device (above)
 * none of the user's earlier sign-ins came from sends a security notice; the very first sign-in (at
 * registration or from an invitation) does not, and neither does an admin's Login As.
 */
export async function recordLogin(
  user: UserDoc,
  area: Area | 'login-as',
  ip: string | undefined,
  userAgent: string | undefined,
  method: LoginMethod | null = null,
): Promise<void> {
  const at = new Date();
  const device = deviceKey(ip, userAgent);
  const own = {
    user: user._id,
    outcome: 'success' as const,
    area: trusted({ $in: ['site', 'admin'] as ('site' | 'admin')[] }),
  };
  const [seen, signedInBefore] =
    area === 'login-as'
      ? [true, true]
      : await Promise.all([LoginEventModel.exists({ ...own, device }), LoginEventModel.exists(own)]);
  // Two independent writes: sent together, so the sign-in waits for one round trip, not two.
  await Promise.all([
    area !== 'login-as' ? UserModel.updateOne({ _id: user._id }, { $set: { lastLoginAt: at } }) : null,
    LoginEventModel.create({
      user: user._id,
      at,
      ip: ip ?? null,
      userAgent: userAgent?.slice(0, 300) ?? null,
      device,
      area,
      method,
      expiresAt: historyExpiry(at),
    }),
  ]);
  if (signedInBefore && !seen) await sendSecurityNotice(user, 'new-device', { ip, userAgent }, {}, at);
}

/**
 * A refused password (or second-factor code) goes into the history: that user's when the username exists,
 * with `user` null otherwise. Both cases do the same work (one lookup, one insert), so the time a refusal
 * takes does not tell whether the username exists.
 */
export async function recordFailedLogin(
  username: string,
  area: Area,
  ip: string | undefined,
  userAgent: string | undefined,
): Promise<void> {
  const name = normaliseUsername(username).slice(0, 200);
  const user = await findAccountBySignInName(name, '_id');
  const at = new Date();
  await LoginEventModel.create({
    user: user?._id ?? null,
    username: name,
    at,
    ip: ip ?? null,
    userAgent: userAgent?.slice(0, 300) ?? null,
    area,
    outcome: 'failure',
    expiresAt: historyExpiry(at),
  });
}
