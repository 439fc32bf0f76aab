/**
 * The sign-in flow shared by the sites and the admin area: throttle (counted first), passport-local,
 * fresh session, login history. A failure is thrown; the error writer shows the route's form again.
 */
import type { NextFunction, Request, Response } from 'express';
import { passport } from './passport';
import { signIn, type Area } from './session-middleware';
import type { LoginThrottle } from './throttle';
import { recordFailedLogin, recordLogin } from './authentication';
import { AuthenticationError, ValidationError } from '../shared/errors';
import type { UserDoc } from '../data/models';
import { MSG } from '../shared/messages';
import { findAccountBySignInName } from '../users';
import { normaliseUsername } from '../users';

/** Reads exactly a username and a password as strings; anything else (objects, arrays) is refused. */
export function readCredentials(body: unknown): { username: string; password: string } {
  const b = (body ?? {}) as Record<string, unknown>;
  const fields: Record<string, string> = {};
  if (typeof b.username !== 'string' || !b.username.trim()) fields.username = 'Enter your email or username.';
  else if (b.username.length > 254) fields.username = MSG.atMostCharacters(254);
  if (typeof b.password !== 'string' || !b.password) fields.password = 'Enter your password.';
  else if (b.password.length > 1024) fields.password = MSG.atMostCharacters(1024);
  if (Object.keys(fields).length) throw new ValidationError('Enter your email or username and your password.', fields);
  return { username: (b.username as string).trim(), password: b.password as string };
}

/** The account's username when the name (a username or an email) is one; the name as typed otherwise. */
async function throttleKeyOf(name: string): Promise<string> {
  return (await findAccountBySignInName(name, 'username'))?.username ?? normaliseUsername(name);
}

function runStrategy(strategy: string, req: Request, res: Response, next: NextFunction): Promise<UserDoc | false> {
  return new Promise((resolve, reject) => {
    passport.authenticate(strategy, { session: false }, (err: unknown, user: UserDoc | false) =>
      err ? reject(err) : resolve(user),
    )(req, res, next);
  });
}

/**
 * Runs once the password is accepted, before any session: may refuse the sign-in (throw: an unconfirmed
 * email where the site wants one) or hold it ('held': a second factor is asked first; the hook has
 * recorded what the next step needs).
 */
export type AfterPassword = (user: UserDoc, req: Request) => Promise<'sign-in' | 'held'>;

/** Failed sign-ins counted for this name (the account it stands for) from `ip`, or for `ip` alone. */
export async function signInFailures(
  throttle: LoginThrottle,
  username: string | null | undefined,
  ip: string,
): Promise<number> {
  const name = typeof username === 'string' && username.trim() ? username.trim().slice(0, 254) : null;
  return (await throttle.failures(name === null ? null : await throttleKeyOf(name), ip)).count;
}

/**
 * Runs before the attempt is counted and before any password is verified, with the failures so far:
 * may refuse (throw), e.g. for a missing proof of work once failures pile up. Not run while locked out.
 */
export type BeforeAttempt = (failures: number) => Promise<void>;

/** Signs the user in to `area` or throws AuthenticationError / TooManyRequestsError / ValidationError. */
export async function authenticateLogin(
  area: Area,
  throttle: LoginThrottle,
  req: Request,
  res: Response,
  next: NextFunction,
  afterPassword?: AfterPassword,
  opts: { keepMs?: number; beforeAttempt?: BeforeAttempt } = {},
): Promise<UserDoc> {
  const { username } = readCredentials(req.body);
  const ip = req.ip ?? 'unknown';
  const key = await throttleKeyOf(username);
  if (opts.beforeAttempt) {
    // A locked-out name gets the lock-out's answer (429, when to try again), not a request for more work.
    const state = await throttle.failures(key, ip);
    if (!state.locked) await opts.beforeAttempt(state.count);
  }
  // Counted before the password is verified, so a burst cannot verify more than the limit allows; and
  // counted for the account the name stands for, so its username and its email share one count.
  const attempt = await throttle.begin(key, ip);
  const user = await runStrategy(area === 'site' ? 'site-local' : 'admin-local', req, res, next);
  if (!user) {
    await recordFailedLogin(username, area, ip, req.get('user-agent'));
    throw new AuthenticationError();
  }
  await attempt.succeeded();
  if (afterPassword && (await afterPassword(user, req)) === 'held') return user;
  await signIn(req, area, user, undefined, opts);
  await recordLogin(user, area, ip, req.get('user-agent'), 'password');
  return user;
}
