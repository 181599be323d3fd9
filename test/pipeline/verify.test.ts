import type { Pool } from 'pg';
import type { Redis } from 'ioredis';
import { skuKeys } from '../../app/redis/keys';
import type { RunningWorker } from '../../app/pipeline/start-worker';
import { ordersOf, scratchDatabase, testPool } from '../support/database';
import { auth, redisClient, startTestService, uniqueSku } from '../support/fixtures';
import type { TestService } from '../support/fixtures';
import { send } from '../support/http-client';
import { eventually, startTestWorker, verify } from '../support/pipeline';
import type { VerifyRun } from '../support/pipeline';
import { storm } from '../support/storm';
import { freePort } from '../../attack/local/free-port';
import { startRedis } from '../../attack/local/redis-server';
import type { LocalRedis } from '../../attack/local/redis-server';

/** `npm run verify` must catch every kind of drift, name the order, and exit 1; 2 when it cannot check. */
describe('npm run verify', () => {
  let service: TestService;
  let worker: RunningWorker;
  let pool: Pool;
  let redis: Redis;

  // A Redis of its own: a worker drains every SKU of its Redis, and another file's worker must not
  // take these orders.
  let privateRedis: LocalRedis;

  const check = (args: readonly string[], env: Record<string, string> = {}): Promise<VerifyRun> =>
    verify(args, { REDIS_URL: privateRedis.url, ...env });

  beforeAll(async () => {
    privateRedis = await startRedis();
    service = await startTestService({ REDIS_URL: privateRedis.url });
    worker = await startTestWorker({ REDIS_URL: privateRedis.url, REDIS_ORDER_RETENTION_MS: '3600000' });
    pool = testPool();
    redis = redisClient(privateRedis.url);
  });
  afterAll(async () => {
    await worker.stop();
    await service.stop();
    await pool.end();
    await redis.quit();
    await privateRedis.stop();
  });

  /** a SKU with `units` sold to `buyers` distinct users, every order in PostgreSQL */
  async function exportedSale(units: number, perUserLimit = 0): Promise<{ sku: string; orderIds: string[] }> {
    const sku = uniqueSku('verify');
    await send(service.url, {
      method: 'PUT',
      path: `/products/${sku}`,
      body: { name: 'Verify', price: 1, stock: units, perUserLimit },
      headers: auth,
    });
    const result = await storm({
      urls: [service.url],
      path: '/purchase/safe',
      requests: units,
      body: (i) => ({ sku, userId: `u${i}` }),
    });
    expect(result.count(200)).toBe(units);
    await eventually(async () => (await ordersOf(pool, sku)).length === units, 20_000, 'the sale exported');
    return { sku, orderIds: result.successes.map((s) => s.orderId) };
  }

  it('when Redis and PostgreSQL agree, then it prints the table and exits 0', async () => {
    const { sku } = await exportedSale(8);
    const run = await check(['--sku', sku, '--wait-ms', '0']);
    expect(run.code).toBe(0);
    expect(run.out).toMatch(
      /^sku +sale started +stocked +remaining +sold +orders +in PostgreSQL +backlog +result$/m,
    );
    expect(run.out).toMatch(new RegExp(`^${sku} +\\S+ +8 +0 +8 +8 +8 +0 +ok$`, 'm'));
    expect(run.out).toContain('verify: ok: 1 SKU(s), 8 orders');
  });

  it('when a row was deleted from PostgreSQL, then it exits 1 and names the missing order', async () => {
    const { sku, orderIds } = await exportedSale(4);
    const victim = orderIds[1] ?? '';
    await pool.query('DELETE FROM orders WHERE order_id = $1', [victim]);
    const run = await check(['--sku', sku, '--wait-ms', '0']);
    expect(run.code).toBe(1);
    expect(run.out).toContain(`${sku}: missing ${victim}: acknowledged as exported, but not in PostgreSQL`);
    expect(run.out).toContain('verify: DRIFT');
  });

  it('when PostgreSQL holds a row Redis never logged, then it exits 1 and names it', async () => {
    const { sku, orderIds } = await exportedSale(3);
    const [, entryId] = (orderIds[0] ?? '').split(':');
    const forged = `${sku}:${entryId ?? ''}:forgedtokenAAAAA`.replace(
      /:forgedtokenAAAAA$/,
      ':ForgedToken_0001',
    );
    const { rows } = await pool.query<{ sale: string }>('SELECT sale FROM orders WHERE sku = $1 LIMIT 1', [
      sku,
    ]);
    await pool.query(
      `INSERT INTO orders (order_id, sku, sale, quantity, method, created_at) VALUES ($1, $2, $3, 1, 'safe', now())`,
      [forged, sku, rows[0]?.sale],
    );
    const run = await check(['--sku', sku, '--wait-ms', '0']);
    expect(run.code).toBe(1);
    expect(run.out).toContain(`${sku}: unlogged ${forged}: in PostgreSQL, but Redis never logged it`);
  });

  it('when a quantity was changed in PostgreSQL, then it exits 1 and names the order and both quantities', async () => {
    const { sku, orderIds } = await exportedSale(3);
    const victim = orderIds[2] ?? '';
    await pool.query('UPDATE orders SET quantity = 5 WHERE order_id = $1', [victim]);
    const run = await check(['--sku', sku, '--wait-ms', '0']);
    expect(run.code).toBe(1);
    expect(run.out).toContain(`${sku}: mismatch ${victim}: quantity 1 in Redis, 5 in PostgreSQL`);
  });

  it('when the stock in Redis no longer adds up, then it exits 1 with the conservation finding', async () => {
    const { sku } = await exportedSale(3);
    await redis.incrby(skuKeys(sku).stock, 2);
    const run = await check(['--sku', sku, '--wait-ms', '0']);
    expect(run.code).toBe(1);
    expect(run.out).toContain(`${sku}: conservation: stocked 3 ≠ remaining 2 + 3 units`);
  });

  it('when a user holds more than the per-user limit, then it exits 1 and names their orders', async () => {
    const { sku, orderIds } = await exportedSale(2, 1);
    // make both orders one user's, in Redis (by a hand edit) and in PostgreSQL
    await pool.query("UPDATE orders SET user_id = 'u0' WHERE sku = $1", [sku]);
    const run = await check(['--sku', sku, '--wait-ms', '0']);
    expect(run.code).toBe(1);
    expect(run.out).toMatch(/mismatch .*userId "u1" in Redis, "u0" in PostgreSQL/);
    expect(orderIds).toHaveLength(2);
  });

  it('when orders are still on their way, then it waits for them before judging', async () => {
    const sku = uniqueSku('verify');
    await send(service.url, {
      method: 'PUT',
      path: `/products/${sku}`,
      body: { name: 'V', price: 1, stock: 5 },
      headers: auth,
    });
    // afterAll stops whichever worker is current: the stopped one again (a no-op), or its successor
    await worker.stop();
    await storm({ urls: [service.url], path: '/purchase/safe', requests: 5, body: { sku } });
    const early = await check(['--sku', sku, '--wait-ms', '0']);
    expect(early.code).toBe(0);
    expect(early.out).toContain('5 orders still on their way to PostgreSQL');
    const waiting = check(['--sku', sku, '--wait-ms', '20000']);
    worker = await startTestWorker({ REDIS_URL: privateRedis.url, REDIS_ORDER_RETENTION_MS: '3600000' });
    const run = await waiting;
    expect(run.code).toBe(0);
    expect(run.out).toMatch(new RegExp(`^${sku} +\\S+ +5 +0 +5 +5 +5 +0 +ok$`, 'm'));
  });

  it('when it cannot check, then it exits 2 and says why', async () => {
    const down = `postgres://postgres@127.0.0.1:${await freePort()}/postgres`;
    const noDatabase = await check(['--wait-ms', '0'], {
      DATABASE_URL: down,
      DATABASE_CONNECT_TIMEOUT_MS: '300',
    });
    expect(noDatabase).toMatchObject({ code: 2 });
    expect(noDatabase.err).toMatch(/^verify: cannot reach PostgreSQL/);
    const noRedis = await check(['--wait-ms', '0'], { REDIS_URL: `redis://127.0.0.1:${await freePort()}` });
    expect(noRedis).toMatchObject({ code: 2 });
    expect(noRedis.err).toMatch(/^verify: cannot reach Redis/);
    const unknown = await check(['--sku', uniqueSku('nope'), '--wait-ms', '0']);
    expect(unknown).toMatchObject({ code: 2 });
    expect(unknown.err).toMatch(/^verify: no such SKU in Redis: nope-/);
    // nothing to compare in an empty Redis: PostgreSQL is still asked, and its absence reported
    const empty = await startRedis();
    try {
      const noDatabaseEmptyRedis = await verify(['--wait-ms', '0'], {
        REDIS_URL: empty.url,
        DATABASE_URL: down,
        DATABASE_CONNECT_TIMEOUT_MS: '300',
      });
      expect(noDatabaseEmptyRedis).toMatchObject({ code: 2 });
      expect(noDatabaseEmptyRedis.err).toMatch(/^verify: cannot reach PostgreSQL/);
      const unmigrated = await scratchDatabase();
      try {
        const noTable = await verify(['--wait-ms', '0'], {
          REDIS_URL: empty.url,
          DATABASE_URL: unmigrated.url,
        });
        expect(noTable).toMatchObject({ code: 2 });
        expect(noTable.err).toBe('verify: PostgreSQL has no orders table: run `npm run migrate` first\n');
      } finally {
        await unmigrated.drop();
      }
      const nothingToCheck = await verify(['--wait-ms', '0'], { REDIS_URL: empty.url });
      expect(nothingToCheck).toMatchObject({ code: 0 });
      expect(nothingToCheck.out).toContain('verify: ok: the catalogue in Redis is empty, nothing to check');
    } finally {
      await empty.stop();
    }
    const badArgs = await check(['--wait-ms', 'soon']);
    expect(badArgs).toMatchObject({ code: 2 });
    expect(badArgs.err).toContain('--wait-ms');
  });
});
