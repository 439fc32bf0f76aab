/**
 * Throttling of failed sign-ins, stored in MongoDB (rate-limiter-flexible) so every instance shares the
 * counters. Two limits, as OWASP suggests: consecutive failures per username+IP (a success resets it),
 * and failures per IP across usernames (password spraying). Once over a limit the password is not
 * even verified: the answer is 429 with Retry-After. Successful sign-ins are never counted.
 */
import type mongoose from 'mongoose';
import { RateLimiterMongo, RateLimiterRes } from 'rate-limiter-flexible';
import type { Config } from '../config';
import { TooManyRequestsError } from '../domain/errors';

export interface LoginThrottle {
  /** Throws TooManyRequestsError when either limit is reached. */
  assertAllowed(username: string, ip: string): Promise<void>;
  recordFailure(username: string, ip: string): Promise<void>;
  recordSuccess(username: string, ip: string): Promise<void>;
}

const userIpKey = (username: string, ip: string) => `${username.trim().toLowerCase().slice(0, 200)}|${ip}`;

export function createLoginThrottle(connection: mongoose.Connection, limits: Config['throttle'], scope: string): LoginThrottle {
  const common = { storeClient: connection.getClient(), dbName: connection.db?.databaseName, tableName: 'login_throttle' };
  const perUserIp = new RateLimiterMongo({
    ...common,
    keyPrefix: `${scope}:user-ip`,
    points: limits.maxFailsPerUserIp,
    duration: limits.lockSeconds,
    blockDuration: limits.lockSeconds,
  });
  const perIp = new RateLimiterMongo({
    ...common,
    keyPrefix: `${scope}:ip`,
    points: limits.maxFailsPerIp,
    duration: 24 * 3600,
    blockDuration: 24 * 3600,
  });

  const refuse = (res: RateLimiterRes) => {
    const seconds = Math.max(1, Math.ceil(res.msBeforeNext / 1000));
    const minutes = Math.ceil(seconds / 60);
    throw new TooManyRequestsError(
      `Too many failed sign-in attempts. Try again in ${minutes} minute${minutes === 1 ? '' : 's'}, or reset your password.`,
      seconds,
    );
  };

  return {
    async assertAllowed(username, ip) {
      const [a, b] = await Promise.all([perUserIp.get(userIpKey(username, ip)), perIp.get(ip)]);
      if (a && a.consumedPoints >= limits.maxFailsPerUserIp) refuse(a);
      if (b && b.consumedPoints >= limits.maxFailsPerIp) refuse(b);
    },
    async recordFailure(username, ip) {
      // consume() rejects with a RateLimiterRes once over the limit; the failure is counted either way.
      await Promise.all([
        perUserIp.consume(userIpKey(username, ip)).catch((r) => { if (!(r instanceof RateLimiterRes)) throw r; }),
        perIp.consume(ip).catch((r) => { if (!(r instanceof RateLimiterRes)) throw r; }),
      ]);
    },
    async recordSuccess(username, ip) {
      await perUserIp.delete(userIpKey(username, ip));
    },
  };
}
