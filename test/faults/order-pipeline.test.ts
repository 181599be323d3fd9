import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Client } from 'pg';
import type { Pool } from 'pg';
import { startPostgres } from '../../attack/local/postgres-server';
import type { LocalPostgres } from '../../attack/local/postgres-server';
import { startRedis } from '../../attack/local/redis-server';
import type { LocalRedis } from '../../attack/local/redis-server';
import { skuKeys } from '../../app/redis/keys';
import { EXPORT_GROUP } from '../../app/redis/order-outbox';
import { spawnApp } from '../support/app-process';
import type { AppProcess } from '../support/app-process';
import { startBuyers, waitUntil } from '../support/buyers';
import type { Buyers } from '../support/buyers';
import { migrateDatabase, ordersOf, testPool } from '../support/database';
import { TEST_ADMIN_TOKEN, auth, redisClient, uniqueSku } from '../support/fixtures';
import { recordFigures } from '../support/figures';
import { send } from '../support/http-client';
import { eventually, spawnWorker, verify } from '../support/pipeline';
import type { WorkerProcess } from '../support/pipeline';

/**
 * The order pipeline's faults, with real processes: two app instances taking purchases from buyers that
 * retry with their Idempotency-Key, order workers as their own processes, and a Redis and a PostgreSQL
 * of this file's own, so that they can be stopped, killed and locked. Each fault ends the same way:
 * `verify` exits 0, and PostgreSQL holds exactly the orders answered 200, once each.
 */
jest.setTimeout(120_000);

describe('the order pipeline under faults', () => {
  let postgres: LocalPostgres;
  let pgDir: string;
  let redis: LocalRedis | undefined;
  let redisDir: string;
  let pool: Pool;
  const apps: AppProcess[] = [];
  const workers: WorkerProcess[] = [];
  let buyers: Buyers | undefined;

  beforeAll(async () => {
    // a cluster directory that outlives the server, so that PostgreSQL can be stopped and started again
    pgDir = mkdtempSync(join(tmpdir(), 'flash-sale-pipeline-pg-'));
    postgres = await startPostgres({ dir: pgDir, fast: true });
    await migrateDatabase(postgres.url);
    pool = testPool(postgres.url);
  });
  afterEach(async () => {
    await buyers?.stop();
    buyers = undefined;
    await Promise.all([...workers.splice(0), ...apps.splice(0)].map((p) => p.stop('SIGKILL')));
    await redis?.stop();
    redis = undefined;
    if (redisDir) rmSync(redisDir, { recursive: true, force: true });
  });
  afterAll(async () => {
    await pool.end();
    await postgres.stop();
    rmSync(pgDir, { recursive: true, force: true });
  });

  /** Redis with an append-only file synced on every write, in a directory that survives a restart */
  async function freshRedis(): Promise<LocalRedis> {
    redisDir = mkdtempSync(join(tmpdir(), 'flash-sale-pipeline-redis-'));
    redis = await startRedis({ dir: redisDir, args: ['--appendonly', 'yes', '--appendfsync', 'always'] });
    return redis;
  }

  async function fleet(redisUrl: string, sku: string, stock: number): Promise<string[]> {
    const env = { REDIS_URL: redisUrl, ADMIN_TOKEN: TEST_ADMIN_TOKEN, DEFAULT_SKU: sku };
    apps.push(...(await Promise.all([spawnApp(env), spawnApp(env)])));
    const urls = apps.map((app) => app.url);
    const created = await send(urls[0] ?? '', {
      method: 'PUT',
      path: `/products/${sku}`,
      body: { name: 'Pipeline', price: 2, stock },
      headers: auth,
    });
    expect([200, 201]).toContain(created.status);
    return urls;
  }

  async function worker(redisUrl: string, env: Record<string, string> = {}): Promise<WorkerProcess> {
    const started = await spawnWorker({
      REDIS_URL: redisUrl,
      DATABASE_URL: postgres.url,
      WORKER_BATCH_SIZE: '20',
      ...env,
    });
    workers.push(started);
    return started;
  }

  function buy(urls: string[], sku: string): Buyers {
    buyers = startBuyers({ urls: () => urls, sku, buyers: 6, thinkMs: 5, giveUpAt: Date.now() + 60_000 });
    return buyers;
  }

  const answered = (b: Buyers): string[] => [...b.purchases.values()].filter((id) => id !== undefined);

  /** the two ends every fault must reach */
  async function expectExactlyOnce(
    redisUrl: string,
    sku: string,
    orderIds: string[],
    name: string,
    figures: Record<string, unknown>,
  ): Promise<void> {
    await eventually(
      async () => (await ordersOf(pool, sku)).length >= orderIds.length,
      30_000,
      'every order in PostgreSQL',
    );
    const run = await verify(['--sku', sku, '--wait-ms', '10000'], {
      REDIS_URL: redisUrl,
      DATABASE_URL: postgres.url,
    });
    const rows = await ordersOf(pool, sku);
    recordFigures(name, {
      ordersAnswered200: orderIds.length,
      rowsInPostgres: rows.length,
      verifyExit: run.code,
      ...figures,
    });
    expect(run.err).toBe('');
    expect(run.code).toBe(0);
    expect(rows).toHaveLength(orderIds.length);
    expect(rows.map((row) => row.order_id).sort()).toEqual([...orderIds].sort());
  }

  /** holds an exclusive lock on `orders` until released: a worker's INSERT waits, its batch in hand */
  async function lockOrders(): Promise<() => Promise<void>> {
    const client = new Client({ connectionString: postgres.url });
    await client.connect();
    await client.query('BEGIN');
    await client.query('LOCK TABLE orders IN ACCESS EXCLUSIVE MODE');
    return async () => {
      await client.query('COMMIT');
      await client.end();
    };
  }

  const pendingOf = async (redisUrl: string, sku: string): Promise<number> => {
    const client = redisClient(redisUrl);
    try {
      const summary = (await client.xpending(skuKeys(sku).orders, EXPORT_GROUP)) as [number, ...unknown[]];
      return summary[0];
    } finally {
      client.disconnect();
    }
  };

  it('when a worker is killed (SIGKILL) with a batch in hand, then another claims the batch, and every order reaches PostgreSQL once', async () => {
    const { url: redisUrl } = await freshRedis();
    const sku = uniqueSku('kill');
    const urls = await fleet(redisUrl, sku, 100_000);
    const b = buy(urls, sku);
    const first = await worker(redisUrl);
    await eventually(async () => (await ordersOf(pool, sku)).length >= 50, 30_000, 'the export under way');

    const release = await lockOrders();
    let inHand: number;
    try {
      // the worker's next batch is read, its INSERT waits on the lock: killed there, mid-batch
      await eventually(async () => (await pendingOf(redisUrl, sku)) > 0, 20_000, 'a batch in hand');
      await sleep(200);
      inHand = await pendingOf(redisUrl, sku);
      await first.stop('SIGKILL');
    } finally {
      await release();
    }
    const second = await worker(redisUrl);
    await waitUntil(() => b.successes() >= 300, 30_000, '300 purchases');
    await b.stop();
    await eventually(async () => (await pendingOf(redisUrl, sku)) === 0, 30_000, 'nothing pending');
    const metrics = String((await send(second.url, { method: 'GET', path: '/metrics' })).body.text);
    const redelivered = Number(/^flashsale_outbox_redeliveries_total (\d+)/m.exec(metrics)?.[1] ?? 0);
    expect(inHand).toBeGreaterThan(0);
    expect(redelivered).toBeGreaterThanOrEqual(inHand);
    await expectExactlyOnce(redisUrl, sku, answered(b), 'pipeline-worker-killed', {
      entriesInHandAtKill: inHand,
      redelivered,
    });
  });

  it('when a worker gets SIGTERM with a batch in hand, then it writes and acknowledges that batch before it exits', async () => {
    const { url: redisUrl } = await freshRedis();
    const sku = uniqueSku('term');
    const urls = await fleet(redisUrl, sku, 1000);
    for (let i = 0; i < 30; i += 1) {
      expect((await send(urls[i % 2] ?? '', { path: '/purchase/safe', body: { sku } })).status).toBe(200);
    }
    const release = await lockOrders();
    let running: WorkerProcess | undefined;
    let exit: Promise<number | null>;
    try {
      // all 30 read in one batch, whose INSERT waits on the lock
      running = await worker(redisUrl, { WORKER_BATCH_SIZE: '1000' });
      await eventually(async () => (await pendingOf(redisUrl, sku)) === 30, 20_000, 'the batch in hand');
      exit = running.stop('SIGTERM');
      await sleep(500);
    } finally {
      await release();
    }
    expect(await exit).toBe(0);
    expect(await ordersOf(pool, sku)).toHaveLength(30);
    expect(await pendingOf(redisUrl, sku)).toBe(0);
    expect(running.logs.map((entry) => entry.msg)).toContain('order worker stopped');
  });

  it('when PostgreSQL is stopped for several seconds during a storm, then orders wait in Redis and all arrive once it is back', async () => {
    const { url: redisUrl } = await freshRedis();
    const sku = uniqueSku('pgdown');
    const urls = await fleet(redisUrl, sku, 100_000);
    const b = buy(urls, sku);
    const running = await worker(redisUrl, { DATABASE_CONNECT_TIMEOUT_MS: '500' });
    await eventually(async () => (await ordersOf(pool, sku)).length >= 50, 30_000, 'the export under way');

    const port = postgres.port;
    await pool.end();
    await postgres.stop();
    const downAt = Date.now();
    const salesAtStop = b.successes();
    await sleep(4000);
    const healthDuringOutage = await send(running.url, { method: 'GET', path: '/health' });
    const salesDuringOutage = b.successes() - salesAtStop;
    postgres = await startPostgres({ dir: pgDir, port, fast: true });
    const upAt = Date.now();
    pool = testPool(postgres.url);

    await waitUntil(
      () => b.successes() >= salesAtStop + salesDuringOutage + 100,
      30_000,
      '100 purchases after',
    );
    await b.stop();
    expect(healthDuringOutage.status).toBe(503);
    expect(healthDuringOutage.body.failing).toContain('write');
    expect(salesDuringOutage).toBeGreaterThan(0);
    await expectExactlyOnce(redisUrl, sku, answered(b), 'pipeline-postgres-stopped', {
      outageMs: upAt - downAt,
      purchasesAnswered200DuringOutage: salesDuringOutage,
    });
  });

  it('when two workers run at once during a storm, then they share the logs and no order is written twice', async () => {
    const { url: redisUrl } = await freshRedis();
    const sku = uniqueSku('two');
    const urls = await fleet(redisUrl, sku, 100_000);
    const pair = await Promise.all([
      worker(redisUrl, { WORKER_BATCH_SIZE: '5' }),
      worker(redisUrl, { WORKER_BATCH_SIZE: '5' }),
    ]);
    // both at work before the storm, so that neither finds the logs already drained
    for (const w of pair) {
      await eventually(
        async () => (await send(w.url, { method: 'GET', path: '/health' })).status === 200,
        20_000,
        'a healthy worker',
      );
    }
    const b = buy(urls, sku);
    await waitUntil(() => b.successes() >= 400, 30_000, '400 purchases');
    await b.stop();
    await eventually(async () => (await pendingOf(redisUrl, sku)) === 0, 30_000, 'nothing pending');
    const exported = await Promise.all(
      pair.map(async (w) => {
        const text = String((await send(w.url, { method: 'GET', path: '/metrics' })).body.text);
        return Number(/^flashsale_orders_exported_total (\d+)/m.exec(text)?.[1] ?? 0);
      }),
    );
    expect(exported.every((count) => count > 0)).toBe(true);
    await expectExactlyOnce(redisUrl, sku, answered(b), 'pipeline-two-workers', { exportedByEach: exported });
  });

  it('when Redis is killed mid-storm and restarted from its append-only file, then every order answered 200 reaches PostgreSQL once', async () => {
    const local = await freshRedis();
    const redisUrl = local.url;
    const sku = uniqueSku('aof');
    const urls = await fleet(redisUrl, sku, 100_000);
    const b = buy(urls, sku);
    await worker(redisUrl);
    await eventually(async () => (await ordersOf(pool, sku)).length >= 50, 30_000, 'the export under way');

    local.process.kill('SIGKILL');
    await sleep(1500);
    redis = await startRedis({
      port: local.port,
      dir: redisDir,
      args: ['--appendonly', 'yes', '--appendfsync', 'always'],
    });
    const salesAtRestart = b.successes();
    await waitUntil(() => b.successes() >= salesAtRestart + 100, 30_000, '100 purchases after the restart');
    await b.stop();
    await expectExactlyOnce(redisUrl, sku, answered(b), 'pipeline-redis-restarted-from-aof', {});
  });

  it('when a SKU is reset while its orders wait for export, then both sales reach PostgreSQL and verify judges the new one', async () => {
    const { url: redisUrl } = await freshRedis();
    const sku = uniqueSku('reset');
    const urls = await fleet(redisUrl, sku, 40);
    const before = buy(urls, sku);
    await waitUntil(() => before.successes() >= 40, 30_000, 'the first sale sold out');
    await before.stop();
    const reset = await send(urls[0] ?? '', { path: `/stock/reset?sku=${sku}&amount=25`, headers: auth });
    expect(reset.status).toBe(200);
    const after = buy(urls, sku);
    await waitUntil(() => after.successes() >= 25, 30_000, 'the second sale sold out');
    await after.stop();
    await worker(redisUrl);
    await expectExactlyOnce(
      redisUrl,
      sku,
      [...answered(before), ...answered(after)],
      'pipeline-reset-with-backlog',
      {},
    );
    const sales = new Set((await ordersOf(pool, sku)).map((row) => row.sale));
    expect(sales.size).toBe(2);
  });
});
