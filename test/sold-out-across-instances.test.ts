import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Redis } from 'ioredis';
import request from 'supertest';
import { startRedis } from '../attack/local/redis-server';
import type { LocalRedis } from '../attack/local/redis-server';
import type { SoldOutMarks } from '../app/domain/sold-out-marks';
import { skuKeys } from '../app/redis/keys';
import { auth, redisClient, soldOutProblem, startTestService, uniqueSku } from './support/fixtures';
import type { TestService } from './support/fixtures';
import { expectConserved, readSkuState } from './support/invariants';
import { storm } from './support/storm';

/**
 * The sold-out mark across instances, on a Redis of its own so that INFO commandstats counts only what
 * these instances do. The marks' TTL is 10 minutes here: whatever clears a mark within a test can only be
 * the restock message or the reconnection, never the TTL.
 */
describe('the sold-out mark on two instances', () => {
  const TTL_MS = 600_000;
  let local: LocalRedis;
  let redis: Redis;
  let a: TestService;
  let b: TestService;

  beforeAll(async () => {
    local = await startRedis();
    redis = redisClient(local.url);
    const env = { REDIS_URL: local.url, SOLD_OUT_MARK_TTL_MS: String(TTL_MS) };
    [a, b] = await Promise.all([startTestService(env), startTestService(env)]);
    await Promise.all([listening(a), listening(b)]);
  });
  afterAll(async () => {
    await Promise.all([a.stop(), b.stop()]);
    await redis.quit();
    await local.stop();
  });

  function marksOf(svc: TestService): SoldOutMarks {
    const soldOut = svc.service.soldOut;
    if (!soldOut) throw new Error('the sold-out mark is off');
    return soldOut.marks;
  }

  /** until the instance has subscribed to the restock channel, marks are off: wait for it */
  async function listening(svc: TestService): Promise<void> {
    const deadline = Date.now() + 10_000;
    while (!marksOf(svc).trusted) {
      if (Date.now() > deadline) throw new Error('the restock listener never subscribed');
      await sleep(5);
    }
  }

  /** scripts (EVALSHA, EVAL) Redis has run: one per purchase that reached it */
  async function scriptsRun(): Promise<number> {
    const info = await redis.info('commandstats');
    let calls = 0;
    for (const match of info.matchAll(/^cmdstat_(evalsha|eval):calls=(\d+)/gm)) calls += Number(match[2]);
    return calls;
  }

  const stock = async (svc: TestService, sku: string, units: number): Promise<void> => {
    await request(svc.url).post(`/stock/reset?sku=${sku}&amount=${units}`).set(auth).expect(200);
  };
  const buy = (svc: TestService, sku: string) => request(svc.url).post('/purchase/safe').send({ sku });

  /** sells the SKU out on `svc` and returns once its mark is set */
  async function sellOut(svc: TestService, sku: string, units: number): Promise<void> {
    await stock(svc, sku, units);
    for (let i = 0; i < units; i += 1) await buy(svc, sku).expect(200);
    await buy(svc, sku).expect(409);
    expect(marksOf(svc).isSoldOut(sku)).toBe(true);
  }

  it('when a SKU is marked sold out, then refusals answer the same 409 and run no script in Redis', async () => {
    const sku = uniqueSku('mark');
    await sellOut(a, sku, 1);
    const before = await scriptsRun();
    for (let i = 0; i < 50; i += 1) {
      const res = await buy(a, sku).expect(409);
      expect(res.body).toEqual(soldOutProblem(sku));
    }
    expect(await scriptsRun()).toBe(before);
    // a purchase with an Idempotency-Key still asks Redis: it could be the replay of a success
    await request(a.url).post('/purchase/safe').set('Idempotency-Key', 'late-1').send({ sku }).expect(409);
    expect(await scriptsRun()).toBe(before + 1);
  });

  it('when a SKU sold out on A is restocked through B, then A sells again as soon as the restock message arrives, not when the mark expires', async () => {
    const sku = uniqueSku('mark');
    await sellOut(a, sku, 1);
    await stock(b, sku, 5);
    const restocked = performance.now();
    let refused = 0;
    for (;;) {
      const res = await buy(a, sku);
      if (res.status === 200) break;
      expect(res.status).toBe(409);
      refused += 1;
      // bounded by a tiny fraction of the TTL: only the message can have cleared the mark
      expect(performance.now() - restocked).toBeLessThan(5_000);
      await sleep(1);
    }
    const window = performance.now() - restocked;
    expect(window).toBeLessThan(TTL_MS);
    // The restock's own answer comes after its PUBLISH: A usually has the message before B answers.
    // Reported, not asserted: wall-clock on a shared CI machine proves nothing either way.
    console.info(
      `sold-out mark cleared on A ${window.toFixed(1)} ms after B's restock answered (${refused} purchase(s) refused meanwhile)`,
    );
  });

  it('when Redis has no stock, then no purchase gets through on any instance, and after a restock every unit sells', async () => {
    const sku = uniqueSku('mark');
    const UNITS = 20;
    for (const from of [a, b]) {
      await stock(from, sku, UNITS);
      const result = await storm({
        urls: [a.url, b.url],
        path: '/purchase/safe',
        requests: 300,
        body: { sku },
        connections: 50,
      });
      expect(result.transportErrors).toBe(0);
      expect(result.count(200)).toBe(UNITS);
      expect(result.count(409)).toBe(300 - UNITS);
      const state = await readSkuState(redis, sku);
      expect(state.stock).toBe(0);
      expect(state.orders).toHaveLength(UNITS);
      expectConserved(state);
      // the late buyers were turned away: both instances hold the mark
      expect(marksOf(a).isSoldOut(sku) && marksOf(b).isSoldOut(sku)).toBe(true);
    }
  });

  it('when the restock channel connection drops, then marks are dropped, and a restock it could not hear no longer refuses buyers once it resubscribed', async () => {
    const sku = uniqueSku('mark');
    await sellOut(a, sku, 1);
    // A restock nobody announces (as if its message were lost): the mark still refuses...
    await redis.set(skuKeys(sku).stock, 3);
    await buy(a, sku).expect(409);
    expect(marksOf(a).isSoldOut(sku)).toBe(true);

    // ...until the subscriber's connection is cut: the instance cannot know what it missed meanwhile.
    const connection = a.service.soldOut?.restocks.connection;
    const port = connection?.stream.localPort;
    const clients = await redis.client('LIST');
    const id = /^id=(\d+) addr=127\.0\.0\.1:(\d+) /gm;
    const victim = [...String(clients).matchAll(id)].find((m) => Number(m[2]) === port)?.[1];
    expect(victim).toBeDefined();
    const dropped = new Promise<void>((resolve) =>
      connection?.once('close', () => {
        resolve();
      }),
    );
    await redis.client('KILL', 'ID', String(victim));
    await dropped;
    expect(marksOf(a).trusted).toBe(false);
    expect(marksOf(a).isSoldOut(sku)).toBe(false);

    await listening(a);
    expect(marksOf(a).size).toBe(0);
    await buy(a, sku).expect(200);
    // and the marks work again after the reconnection
    await buy(a, sku).expect(200);
    await buy(a, sku).expect(200);
    await buy(a, sku).expect(409);
    expect(marksOf(a).isSoldOut(sku)).toBe(true);
  });
});
