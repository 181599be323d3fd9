import { setTimeout as sleep } from 'node:timers/promises';
import { startRedis } from '../../attack/local/redis-server';
import type { LocalRedis } from '../../attack/local/redis-server';
import { auth, redisClient, startTestService, uniqueSku } from '../support/fixtures';
import type { TestService } from '../support/fixtures';
import { recordFigures } from '../support/figures';
import { send } from '../support/http-client';
import type { Answer } from '../support/http-client';
import { expectConserved, readSkuState } from '../support/invariants';

/**
 * Redis paused mid-storm (CLIENT PAUSE): the purchases sent meanwhile time out on the client, and Redis
 * runs them once the pause ends. Those purchases were made; their buyers got no answer. The service must
 * not call that "unreachable, retry" (a client that retried without a key would buy twice): it answers
 * that the outcome is unknown, and the key resolves it, by lookup or by retry, without buying again.
 */
describe('a purchase whose answer was lost', () => {
  let redis: LocalRedis;
  let service: TestService;

  beforeAll(async () => {
    redis = await startRedis();
    service = await startTestService({ REDIS_URL: redis.url, REDIS_COMMAND_TIMEOUT_MS: '300' });
  });
  afterAll(async () => {
    await service.stop();
    await redis.stop();
  });

  it('when Redis is paused longer than the command timeout, then those purchases get 503 purchase_outcome_unknown, and their keys find every one that was made', async () => {
    const sku = uniqueSku('paused');
    const put = await send(service.url, {
      method: 'PUT',
      path: `/products/${sku}`,
      body: { name: 'Paused', price: 1, stock: 1000 },
      headers: auth,
    });
    expect(put.status).toBe(201);
    const admin = redisClient(redis.url);
    try {
      // warm: the script loaded and the connection busy before the pause
      expect((await send(service.url, { path: '/purchase/safe', body: { sku } })).status).toBe(200);
      await admin.client('PAUSE', 1500, 'ALL');
      const keys = Array.from({ length: 30 }, (_, i) => `paused-${sku}-${i}`);
      const answers: Answer[] = await Promise.all(
        keys.map((key) =>
          send(service.url, { path: '/purchase/safe', body: { sku }, headers: { 'idempotency-key': key } }),
        ),
      );
      const unkeyed = await send(service.url, { path: '/purchase/safe', body: { sku } });
      await sleep(1700);

      expect(answers.map((a) => a.status)).toEqual(keys.map(() => 503));
      for (const answer of answers) {
        expect(answer.body).toMatchObject({ code: 'purchase_outcome_unknown', status: 503 });
        expect(String(answer.body.detail)).toContain('Retry with the same Idempotency-Key');
        expect(answer.headers?.get('retry-after')).toBe('1');
      }
      expect(unkeyed).toMatchObject({ status: 503, body: { code: 'purchase_outcome_unknown' } });
      expect(String(unkeyed.body.detail)).toContain('no Idempotency-Key');

      // Redis ran them after the pause: the key finds each order, and a retry answers it again
      const found: string[] = [];
      for (const key of keys) {
        const lookup = await send(service.url, {
          method: 'GET',
          path: `/orders?sku=${sku}`,
          headers: { 'idempotency-key': key },
        });
        if (lookup.status === 200) found.push(String(lookup.body.orderId));
        else expect(lookup).toMatchObject({ status: 404, body: { code: 'unknown_order' } });
      }
      const retries = await Promise.all(
        keys.map((key) =>
          send(service.url, { path: '/purchase/safe', body: { sku }, headers: { 'idempotency-key': key } }),
        ),
      );
      const state = await readSkuState(admin, sku);
      recordFigures('outcome-unknown-after-pause', {
        purchasesDuringPause: keys.length,
        answered503OutcomeUnknown: answers.length,
        foundByTheirKeyAfterwards: found.length,
        ordersInLog: state.orders.length,
      });
      expect(retries.map((r) => r.status)).toEqual(keys.map(() => 200));
      const replayed = retries.filter((r) => r.headers?.get('idempotent-replayed') === 'true');
      // every order the lookup found is the one its retry answers, and takes no more stock
      expect(replayed.map((r) => String(r.body.orderId)).sort()).toEqual([...found].sort());
      // one order per key, however it was resolved; and the warm-up's, and the unkeyed purchase's,
      // which Redis ran too once the pause ended
      expect(new Set(state.orders.map((order) => order.key).filter(Boolean)).size).toBe(keys.length);
      expect(state.orders.length).toBe(keys.length + 2);
      expectConserved(state);
    } finally {
      await admin.client('UNPAUSE').catch(() => undefined);
      admin.disconnect();
    }
  });
});
