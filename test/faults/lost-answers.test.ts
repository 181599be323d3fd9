import { openPurchase } from '../support/raw-http';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { startRedis } from '../../attack/local/redis-server';
import type { LocalRedis } from '../../attack/local/redis-server';
import { startBuyers } from '../support/buyers';
import { auth, redisClient, startTestService, uniqueSku } from '../support/fixtures';
import type { TestService } from '../support/fixtures';
import { recordFigures } from '../support/figures';
import { purchase, send } from '../support/http-client';
import { expectConserved, expectLogMatchesAnswers, readSkuState } from '../support/invariants';
import { startLossyProxy } from '../support/lossy-proxy';
import type { LossyProxy } from '../support/lossy-proxy';

async function createProduct(url: string, sku: string, stock: number): Promise<void> {
  const res = await send(url, {
    method: 'PUT',
    path: `/products/${sku}`,
    body: { name: 'Lost answers', price: 1, stock },
    headers: auth,
  });
  expect(res.status).toBe(201);
}

/**
 * Sends a purchase and closes the connection without reading the answer: `afterMs` after the whole
 * request was written (the purchase runs, its answer is lost), or, `partial`, after half the body (the
 * request never completes, so no purchase runs).
 */
function sendAndHangUp(
  url: string,
  body: unknown,
  key: string,
  afterMs: number,
  partial: boolean,
): Promise<void> {
  return new Promise((resolve) => {
    const { req, payload } = openPurchase(url, body, key);
    req.on('error', () => {
      resolve();
    });
    req.on('response', (res) => {
      res.destroy();
      resolve();
    });
    const hangUp = (): void => {
      setTimeout(() => {
        req.destroy();
        resolve();
      }, afterMs);
    };
    if (partial) req.write(payload.slice(0, payload.length >> 1), hangUp);
    else req.end(payload, hangUp);
  });
}

describe('lost answers and retries', () => {
  describe('when the client hangs up after sending', () => {
    let service: TestService;
    let redis: Redis;

    beforeAll(async () => {
      service = await startTestService();
      redis = redisClient();
    });
    afterAll(async () => {
      await service.stop();
      await redis.quit();
    });

    it('and retries with the same Idempotency-Key, then each logical purchase takes stock exactly once and the retry names its order', async () => {
      const sku = uniqueSku('hangup');
      await createProduct(service.url, sku, 1_000);
      const keys = Array.from({ length: 40 }, (_, i) => `hangup-${sku}-${i}`);
      const body = { sku, quantity: 2, userId: 'hanger' };
      // every other client hangs up half-way through its body (no purchase can run), the others once the
      // request was sent, at once or a little later (the purchase runs, the answer is lost)
      await Promise.all(
        keys.map((key, i) => sendAndHangUp(service.url, body, key, Math.floor(i / 2) % 10, i % 2 === 1)),
      );
      await sleep(200);
      const retries = await Promise.all(keys.map((key) => purchase(service.url, body, key)));

      expect(retries.map((retry) => retry.status)).toEqual(keys.map(() => 200));
      const state = await readSkuState(redis, sku);
      expectConserved(state);
      expect(state.orders).toHaveLength(keys.length);
      expect(state.stock).toBe(1_000 - 2 * keys.length);
      for (const [i, key] of keys.entries()) {
        const order = state.orders.filter((o) => o.key === key);
        expect(order).toHaveLength(1);
        expect(retries[i]?.body.orderId).toBe(order[0]?.orderId);
      }
      const replayed = retries.filter((retry) => retry.headers?.get('idempotent-replayed') === 'true');
      recordFigures('lost-answers-client-hangup', {
        purchases: keys.length,
        hungUpAfterTheWholeRequest: keys.length / 2,
        hungUpHalfWayThroughTheBody: keys.length / 2,
        retriesThatFoundTheirOrder: replayed.length,
        retriesThatBoughtAnew: keys.length - replayed.length,
        ordersInLog: state.orders.length,
      });
      // the test exercised both paths: purchases whose answer was lost, and ones that never ran
      expect(replayed.length).toBeGreaterThan(0);
      expect(replayed.length).toBeLessThan(keys.length);
    });
  });

  describe('when Redis answers are lost on the way back to the service', () => {
    let redis: LocalRedis;
    let proxy: LossyProxy;
    let service: TestService;

    beforeAll(async () => {
      redis = await startRedis();
      proxy = await startLossyProxy(redis.port);
      service = await startTestService({ REDIS_URL: proxy.url });
    });
    afterAll(async () => {
      await service.stop();
      await proxy.stop();
      await redis.stop();
    });

    it('then the service never re-sends a purchase, answers 503, and a retry with the key returns the order that was taken', async () => {
      const sku = uniqueSku('lossy');
      await createProduct(service.url, sku, 100_000);
      proxy.arm(0.1);
      const keyed = startBuyers({ urls: () => [service.url], sku, buyers: 4, giveUpAt: Date.now() + 30_000 });
      // Buyers without a key must not retry a 503 (they could buy twice); each has a user id of its own,
      // so a purchase the service re-sent would show as two orders of one user.
      const unkeyed: { userId: string; status: number; orderId: string | undefined }[] = [];
      const stopUnkeyed = new AbortController();
      const anonymous = Promise.all(
        [0, 1].map(async (loop) => {
          for (let n = 0; !stopUnkeyed.signal.aborted; n += 1) {
            const userId = `anon-${loop}-${n}`;
            const answer = await purchase(service.url, { sku, userId });
            unkeyed.push({
              userId,
              status: answer.status,
              orderId: answer.status === 200 ? String(answer.body.orderId) : undefined,
            });
            await sleep(10);
          }
        }),
      );
      await sleep(4_000);
      stopUnkeyed.abort();
      await anonymous;
      proxy.disarm();
      await keyed.stop();

      const check = new Redis(redis.url, { maxRetriesPerRequest: 1 });
      const state = await readSkuState(check, sku).finally(() => {
        check.disconnect();
      });
      const keyedOrders = state.orders.filter((order) => order.key !== '');
      const unkeyedOrders = state.orders.filter((order) => order.key === '');
      const keyedAnswered = [...keyed.purchases.values()].filter((id) => id !== undefined);
      const unkeyedAnswered = unkeyed.flatMap((answer) => (answer.orderId ? [answer.orderId] : []));
      const inLog = new Set(state.orders.map((order) => order.orderId));
      recordFigures('lost-answers-redis-replies-dropped', {
        repliesDropped: proxy.dropped(),
        keyedPurchases: keyed.purchases.size,
        keyed503s: keyed.answers.filter((answer) => answer.status === 503).length,
        keyedRetriesThatFoundTheirOrder: keyed.answers.filter((answer) => answer.replayed).length,
        unkeyedRequests: unkeyed.length,
        unkeyed503s: unkeyed.filter((answer) => answer.status === 503).length,
        unkeyedOrdersTakenButAnswered503: unkeyedOrders.length - unkeyedAnswered.length,
      });

      expect(proxy.dropped()).toBeGreaterThan(0);
      expect(keyed.answers.filter((answer) => answer.replayed).length).toBeGreaterThan(0);
      expectConserved(state);
      // at most one order per logical purchase: per Idempotency-Key, and per anonymous request
      expect(new Set(keyedOrders.map((order) => order.key)).size).toBe(keyedOrders.length);
      expect(new Set(unkeyedOrders.map((order) => order.userId)).size).toBe(unkeyedOrders.length);
      // keyed buyers retried until answered: the log holds exactly the orders they were answered
      expectLogMatchesAnswers(sku, { ...state, orders: keyedOrders }, keyedAnswered);
      expect(unkeyedAnswered.filter((orderId) => !inLog.has(orderId))).toEqual([]);
      const statuses = [...keyed.answers, ...unkeyed].map((answer) => answer.status);
      expect(statuses.filter((status) => status !== 200 && status !== 503)).toEqual([]);
    }, 60_000);
  });
});
