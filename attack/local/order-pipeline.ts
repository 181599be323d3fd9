import { fork } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Writable } from 'node:stream';
import type { SkuReport } from '../../app/domain/reconcile';
import { verifyOrders } from '../../app/pipeline/verify-orders';
import { migrate } from '../../app/postgres/migrations';
import { PostgresOrderArchive } from '../../app/postgres/order-archive';
import { createPool } from '../../app/postgres/pool';
import { createRedisClient } from '../../app/redis/client';
import { RedisOrderLogReader } from '../../app/redis/order-log-reader';
import { loadConfig } from '../../app/config';
import { entryPoint } from './cluster-fleet';
import { hasPostgres, startPostgres } from './postgres-server';

/**
 * The order pipeline beside a local fleet, for the demo: PostgreSQL (DATABASE_URL, or a private one
 * started from the machine's initdb), its migrations, and one order worker as its own process draining
 * the fleet's Redis into it. `check` is `npm run verify` for one SKU.
 */
export interface LocalOrderPipeline {
  readonly databaseUrl: string;
  /** where the orders go, for the presenter's terminal */
  readonly label: string;
  /** verify's report for `sku`, once its orders have reached PostgreSQL (or `waitMs` has passed) */
  check(sku: string, waitMs?: number): Promise<SkuReport>;
  stop(): Promise<void>;
  /** synchronous, for an 'exit' listener: kills what would outlive this process */
  readonly kill: () => void;
}

export interface OrderPipelineOptions {
  readonly redisUrl: string;
  /** DATABASE_URL as the user gave it; a private PostgreSQL otherwise */
  readonly databaseUrl: string | undefined;
  /** the worker's log lines */
  readonly log: Writable;
}

const WORKER_START_MS = 30_000;

/** undefined when no PostgreSQL can be had: no DATABASE_URL and no server binaries here */
export async function startOrderPipeline(
  options: OrderPipelineOptions,
): Promise<LocalOrderPipeline | undefined> {
  const owned: { stop: () => Promise<void>; kill: () => void }[] = [];
  let databaseUrl = options.databaseUrl;
  let label = 'DATABASE_URL';
  if (databaseUrl === undefined) {
    if (!hasPostgres()) return undefined;
    const postgres = await startPostgres({ ownProcessGroup: true });
    owned.push(postgres);
    databaseUrl = postgres.url;
    label = `private PostgreSQL on 127.0.0.1:${postgres.port}`;
  }
  const stopOwned = async (): Promise<void> => {
    for (const part of owned.reverse()) await part.stop();
  };

  // the service's own parsing of the two URLs, so that a bad one reads as it would at start-up
  const settings = loadConfig({ REDIS_URL: options.redisUrl, DATABASE_URL: databaseUrl });
  const database = settings.database;
  if (!database) throw new Error('DATABASE_URL was not read');
  const pool = createPool(database, 'flash-sale demo');
  const redis = createRedisClient(settings.redis, { commandTimeout: 10_000 });
  redis.on('error', () => undefined);
  try {
    await migrate(pool);
    await redis.connect();
    const { exec, execArgv } = entryPoint(join('..', '..', 'app', 'worker'));
    const worker = fork(exec, [], {
      execArgv,
      env: {
        PATH: process.env.PATH,
        NODE_ENV: 'development',
        PORT: '0',
        LOG_LEVEL: 'info',
        REDIS_URL: options.redisUrl,
        DATABASE_URL: databaseUrl,
        // the demo checks each run's orders right after it: look at an empty outbox often
        WORKER_IDLE_WAIT_MS: '50',
      },
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      // its own process group: the demo decides when it stops, after the last check (see redis-server.ts)
      detached: true,
    });
    const exited = once(worker, 'exit');
    worker.stderr?.pipe(options.log, { end: false });
    const kill = (): void => {
      worker.kill('SIGKILL');
    };
    owned.push({
      kill,
      stop: async () => {
        if (worker.exitCode !== null || worker.signalCode !== null) return;
        worker.kill('SIGTERM');
        await exited;
      },
    });
    const { stdout } = worker;
    if (!stdout) throw new Error('the order worker has no stdout');
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(new Error(`the order worker did not start in ${WORKER_START_MS} ms`));
      }, WORKER_START_MS);
      void exited.then(([code]) => {
        clearTimeout(timer);
        reject(new Error(`the order worker exited with code ${String(code)} while starting`));
      });
      createInterface({ input: stdout }).on('line', (line) => {
        options.log.write(`${line}\n`);
        if (line.includes('"msg":"order worker started"')) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
  } catch (error) {
    redis.disconnect();
    await pool.end().catch(() => undefined);
    await stopOwned();
    throw error;
  }

  const reader = new RedisOrderLogReader(redis);
  const archive = new PostgresOrderArchive(pool);
  return {
    databaseUrl,
    label,
    check: async (sku, waitMs = 30_000) => {
      const result = await verifyOrders(reader, archive, { skus: [sku], waitMs });
      const report = result.reports[0];
      if (!report) throw new Error(`verify found no SKU ${sku} in Redis`);
      return report;
    },
    stop: async () => {
      redis.disconnect();
      await pool.end().catch(() => undefined);
      await stopOwned();
    },
    kill: () => {
      for (const part of owned) part.kill();
    },
  };
}
