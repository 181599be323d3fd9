import type { Request, RequestHandler, Response } from 'express';
import { AppError } from '../../domain/errors';
import type { Logger } from '../../observability/logger';
import type { Metrics } from '../../observability/metrics';
import { sendProblem } from '../problem';

export type LimitScope = 'user' | 'ip';

/** One fleet-wide limit on attempts per key and window; app/redis/rate-limits.ts keeps it in Redis. */
export interface AttemptLimit {
  readonly scope: LimitScope;
  /** attempts allowed per window */
  readonly points: number;
  readonly windowSeconds: number;
  /** counts one attempt under `key`; rejects when it could not be counted */
  take(
    key: string,
  ): Promise<{ readonly allowed: boolean; readonly remaining: number; readonly resetMs: number }>;
}

/** what the limits need of a purchase: undefined when it is not a valid one (the route answers its 400) */
export type PurchaseOf = (req: Request) => { readonly userId?: string | undefined } | undefined;

function keyOf(
  scope: LimitScope,
  req: Request,
  purchase: { readonly userId?: string | undefined },
): string | undefined {
  return scope === 'ip' ? req.ip : purchase.userId;
}

const seconds = (ms: number): number => Math.max(1, Math.ceil(ms / 1000));

/**
 * After a failure the limits are left alone this long, every attempt admitted uncounted, then asked again:
 * a Redis that accepts commands and does not answer them would otherwise add its command timeout to every
 * purchase, on top of the purchase's own.
 */
export const FAIL_OPEN_MS = 1000;

/**
 * The purchase routes' admission: every attempt is counted against each limit that applies (the buyer
 * named by the body's userId, the client's address as Express reads it under `trust proxy`), fleet wide,
 * and one over any limit is answered 429 `rate_limited` with Retry-After and the RateLimit and
 * RateLimit-Policy fields of draft-ietf-httpapi-ratelimit-headers; an admitted one carries the same two
 * fields, so a client can slow down before it is refused.
 *
 * A request that is not a valid purchase is not counted: the route answers it 400, and bad input changes
 * nothing, a limit's counter included.
 *
 * A limit that cannot be counted (Redis unreachable) admits the attempt: the limiter exists to share
 * stock fairly, and refusing every buyer during an outage shares nothing. The failure is counted, and
 * logged once per outage rather than once per purchase; for FAIL_OPEN_MS after it, the limits are not
 * asked at all.
 */
export function rateLimit(
  limits: readonly AttemptLimit[],
  purchaseOf: PurchaseOf,
  metrics: Metrics,
  logger: Logger,
  now: () => number = Date.now,
): RequestHandler {
  const policy = limits
    .map((limit) => `"${limit.scope}";q=${limit.points};w=${limit.windowSeconds}`)
    .join(', ');
  let failing = false;
  let askAgainAt = 0;

  const failedOpen = (error: unknown): void => {
    metrics.rateLimiterFailure();
    if (!failing) logger.warn({ err: error }, 'rate limiter unavailable: purchases are admitted unlimited');
    failing = true;
    askAgainAt = now() + FAIL_OPEN_MS;
  };

  const admit = async (req: Request, res: Response): Promise<boolean> => {
    const purchase = purchaseOf(req);
    if (purchase === undefined) return true;
    const applying = limits.flatMap((limit) => {
      const key = keyOf(limit.scope, req, purchase);
      return key === undefined ? [] : [{ limit, key }];
    });
    if (now() < askAgainAt) {
      for (let i = 0; i < applying.length; i += 1) metrics.rateLimiterFailure();
      return true;
    }
    const counts = await Promise.allSettled(
      applying.map(async ({ limit, key }) => ({ scope: limit.scope, ...(await limit.take(key)) })),
    );
    const fields: string[] = [];
    let refusedBy: { scope: LimitScope; resetMs: number } | undefined;
    let counted = true;
    for (const count of counts) {
      if (count.status === 'rejected') {
        counted = false;
        failedOpen(count.reason);
        continue;
      }
      const { scope, allowed, remaining, resetMs } = count.value;
      fields.push(`"${scope}";r=${remaining};t=${seconds(resetMs)}`);
      // refused by several limits: the client must wait for the last of them
      if (!allowed && (refusedBy === undefined || resetMs > refusedBy.resetMs))
        refusedBy = { scope, resetMs };
    }
    if (counted && failing && applying.length > 0) {
      failing = false;
      logger.info('rate limiter reachable again');
    }
    res.setHeader('RateLimit-Policy', policy);
    if (fields.length > 0) res.setHeader('RateLimit', fields.join(', '));
    if (refusedBy === undefined) return true;

    metrics.rateLimited(refusedBy.scope);
    const retryAfter = seconds(refusedBy.resetMs);
    res.setHeader('Retry-After', String(retryAfter));
    const who = refusedBy.scope === 'user' ? 'this buyer' : 'this address';
    sendProblem(
      res,
      new AppError('rate_limited', `too many purchase attempts from ${who}; retry in ${retryAfter} s`, {
        limit: refusedBy.scope,
      }),
    );
    return false;
  };

  return (req, res, next) => {
    admit(req, res).then(
      (admitted) => {
        if (admitted) next();
      },
      (fault: unknown) => {
        next(fault);
      },
    );
  };
}
