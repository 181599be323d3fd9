import { once } from 'node:events';
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { OrderExporter } from '../domain/order-export';
import type { ExportObserver } from '../domain/order-export';
import { ExportMetrics } from '../observability/export-metrics';
import { createLogger, flushLogger } from '../observability/logger';
import type { Logger } from '../observability/logger';
import { PostgresOrderArchive } from '../postgres/order-archive';
import { createPool } from '../postgres/pool';
import type { Pool } from '../postgres/pool';
import { createRedisClient, keepConnected } from '../redis/client';
import { RedisOrderOutbox } from '../redis/order-outbox';
import { defineScripts, readScripts } from '../redis/scripts';
import type { RedisClient } from '../redis/scripts';
import type { WorkerConfig } from './worker-config';

export interface RunningWorker {
  readonly port: number;
  readonly exporter: OrderExporter;
  readonly metrics: ExportMetrics;
  readonly redis: RedisClient;
  readonly pool: Pool;
  /** settles once the export loop has ended (after stop(), or on a fault it could not handle) */
  readonly done: Promise<void>;
  /** SIGTERM: finish the batch in hand (written and acknowledged), then close; give up after the timeout */
  stop(): Promise<void>;
}

export interface StartWorkerOptions {
  readonly logger?: Logger;
  readonly metrics?: ExportMetrics;
}

/** a pass that has not started for this long means the loop is stuck: /health/live fails */
const LIVENESS_MS = 60_000;

/** Logs a failing stage once when it starts failing and once when it works again; counts every failure. */
function observe(logger: Logger, metrics: ExportMetrics): ExportObserver {
  return {
    committed: (written, skipped, seconds) => {
      metrics.exported.inc(written);
      metrics.duplicates.inc(skipped);
      metrics.batchSeconds.observe(seconds);
    },
    redelivered: (count) => {
      metrics.redeliveries.inc(count);
      logger.info({ entries: count }, 'claimed orders a quiet worker left unacknowledged');
    },
    trimmed: (count) => {
      metrics.trimmed.inc(count);
    },
    backlog: (bySku) => {
      metrics.backlog(bySku);
    },
    failed: (stage, error) => {
      metrics.failed(stage);
      // the message only: a driver's error object may carry the command and its arguments
      logger.warn(
        { stage, error: error instanceof Error ? error.message : String(error) },
        'export stage failing',
      );
    },
    recovered: (stage) => {
      logger.info({ stage }, 'export stage working again');
    },
  };
}

/**
 * Starts the order worker: the export loop over every SKU's order log, and a small HTTP listener for
 * health and metrics. Redis and PostgreSQL may be down at start: the loop retries, and /health says so.
 */
export async function startWorker(
  config: WorkerConfig,
  options: StartWorkerOptions = {},
): Promise<RunningWorker> {
  const logger = options.logger ?? createLogger(config.logLevel, config.instanceId);
  const metrics = options.metrics ?? new ExportMetrics();
  const redis = createRedisClient(config.redis);
  defineScripts(redis, readScripts());
  const pool = createPool(config.database, `flash-sale-worker ${config.instanceId}`, (error) => {
    logger.warn({ error: error.message }, 'an idle PostgreSQL connection failed');
  });

  let stopped = false;
  redis.on('error', () => undefined); // reported by the loop's stages, once per outage
  keepConnected(redis, () => stopped);

  const exporter = new OrderExporter(
    new RedisOrderOutbox(redis, config.instanceId),
    new PostgresOrderArchive(pool),
    {
      batchSize: config.batchSize,
      claimIdleMs: config.claimIdleMs,
      retentionMs: config.retentionMs,
      maxIdleWaitMs: config.maxIdleWaitMs,
      backlogEveryMs: config.backlogEveryMs,
      concurrency: config.concurrency,
    },
    observe(logger, metrics),
  );

  // A first pass before the connection is up would only report a failure that is not one.
  await Promise.race([once(redis, 'ready'), sleep(config.redis.connectTimeoutMs, undefined, { ref: false })]);

  const stopLoop = new AbortController();
  const giveUp = new AbortController();
  const done = exporter.run(stopLoop.signal, giveUp.signal);
  done.catch((error: unknown) => {
    logger.error({ error: error instanceof Error ? error.message : String(error) }, 'export loop failed');
  });

  // The line the deployment's backlog alarm is made from (a CloudWatch metric filter on `msg`).
  const report = setInterval(() => {
    logger.info(
      {
        pendingOrders: metrics.pending,
        oldestPendingAgeSeconds: Math.round(metrics.oldestPendingAgeSeconds() * 10) / 10,
      },
      'order backlog',
    );
  }, config.reportEveryMs);
  report.unref();

  const server = createServer((req, res) => {
    void answer(req, res);
  });
  const answer = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const send = (status: number, body: unknown, type = 'application/json'): void => {
      res.writeHead(status, { 'Content-Type': type, 'Cache-Control': 'no-store' });
      res.end(typeof body === 'string' ? body : JSON.stringify(body));
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('Allow', 'GET, HEAD');
      send(405, { status: 405, title: 'Method not allowed' });
      return;
    }
    const now = Date.now();
    switch (req.url) {
      case '/health/live': {
        const live = !stopped && now - exporter.heartbeatAt < LIVENESS_MS;
        send(live ? 200 : 503, { status: live ? 'live' : 'stuck' });
        return;
      }
      case '/health': {
        const healthyWithin = Math.max(10_000, 3 * config.maxIdleWaitMs);
        // failing now, or no pass has gone through lately (never yet, or stuck): not able to export
        const healthy =
          !stopped &&
          exporter.failingStages.length === 0 &&
          exporter.lastHealthyPassAt !== undefined &&
          now - exporter.lastHealthyPassAt < healthyWithin;
        send(healthy ? 200 : 503, {
          status: stopped ? 'stopping' : healthy ? 'ok' : 'degraded',
          failing: exporter.failingStages,
          errors: exporter.failures,
          redis: redis.status,
          msSinceLoopTurned: now - exporter.heartbeatAt,
          oldestPendingAgeSeconds: metrics.oldestPendingAgeSeconds(now),
        });
        return;
      }
      case '/metrics':
        send(200, await metrics.registry.metrics(), metrics.registry.contentType);
        return;
      default:
        send(404, { status: 404, title: 'Not found' });
    }
  };
  server.listen(config.port);
  await once(server, 'listening');
  const port = (server.address() as AddressInfo).port;
  logger.info({ port, consumer: config.instanceId, batchSize: config.batchSize }, 'order worker started');

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      stopped = true;
      stopLoop.abort();
      const deadline = sleep(config.shutdownTimeoutMs, 'timeout' as const, { ref: false });
      const first = await Promise.race([
        done.then(
          () => 'done' as const,
          () => 'done' as const,
        ),
        deadline,
      ]);
      if (first === 'timeout') {
        logger.warn('the batch in hand could not be written in time: it stays pending for another worker');
        giveUp.abort();
        await done.catch(() => undefined);
      }
      clearInterval(report);
      await closeServer(server);
      await Promise.all([
        redis.quit().catch(() => {
          redis.disconnect();
        }),
        pool.end().catch(() => undefined),
      ]);
      logger.info('order worker stopped');
      flushLogger(logger);
    })();
    return stopping;
  };

  return { port, exporter, metrics, redis, pool, done, stop };
}

async function closeServer(server: Server): Promise<void> {
  const closed = once(server, 'close');
  server.close();
  server.closeAllConnections();
  await closed;
}
