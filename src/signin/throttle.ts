/**
 * Throttling of sign-ins and registrations, stored in MongoDB (rate-limiter-flexible) so every instance
 * shares the counters.
 *
 * An attempt is counted *before* the slow work (the password hash) and given back when it succeeds, so a
 * burst of any size verifies at most the allowed number of passwords: the counter is one atomic
 * increment in the database, and only the increments within the limit go on to verify.
 *
 * Sign-in has two limits, as OWASP suggests: consecutive failures per username+IP (a success resets it)
 * and failures per IP across usernames (password spraying). The site and the admin area share them, so
 * an internal user's password gets no more guesses for having two sign-in pages.
 */
import { randomUUID } from 'node:crypto';
import type mongoose from 'mongoose';
import { RateLimiterMongo, RateLimiterRes } from 'rate-limiter-flexible';
import type { Config } from '../config';
import { TooManyRequestsError } from '../shared/errors';
import type { PasswordRecheckThrottle } from './password-recheck';
import { normaliseUsername } from '../shared/username';

/** Counts one attempt for an account; throws TooManyRequestsError when it is over the limit. */
export interface AccountThrottle {
  begin(userId: string): Promise<Attempt>;
}

/** One counted attempt: report the outcome once the slow work is done. */
export interface Attempt {
  /** Gives the attempt back (and, for sign-in, resets the consecutive failures of that username and IP). */
  succeeded(): Promise<void>;
}

export interface LoginThrottle {
  /** Counts a sign-in attempt; throws TooManyRequestsError (without counting more) when over a limit. */
  begin(username: string, ip: string): Promise<Attempt>;
  /**
   * Failures counted so far (counts nothing): the larger of the username+IP count and the IP's, or the
   * IP's alone without a username. Proof of work is asked for once it reaches POW_SIGNIN_AFTER_FAILS.
   */
  failures(username: string | null, ip: string): Promise<{ count: number; locked: boolean }>;
}

/**
 * Registration counts only what leaks: an answer that says an address is already registered (409).
 * A typo (a weak password, a malformed address) says nothing about anyone, and a success creates an
 * account, so neither is counted: an office behind one address registers as many people as it has.
 */
export interface RegistrationThrottle {
  /** Throws TooManyRequestsError while `ip` is over the limit (counts nothing): checked before the form is read. */
  assertOpen(ip: string): Promise<void>;
  /** Counts a conflict on a taken address from `ip`; throws TooManyRequestsError once over the limit. */
  conflict(ip: string): Promise<void>;
}

const userIpKey = (username: string, ip: string) => `${normaliseUsername(username).slice(0, 200)}|${ip}`;

const THROTTLE_COLLECTION = 'login_throttle';

function limiterStore(connection: mongoose.Connection) {
  return { storeClient: connection.getClient(), dbName: connection.db?.databaseName, tableName: THROTTLE_COLLECTION };
}

/** rate-limiter-flexible's own filter for a counter that has not expired (RateLimiterMongo._upsert). */
const live = () => ({ $or: [{ expire: { $gt: new Date() } }, { expire: { $eq: null } }] });

function refusal(res: RateLimiterRes, what: string, hint: string): TooManyRequestsError {
  const seconds = Math.max(1, Math.ceil(res.msBeforeNext / 1000));
  const minutes = Math.ceil(seconds / 60);
  return new TooManyRequestsError(
    `Too many ${what}. Try again in ${minutes} minute${minutes === 1 ? '' : 's'}${hint}.`,
    seconds,
  );
}

/** consume() rejects with a RateLimiterRes when over the limit and with an Error when the store fails. */
async function consume(limiter: RateLimiterMongo, key: string): Promise<RateLimiterRes | null> {
  try {
    await limiter.consume(key);
    return null;
  } catch (r) {
    if (r instanceof RateLimiterRes) return r;
    throw r;
  }
}

export function createLoginThrottle(connection: mongoose.Connection, limits: Config['throttle']): LoginThrottle {
  const common = limiterStore(connection);
  const counters = connection.getClient().db(common.dbName).collection(THROTTLE_COLLECTION);
  const perUserIp = new RateLimiterMongo({
    ...common,
    keyPrefix: 'login:user-ip',
    points: limits.maxFailsPerUserIp,
    duration: limits.lockSeconds,
    blockDuration: limits.lockSeconds,
  });
  const perIp = new RateLimiterMongo({
    ...common,
    keyPrefix: 'login:ip',
    points: limits.maxFailsPerIp,
    duration: 24 * 3600,
    blockDuration: 24 * 3600,
  });

  return {
    async failures(username, ip) {
      const [a, b] = await Promise.all([
        username === null ? null : perUserIp.get(userIpKey(username, ip)),
        perIp.get(ip),
      ]);
      const userIp = a?.consumedPoints ?? 0,
        perIpCount = b?.consumedPoints ?? 0;
      // Locked: the next attempt is refused by the count itself (429), whatever else it carries.
      return {
        count: Math.max(userIp, perIpCount),
        locked: userIp >= limits.maxFailsPerUserIp || perIpCount >= limits.maxFailsPerIp,
      };
    },
    async begin(username, ip) {
      const key = userIpKey(username, ip);
      const [a, b] = await Promise.all([consume(perUserIp, key), consume(perIp, ip)]);
      const over = a ?? b;
      if (over) throw refusal(over, 'failed sign-in attempts', ', or reset your password');
      return {
        async succeeded() {
          // Successful sign-ins are never counted: the per-IP point goes back, the consecutive failures reset.
          // Both in one round trip, one `update` command with two statements (the library would take two
          // commands, and a driver bulkWrite of a delete and an update is still two). On the library's own
          // documents ({key: '<prefix>:<key>', points, expire}). The consecutive counter is expired AND
          // moved to a key of its own, so it equals the library's delete(): the next attempt finds nothing
          // under its key and opens a fresh window in one findAndModify (an expired counter left under the
          // key made that upsert fail with E11000 and retry: two more round trips per sign-in), and the TTL
          // index removes the moved one.
          await counters.bulkWrite(
            [
              {
                updateOne: {
                  filter: { key: perUserIp.getKey(key) },
                  update: {
                    $set: { key: `${perUserIp.getKey(key)}|reset|${randomUUID()}`, points: 0, expire: new Date() },
                  },
                },
              },
              { updateOne: { filter: { key: perIp.getKey(ip), ...live() }, update: { $inc: { points: -1 } } } },
            ],
            { ordered: false },
          );
        },
      };
    },
  };
}

export function createRegistrationThrottle(
  connection: mongoose.Connection,
  limits: Config['registrationThrottle'],
): RegistrationThrottle {
  const perIp = new RateLimiterMongo({
    ...limiterStore(connection),
    keyPrefix: 'register:ip',
    points: limits.maxFailsPerIp,
    duration: limits.windowSeconds,
    blockDuration: limits.windowSeconds,
  });
  const what = 'registration attempts from your network';
  return {
    async assertOpen(ip) {
      const state = await perIp.get(ip);
      if (state && state.consumedPoints > limits.maxFailsPerIp) throw refusal(state, what, '');
    },
    async conflict(ip) {
      // One atomic increment: of a burst of conflicts only the first maxFailsPerIp are answered 409.
      const over = await consume(perIp, ip);
      if (over) throw refusal(over, what, '');
    },
  };
}

/**
 * Attempts counted per ACCOUNT (keyed by the user's id whatever the IP, so guessing from many addresses
 * gains nothing), with the sign-in limits: LOGIN_MAX_FAILS_PER_USER_IP failures, then LOGIN_LOCK_MINUTES
 * locked. Only a success of the same kind resets it (a correct code resets the code count; a correct
 * password never does).
 */
function createAccountThrottle(
  connection: mongoose.Connection,
  limits: Config['throttle'],
  keyPrefix: string,
  what: string,
  hint: string,
): AccountThrottle {
  const perUser = new RateLimiterMongo({
    ...limiterStore(connection),
    keyPrefix,
    points: limits.maxFailsPerUserIp,
    duration: limits.lockSeconds,
    blockDuration: limits.lockSeconds,
  });
  return {
    async begin(userId) {
      const over = await consume(perUser, userId);
      if (over) throw refusal(over, what, hint);
      return {
        async succeeded() {
          await perUser.delete(userId);
        },
      };
    },
  };
}

/** Re-checks of the current password behind a session (signin/password-recheck.ts). */
export function createPasswordRecheckThrottle(
  connection: mongoose.Connection,
  limits: Config['throttle'],
): PasswordRecheckThrottle {
  return createAccountThrottle(
    connection,
    limits,
    'recheck:user',
    'wrong passwords',
    '; your password was not checked',
  );
}

/**
 * Second-factor codes at sign-in, per account, counted before the code is checked. A correct password
 * gives none back: otherwise whoever knows the password could sign in again between guesses.
 */
export function createSecondFactorThrottle(
  connection: mongoose.Connection,
  limits: Config['throttle'],
): AccountThrottle {
  return createAccountThrottle(
    connection,
    limits,
    'mfa:user',
    'wrong codes for this account',
    '; use a recovery code or ask an administrator to reset two-factor sign-in',
  );
}
