import { setTimeout as sleep } from 'node:timers/promises';
import request from 'supertest';
import { startRedis } from '../attack/local/redis-server';
import type { LocalRedis } from '../attack/local/redis-server';
import { auth, startTestService, uniqueSku } from './support/fixtures';
import type { TestService } from './support/fixtures';

/**
 * Redis stopped mid-test: requests get a 503 store_unavailable with Retry-After (fast: the client has no
 * offline queue, so nothing waits for a reconnection), nothing is lost, and the service recovers by
 * itself when Redis is back on the same port.
 */
describe('when Redis goes away and comes back', () => {
  let redis: LocalRedis;
  let svc: TestService;

  beforeAll(async () => {
    redis = await startRedis();
    svc = await startTestService({ REDIS_URL: redis.url });
  });
  afterAll(async () => {
    await svc.stop();
    await redis.stop();
  });

  it('then purchases get 503 with Retry-After while it is down, /health is 503, and both recover without a restart', async () => {
    const sku = uniqueSku('outage');
    await request(svc.url).post(`/stock/reset?sku=${sku}&amount=10`).set(auth).expect(200);
    await request(svc.url).post('/purchase/safe').send({ sku }).expect(200);

    await redis.stop();
    const during = await Promise.all(
      Array.from({ length: 20 }, () => request(svc.url).post('/purchase/safe').send({ sku })),
    );
    for (const res of during) {
      expect(res.status).toBe(503);
      expect(res.headers['retry-after']).toBe('1');
      expect(res.body).toMatchObject({ code: 'store_unavailable', status: 503 });
    }
    await request(svc.url).get('/health').expect(503);
    await request(svc.url).get('/health/live').expect(200);
    const metrics = await request(svc.url).get('/metrics');
    expect(metrics.text).toMatch(/flashsale_redis_errors_total\{kind="unavailable"\} [1-9]/);

    // Back on the same port, empty (the test server persists nothing): the service reconnects by itself.
    redis = await startRedis({ port: redis.port });
    let health = 0;
    for (let attempt = 0; attempt < 100 && health !== 200; attempt += 1) {
      health = (await request(svc.url).get('/health')).status;
      if (health !== 200) await sleep(100);
    }
    expect(health).toBe(200);
    await request(svc.url).post(`/stock/reset?sku=${sku}&amount=3`).set(auth).expect(200);
    const after = await request(svc.url).post('/purchase/safe').send({ sku }).expect(200);
    expect(after.body).toMatchObject({ remaining: 2 });
  });
});
