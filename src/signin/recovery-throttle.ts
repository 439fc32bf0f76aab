/**
 * Throttling of mails people can ask for without signing in (password reset, verification link again),
 * stored in MongoDB like the sign-in throttle (src/signin/throttle.ts) so every instance shares it. Two
 * limits per hour: per address asked for (whether or not an account has it, so a refusal tells nothing)
 * and per IP. Every request counts, answered or not.
 */
import type mongoose from 'mongoose';
import { RateLimiterMongo, RateLimiterRes } from 'rate-limiter-flexible';
import type { Config } from '../config';
import { TooManyRequestsError } from '../shared/errors';

export interface RequestThrottle {
  /** Counts the request; throws TooManyRequestsError when the address or the IP is over its limit. */
  consume(address: string, ip: string): Promise<void>;
  /** Requests counted this window (counts nothing): the larger of the address's and the IP's, or the IP's alone. */
  used(address: string | null, ip: string): Promise<number>;
}

export function createRequestThrottle(
  connection: mongoose.Connection,
  limits: Config['recoveryThrottle'],
  scope: string,
): RequestThrottle {
  const common = {
    storeClient: connection.getClient(),
    dbName: connection.db?.databaseName,
    tableName: 'request_throttle',
    duration: limits.windowSeconds,
  };
  const perAddress = new RateLimiterMongo({ ...common, keyPrefix: `${scope}:address`, points: limits.maxPerAddress });
  const perIp = new RateLimiterMongo({ ...common, keyPrefix: `${scope}:ip`, points: limits.maxPerIp });
  const keyOf = (address: string) => address.trim().toLowerCase().slice(0, 254);
  return {
    async used(address, ip) {
      const [a, b] = await Promise.all([address === null ? null : perAddress.get(keyOf(address)), perIp.get(ip)]);
      return Math.max(a?.consumedPoints ?? 0, b?.consumedPoints ?? 0);
    },
    async consume(address, ip) {
      const key = keyOf(address);
      const results = await Promise.all([
        perAddress.consume(key).then(
          () => null,
          (r) => {
            if (r instanceof RateLimiterRes) return r;
            throw r;
          },
        ),
        perIp.consume(ip).then(
          () => null,
          (r) => {
            if (r instanceof RateLimiterRes) return r;
            throw r;
          },
        ),
      ]);
      const over = results.find((r): r is RateLimiterRes => r !== null);
      if (over) {
        const seconds = Math.max(1, Math.ceil(over.msBeforeNext / 1000));
        const minutes = Math.ceil(seconds / 60);
        throw new TooManyRequestsError(
          `Too many requests for this address or from your network. Try again in ${minutes} minute${minutes === 1 ? '' : 's'}.`,
          seconds,
        );
      }
    },
  };
}
