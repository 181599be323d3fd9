import { once } from 'node:events';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Config } from './config';
import { Catalogue } from './domain/catalogue';
import { PurchaseService } from './domain/purchase';
import { SoldOutMarks } from './domain/sold-out-marks';
import { createApp } from './http/app';
import { createLogger, flushLogger } from './observability/logger';
import type { Logger } from './observability/logger';
import { Metrics } from './observability/metrics';
import { startServiceFigures } from './observability/service-figures';
import { PostgresOrderArchive } from './postgres/order-archive';
import { createPool } from './postgres/pool';
import { createRedisClient, createSubscriberClient, keepConnected } from './redis/client';
import { RedisAttemptLimit } from './redis/rate-limits';
import { RedisInventoryStore } from './redis/inventory-store';
import { watchForDataLoss } from './redis/data-loss-watch';
import { listenForRestocks } from './redis/restock-listener';
import type { RestockListener } from './redis/restock-listener';
import { defineScripts, loadScripts, readScripts } from './redis/scripts';
import type { RedisClient } from './redis/scripts';
import { RedisUnsafeDemoStore } from './unsafe-demo/redis-unsafe-demo-store';
import { UnsafePurchase } from './unsafe-demo/unsafe-purchase';

export interface RunningService {
  readonly port: number;
  readonly server: Server;
  readonly redis: RedisClient;
  readonly logger: Logger;
  /** the sold-out marks and the restock channel that clears them; absent with SOLD_OUT_MARK_TTL_MS=0 */
  readonly soldOut: { readonly marks: SoldOutMarks; readonly restocks: RestockListener } | undefined;
  /** resolves once Redis is connected, scripts are loaded and /health can turn 200 */
  readonly ready: Promise<void>;
  /** graceful shutdown: /health 503, drain, finish in-flight requests, close Redis */
  stop(): Promise<void>;
}

export interface StartOptions {
  readonly logger?: Logger;
  readonly metrics?: Metrics;
}

/**
 * Starts one stateless instance: the HTTP listener at once (so /health/live answers while Redis is
 * still unreachable), and Redis in the background; /health turns 200 when scripts are loaded.
 */
export async function start(config: Config, options: StartOptions = {}): Promise<RunningService> {
  const logger = options.logger ?? createLogger(config.logLevel, config.instanceId);
  const metrics = options.metrics ?? new Metrics();
  const redis = createRedisClient(config.redis);
  const figures =
    config.serviceFiguresIntervalMs === undefined
      ? undefined
      : startServiceFigures({
          registry: metrics.registry,
          instanceId: config.instanceId,
          intervalMs: config.serviceFiguresIntervalMs,
        });
  const scripts = readScripts();
  defineScripts(redis, scripts);

  const store = new RedisInventoryStore(redis);
  // Orders the worker trimmed from Redis, and earlier sales', are read back from the system of record.
  const pool =
    config.database &&
    createPool(config.database, `flash-sale ${config.instanceId}`, (error) => {
      logger.warn({ error: error.message }, 'an idle PostgreSQL connection failed');
    });
  const catalogue = new Catalogue(store, pool && new PostgresOrderArchive(pool));
  const marks = config.soldOutMarkTtlMs > 0 ? new SoldOutMarks(config.soldOutMarkTtlMs) : undefined;
  const purchases = new PurchaseService(
    store,
    {
      waitReplicas: config.redis.waitReplicas,
      waitTimeoutMs: config.redis.waitTimeoutMs,
    },
    marks,
  );
  const soldOut = marks && {
    marks,
    restocks: listenForRestocks(createSubscriberClient(config.redis), marks, logger),
  };

  let scriptsLoaded = false;
  let draining = false;
  let stopped = false;
  let resolveReady: () => void = () => undefined;
  const ready = new Promise<void>((resolve) => {
    resolveReady = resolve;
  });

  /** SCRIPT LOAD and the default SKU, on every (re)connection until it has worked once */
  const prepare = async (): Promise<void> => {
    if (scriptsLoaded || stopped) return;
    try {
      await loadScripts(redis, scripts);
      const adopted = await store.adoptLegacyCatalogue();
      if (adopted > 0) logger.info({ skus: adopted }, 'catalogue: SKUs of the former set listed');
      await catalogue.ensureProduct(config.defaultSku, {
        name: config.defaultSku,
        price: 0,
        stock: config.defaultStock,
        perUserLimit: 0,
      });
      scriptsLoaded = true;
      await dataLoss.check();
      resolveReady();
      logger.info({ scripts: scripts.map((s) => s.command) }, 'scripts loaded; ready');
    } catch (error) {
      logger.warn({ err: error }, 'could not prepare Redis yet; retrying');
      await sleep(500);
      void prepare();
    }
  };

  // Without an 'error' listener ioredis errors would crash the process; during an outage they repeat at
  // every reconnection attempt, so they are logged once per outage, not once per attempt.
  let outage = false;
  redis.on('error', (error: Error) => {
    if (!outage && !stopped) logger.warn({ err: error }, 'redis error');
    outage = true;
  });
  const dataLoss = watchForDataLoss(redis, scripts, {
    everyMs: 5000,
    logger,
    onLost: () => {
      metrics.redisDataLoss();
    },
  });
  redis.on('ready', () => {
    if (outage) logger.info('redis reachable again');
    outage = false;
    if (scriptsLoaded) void dataLoss.check();
    else void prepare();
  });
  keepConnected(
    redis,
    () => stopped,
    () => {
      logger.warn('redis client stopped reconnecting by itself; connecting again');
    },
  );

  const { perUser, perIp, windowMs } = config.admission;
  const attemptLimits = [
    ...(perUser > 0 ? [new RedisAttemptLimit(redis, 'user', perUser, windowMs)] : []),
    ...(perIp > 0 ? [new RedisAttemptLimit(redis, 'ip', perIp, windowMs)] : []),
  ];

  const appClosed = new AbortController();
  const app = createApp({
    config,
    closed: appClosed.signal,
    purchases,
    unsafePurchase: config.unsafeEndpoint
      ? new UnsafePurchase(new RedisUnsafeDemoStore(redis), config.unsafeDelayMs)
      : undefined,
    catalogue,
    logger,
    metrics,
    attemptLimits,
    readiness: {
      isReady: () => scriptsLoaded,
      isDraining: () => draining,
      dataLostSince: () => dataLoss.lostSince(),
      ping: () => redis.ping(),
    },
  });

  const server = createServer(
    {
      // A slow client cannot hold a connection and a request slot forever: it gets a 408 once the
      // request timeout has passed. Node checks for expired requests every connectionsCheckingInterval
      // (30 s by default), which would let a short timeout run several times over.
      requestTimeout: config.requestTimeoutMs,
      headersTimeout: Math.min(66_000, config.requestTimeoutMs),
      connectionsCheckingInterval: Math.min(30_000, Math.max(100, Math.floor(config.requestTimeoutMs / 4))),
    },
    app,
  );
  // An ALB keeps idle connections for 60 s: ours must outlive them, or it would see resets.
  server.keepAliveTimeout = 65_000;
  server.listen(config.port);
  await once(server, 'listening');
  const port = (server.address() as AddressInfo).port;
  logger.info(
    {
      port,
      redisMode: config.redis.mode,
      unsafeEndpoint: config.unsafeEndpoint,
      rateLimits: { perUser, perIp, windowMs, trustProxy: config.admission.trustProxy },
    },
    'listening',
  );
  if (config.adminToken === undefined) {
    logger.warn('ADMIN_TOKEN is not set: admin routes are open (allowed only outside production)');
  }

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      draining = true;
      logger.info({ drainMs: config.shutdownDrainMs }, 'draining: /health now answers 503');
      if (config.shutdownDrainMs > 0) await sleep(config.shutdownDrainMs);
      const closed = once(server, 'close');
      server.close();
      server.closeIdleConnections();
      // The deadline timer is cancelled once the listener has closed: left running it would keep the
      // process (or a test runner hosting the service) alive for the whole timeout.
      const cancelDeadline = new AbortController();
      const deadline = sleep(config.shutdownTimeoutMs, 'timeout' as const, {
        signal: cancelDeadline.signal,
      }).catch(() => 'cancelled' as const);
      const first = await Promise.race([closed, deadline]);
      cancelDeadline.abort();
      if (first === 'timeout') {
        logger.warn('in-flight requests did not finish in time; closing their connections');
        server.closeAllConnections();
      }
      stopped = true;
      dataLoss.stop();
      // the last interval's figures: a scale-in must not lose them
      if (figures) {
        figures.stop();
        await figures.publish().catch(() => undefined);
      }
      appClosed.abort();
      await Promise.all([
        redis.quit().catch(() => {
          redis.disconnect();
        }),
        soldOut?.restocks.stop(),
        pool?.end().catch(() => undefined),
      ]);
      logger.info('stopped');
      flushLogger(logger);
    })();
    return stopping;
  };

  return { port, server, redis, logger, soldOut, ready, stop };
}
