import type { Logger } from '../observability/logger';
import { catalogueKey } from './keys';
import { loadScripts } from './scripts';
import type { RedisClient, Script } from './scripts';

/**
 * Notices a Redis that has lost its data: restarted without persistence, failed over to an empty
 * replica, flushed. The catalogue set exists from the first start-up (the default SKU is seeded into
 * it), so once it has been seen, its absence means the data is gone.
 *
 * What it does about it is little on purpose: it loads the scripts again, logs at error level, counts
 * it and says so in /health. It never re-creates stock: stock re-created from configuration would sell
 * units already sold. Restocking is the operator's call, from the system of record.
 */
export interface DataLossWatch {
  /** when the loss was noticed; undefined while the catalogue is there */
  lostSince(): Date | undefined;
  /** checks now (on every reconnection, and on a timer); never throws */
  check(): Promise<void>;
  stop(): void;
}

export interface DataLossWatchOptions {
  readonly everyMs: number;
  readonly logger: Logger;
  readonly onLost: () => void;
}

export function watchForDataLoss(
  redis: RedisClient,
  scripts: readonly Script[],
  options: DataLossWatchOptions,
): DataLossWatch {
  let seen = false;
  let lostSince: Date | undefined;
  let runId: string | undefined;

  const check = async (): Promise<void> => {
    try {
      const exists = (await redis.exists(catalogueKey)) === 1;
      // a restarted Redis (a new run id) has an empty script cache; EVALSHA would reload them one by
      // one on NOSCRIPT, this does it at once (not on a cluster, whose nodes each have their own id)
      const currentRunId =
        'nodes' in redis ? undefined : /run_id:(\w+)/.exec(await redis.info('server'))?.[1];
      if (currentRunId !== undefined && runId !== undefined && currentRunId !== runId) {
        await loadScripts(redis, scripts);
        options.logger.info('Redis restarted (a new run id): scripts loaded again');
      }
      if (currentRunId !== undefined) runId = currentRunId;
      if (exists) {
        if (lostSince) options.logger.info('the catalogue is back in Redis');
        seen = true;
        lostSince = undefined;
        return;
      }
      if (seen && !lostSince) {
        lostSince = new Date();
        await loadScripts(redis, scripts);
        options.onLost();
        options.logger.error(
          'Redis has lost its data: the catalogue is gone, purchases answer 404 unknown_sku. Stock is not re-created by itself: restock from the system of record (PUT /products, catalogue:import)',
        );
      }
    } catch {
      // Redis unreachable: the outage is reported elsewhere; the next reconnection checks again
    }
  };

  const timer = setInterval(() => void check(), options.everyMs);
  timer.unref();
  return {
    lostSince: () => lostSince,
    check,
    stop: () => {
      clearInterval(timer);
    },
  };
}
