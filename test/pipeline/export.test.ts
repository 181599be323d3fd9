import type { Pool } from 'pg';
import type { Redis } from 'ioredis';
import { skuKeys } from '../../app/redis/keys';
import { EXPORT_GROUP } from '../../app/redis/order-outbox';
import type { RunningWorker } from '../../app/pipeline/start-worker';
import { ordersOf, testDatabaseUrl, testPool } from '../support/database';
import { auth, redisClient, startTestService, uniqueSku } from '../support/fixtures';
import type { TestService } from '../support/fixtures';
import { send } from '../support/http-client';
import { eventually, startTestWorker, verify } from '../support/pipeline';
import type { VerifyRun } from '../support/pipeline';
import { storm } from '../support/storm';
import { freePort } from '../../attack/local/free-port';
import { startRedis } from '../../attack/local/redis-server';
import type { LocalRedis } from '../../attack/local/redis-server';

/**
 * The order pipeline against a real Redis and a real PostgreSQL: purchases over HTTP, the worker in this
 * process, verify at the end.
 */
describe('the order worker', () => {
  let service: TestService;
  let pool: Pool;
  let redis: Redis;
  const workers: RunningWorker[] = [];

  // A Redis of its own: a worker drains every SKU of its Redis, and another file's worker must not
  // take these orders.
  let privateRedis: LocalRedis;

  const check = (args: readonly string[], env: Record<string, string> = {}): Promise<VerifyRun> =>
    verify(args, { REDIS_URL: privateRedis.url, ...env });

  beforeAll(async () => {
    privateRedis = await startRedis();
    service = await startTestService({ REDIS_URL: privateRedis.url, DATABASE_URL: testDatabaseUrl() });
    pool = testPool();
    redis = redisClient(privateRedis.url);
  });
  afterEach(async () => {
    await Promise.all(workers.splice(0).map((worker) => worker.stop()));
  });
  afterAll(async () => {
    await service.stop();
    await pool.end();
    await redis.quit();
    await privateRedis.stop();
  });

  async function stocked(units: number, perUserLimit = 0): Promise<string> {
    const sku = uniqueSku('export');
    const res = await send(service.url, {
      method: 'PUT',
      path: `/products/${sku}`,
      body: { name: 'Export', price: 3, stock: units, perUserLimit },
      headers: auth,
    });
    expect(res.status).toBe(201);
    return sku;
  }

  async function worker(env: Record<string, string> = {}): Promise<RunningWorker> {
    const started = await startTestWorker({ REDIS_URL: privateRedis.url, ...env });
    workers.push(started);
    return started;
  }

  const rowsFor = async (sku: string): Promise<number> => (await ordersOf(pool, sku)).length;

  it('when a storm has sold out a SKU, then PostgreSQL holds exactly the orders answered 200, once each and as answered', async () => {
    const sku = await stocked(60, 2);
    const result = await storm({
      urls: [service.url],
      path: '/purchase/safe',
      requests: 200,
      body: (i) => ({ sku, quantity: 1 + (i % 2), userId: `user-${i % 50}` }),
    });
    await worker();
    await eventually(
      async () => (await rowsFor(sku)) >= result.count(200),
      20_000,
      'every order in PostgreSQL',
    );
    const rows = await ordersOf(pool, sku);
    expect(rows).toHaveLength(result.count(200));
    const answered = new Map(result.successes.map((s) => [s.orderId, s]));
    for (const row of rows) {
      expect(answered.get(row.order_id)?.quantity).toBe(row.quantity);
      expect(row).toMatchObject({ sku, method: 'safe' });
      expect(row.user_id).toMatch(/^user-\d+$/);
    }
    expect(rows.reduce((sum, row) => sum + row.quantity, 0)).toBe(60);
    const checked = await check(['--sku', sku, '--wait-ms', '0']);
    expect(checked).toMatchObject({ code: 0 });
  });

  it('when a SKU is created while the worker runs, then its orders are exported without a restart', async () => {
    const running = await worker();
    await eventually(
      () => Promise.resolve(running.exporter.lastHealthyPassAt !== undefined),
      10_000,
      'a first pass',
    );
    const sku = await stocked(5);
    for (let i = 0; i < 5; i += 1) {
      expect((await send(service.url, { path: '/purchase/safe', body: { sku } })).status).toBe(200);
    }
    await eventually(async () => (await rowsFor(sku)) === 5, 20_000, 'the new SKU exported');
  });

  it('when two workers drain the same logs, then they share the work and no order is written twice', async () => {
    const skus = await Promise.all([stocked(150), stocked(150), stocked(150)]);
    const [first, second] = await Promise.all([
      worker({ WORKER_BATCH_SIZE: '10' }),
      worker({ WORKER_BATCH_SIZE: '10' }),
    ]);
    const result = await storm({
      urls: [service.url],
      path: '/purchase/safe',
      requests: 450,
      body: (i) => ({ sku: skus[i % 3] }),
    });
    expect(result.count(200)).toBe(450);
    for (const sku of skus)
      await eventually(async () => (await rowsFor(sku)) === 150, 30_000, `${sku} exported`);
    const [byFirst, bySecond] = await Promise.all([first, second].map((w) => w.metrics.exported.get()));
    expect((byFirst?.values[0]?.value ?? 0) + (bySecond?.values[0]?.value ?? 0)).toBe(450);
    expect(byFirst?.values[0]?.value).toBeGreaterThan(0);
    expect(bySecond?.values[0]?.value).toBeGreaterThan(0);
    expect((await check([...skus.flatMap((sku) => ['--sku', sku]), '--wait-ms', '0'])).code).toBe(0);
  });

  it('when a SKU is reset while orders wait for export, then the earlier sale reaches PostgreSQL too, and verify judges the new sale', async () => {
    const sku = await stocked(10);
    const before = await storm({ urls: [service.url], path: '/purchase/safe', requests: 10, body: { sku } });
    const reset = await send(service.url, { path: `/stock/reset?sku=${sku}&amount=4`, headers: auth });
    expect(reset.status).toBe(200);
    const after = await storm({ urls: [service.url], path: '/purchase/safe', requests: 4, body: { sku } });
    expect([before.count(200), after.count(200)]).toEqual([10, 4]);
    await worker();
    await eventually(async () => (await rowsFor(sku)) === 14, 20_000, 'both sales exported');
    const rows = await ordersOf(pool, sku);
    expect(new Set(rows.map((row) => row.sale)).size).toBe(2);
    const checked = await check(['--sku', sku, '--wait-ms', '0']);
    expect(checked.code).toBe(0);
    expect(checked.out).toMatch(new RegExp(`${sku} .* 4 +0 +4 +4 +4 +0 +ok`));
  });

  it('when exported orders are trimmed from Redis, then Redis keeps only what is pending, and lookups and verify still find them', async () => {
    const sku = await stocked(30);
    const result = await storm({ urls: [service.url], path: '/purchase/safe', requests: 30, body: { sku } });
    await worker({ REDIS_ORDER_RETENTION_MS: '0' });
    await eventually(async () => (await rowsFor(sku)) === 30, 20_000, 'the orders exported');
    // the group's last delivered entry stays until the next trim sees a later one: at most one left
    await eventually(
      async () => (await redis.xlen(skuKeys(sku).orders)) <= 1,
      20_000,
      'the exported orders trimmed',
    );
    for (const { orderId } of result.successes.slice(0, 5)) {
      const order = await send(service.url, { method: 'GET', path: `/orders/${orderId}` });
      expect(order.status).toBe(200);
      expect(order.body).toMatchObject({ orderId, sku, quantity: 1, method: 'safe' });
    }
    const checked = await check(['--sku', sku, '--wait-ms', '0']);
    expect(checked.code).toBe(0);
  });

  it('when a retention is set, then exported orders younger than it stay in Redis', async () => {
    const sku = await stocked(5);
    await storm({ urls: [service.url], path: '/purchase/safe', requests: 5, body: { sku } });
    const running = await worker({ REDIS_ORDER_RETENTION_MS: '3600000' });
    await eventually(async () => (await rowsFor(sku)) === 5, 20_000, 'the orders exported');
    await running.exporter.pass();
    expect(await redis.xlen(skuKeys(sku).orders)).toBe(5);
    const pending = (await redis.xpending(skuKeys(sku).orders, EXPORT_GROUP)) as [number, ...unknown[]];
    expect(pending[0]).toBe(0);
  });

  it('when PostgreSQL cannot be reached, then orders wait in Redis, /health and the metrics say so, and another worker takes them over', async () => {
    const sku = await stocked(20);
    await storm({ urls: [service.url], path: '/purchase/safe', requests: 20, body: { sku } });
    const unreachable = new URL(testDatabaseUrl());
    unreachable.port = String(await freePort());
    const stuck = await worker({
      DATABASE_URL: unreachable.toString(),
      DATABASE_CONNECT_TIMEOUT_MS: '200',
      SHUTDOWN_TIMEOUT_MS: '500',
    });
    const stuckUrl = `http://127.0.0.1:${stuck.port}`;
    await eventually(
      async () => String((await send(stuckUrl, { method: 'GET', path: '/health' })).body.failing) === 'write',
      20_000,
      'the write failing',
    );
    const health = await send(stuckUrl, { method: 'GET', path: '/health' });
    expect(health).toMatchObject({ status: 503, body: { status: 'degraded', failing: ['write'] } });
    expect((await send(stuckUrl, { method: 'GET', path: '/health/live' })).status).toBe(200);
    const backlog = await stuck.exporter.measureBacklog([sku]);
    expect(backlog.get(sku)?.pending).toBe(20);
    expect(stuck.metrics.oldestPendingAgeSeconds()).toBeGreaterThan(0);
    const metrics = String((await send(stuckUrl, { method: 'GET', path: '/metrics' })).body.text);
    expect(metrics).toContain(`flashsale_outbox_pending_entries{sku="${sku}"} 20`);
    expect(metrics).toMatch(/flashsale_export_failures_total\{stage="write"\} [1-9]/);
    expect(await rowsFor(sku)).toBe(0);

    // the stuck worker holds the orders; a healthy one claims them once they have been idle long enough
    const healthy = await worker();
    await eventually(
      async () => (await rowsFor(sku)) === 20,
      20_000,
      'the orders exported by the other worker',
    );
    expect((await healthy.metrics.redeliveries.get()).values[0]?.value).toBe(20);
    await healthy.exporter.measureBacklog([sku]);
    expect(await healthy.metrics.registry.metrics()).not.toContain(`sku="${sku}"`);
    expect(healthy.metrics.oldestPendingAgeSeconds()).toBe(0);
    expect((await check(['--sku', sku, '--wait-ms', '0'])).code).toBe(0);
  });

  it('when an order of an earlier sale is looked up after a reset and its trim, by id or by its Idempotency-Key, then it comes from PostgreSQL', async () => {
    const sku = await stocked(3);
    const bought = await send(service.url, {
      path: '/purchase/safe',
      body: { sku, userId: 'lou' },
      headers: { 'idempotency-key': 'earlier-sale-key' },
    });
    const orderId = String(bought.body.orderId);
    await send(service.url, { path: `/stock/reset?sku=${sku}&amount=3`, headers: auth });
    await worker({ REDIS_ORDER_RETENTION_MS: '0' });
    await eventually(async () => (await rowsFor(sku)) === 1, 20_000, 'the order exported');
    // whatever the trim left of the log goes too: only PostgreSQL can answer now
    await redis.xtrim(skuKeys(sku).orders, 'MAXLEN', 0);
    const byId = await send(service.url, {
      method: 'GET',
      path: `/orders/${orderId}`,
      headers: { 'x-user-id': 'lou' },
    });
    expect(byId).toMatchObject({ status: 200, body: { orderId, sku, quantity: 1, userId: 'lou' } });
    const byKey = await send(service.url, {
      method: 'GET',
      path: `/orders?sku=${sku}`,
      headers: { 'idempotency-key': 'earlier-sale-key' },
    });
    expect(byKey).toMatchObject({ status: 200, body: { orderId, userId: 'lou' } });
  });
});
