import { RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import { rateLimitKeyPrefix } from './keys';
import type { RedisClient } from './scripts';

/** what one attempt did to its window's counter */
export interface WindowCount {
  readonly allowed: boolean;
  /** attempts still allowed in this window */
  readonly remaining: number;
  /** until the window ends and the counter starts again */
  readonly resetMs: number;
}

/**
 * One fleet-wide limit on attempts per key (a buyer, a client address) and window, counted in Redis by
 * rate-limiter-flexible: one script per attempt (INCRBY, and the window's expiry when the key is new), so
 * every instance of the fleet shares each counter, and a refused attempt still counts.
 *
 * It uses the service's own client: no offline queue, a command timeout, and `rejectIfRedisNotReady`,
 * so that while Redis is unreachable an attempt fails at once rather than after a timeout; the caller
 * decides what a failure means (the purchase routes admit the attempt: a limiter outage is not the
 * buyer's fault, and the purchase itself then answers its own 503).
 */
export class RedisAttemptLimit {
  private readonly limiter: RateLimiterRedis;
  readonly windowSeconds: number;

  constructor(
    redis: RedisClient,
    readonly scope: keyof typeof rateLimitKeyPrefix,
    readonly points: number,
    windowMs: number,
  ) {
    this.windowSeconds = windowMs / 1000;
    this.limiter = new RateLimiterRedis({
      storeClient: redis,
      keyPrefix: rateLimitKeyPrefix[scope],
      points,
      duration: this.windowSeconds,
      rejectIfRedisNotReady: true,
    });
  }

  /** counts one attempt under `key`; rejects only when Redis could not count it */
  async take(key: string): Promise<WindowCount> {
    try {
      const counted = await this.limiter.consume(key);
      return { allowed: true, remaining: counted.remainingPoints, resetMs: counted.msBeforeNext };
    } catch (outcome) {
      // the library refuses an attempt over the limit by rejecting with its answer, not an Error
      if (outcome instanceof RateLimiterRes) {
        return { allowed: false, remaining: 0, resetMs: outcome.msBeforeNext };
      }
      throw outcome;
    }
  }
}
