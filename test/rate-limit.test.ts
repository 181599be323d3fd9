import type { Redis } from 'ioredis';
import { rateLimitKeyPrefix } from '../app/redis/keys';
import { startRedis } from '../attack/local/redis-server';
import type { LocalRedis } from '../attack/local/redis-server';
import { spawnApp } from './support/app-process';
import type { AppProcess } from './support/app-process';
import { TEST_ADMIN_TOKEN, auth, redisClient, uniqueSku } from './support/fixtures';
import { send } from './support/http-client';
import type { Answer } from './support/http-client';
import { expectConserved, expectLogMatchesAnswers, readSkuState } from './support/invariants';

/**
 * The fleet-wide rate limits, on real app processes sharing a private redis-server (private because the
 * per-address counters of 127.0.0.1 would otherwise be shared with every other test file's requests).
 */
const WINDOW_MS = '60000';

const restock = async (app: AppProcess, sku: string, amount: number): Promise<void> => {
  const answer = await send(app.url, {
    path: `/stock/reset?sku=${sku}&amount=${amount}`,
    headers: auth,
  });
  expect(answer.status).toBe(200);
};

const buy = (app: AppProcess, body: Record<string, unknown>, headers: Record<string, string> = {}) =>
  send(app.url, { path: '/purchase/safe', body, headers });

const count = (answers: readonly Answer[], status: number): number =>
  answers.filter((answer) => answer.status === status).length;

const metric = async (app: AppProcess, pattern: RegExp): Promise<number> => {
  const text = await (await fetch(`${app.url}/metrics`)).text();
  return Number(pattern.exec(text)?.[1] ?? 0);
};

describe('fleet-wide rate limits across app processes on one Redis', () => {
  let redis: LocalRedis;
  let client: Redis;
  /** two instances limiting each buyer to 3 attempts a minute */
  let fleet: AppProcess[] = [];
  /** limits each address to 4 attempts a minute, trusting no proxy */
  let direct: AppProcess | undefined;
  /** limits each address to 2 attempts a minute, behind one proxy */
  let proxied: AppProcess | undefined;

  beforeAll(async () => {
    redis = await startRedis();
    client = redisClient(redis.url);
    const env = { REDIS_URL: redis.url, ADMIN_TOKEN: TEST_ADMIN_TOKEN, RATE_LIMIT_WINDOW_MS: WINDOW_MS };
    const perUser = { ...env, RATE_LIMIT_PER_USER: '3' };
    [fleet, direct, proxied] = await Promise.all([
      Promise.all([spawnApp(perUser), spawnApp(perUser)]),
      spawnApp({ ...env, RATE_LIMIT_PER_IP: '4' }),
      spawnApp({ ...env, RATE_LIMIT_PER_IP: '2', TRUST_PROXY: '1' }),
    ]);
  }, 120_000);

  afterAll(async () => {
    await Promise.all([...fleet, direct, proxied].map(async (app) => app?.stop()));
    await client.quit();
    await redis.stop();
  });

  const instance = (i: number): AppProcess => {
    const app = fleet[i % fleet.length];
    if (!app) throw new Error('the fleet did not start');
    return app;
  };

  it('when one buyer sends 6 purchases alternating between two instances under a limit of 3, then 3 are admitted and 3 get 429 with Retry-After, RateLimit and RateLimit-Policy', async () => {
    const sku = uniqueSku('rl-user');
    await restock(instance(0), sku, 100);

    const answers: Answer[] = [];
    for (let i = 0; i < 6; i += 1) answers.push(await buy(instance(i), { sku, userId: `${sku}-alice` }));

    expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 429, 429, 429]);
    expect(answers.slice(0, 3).map((a) => a.headers?.get('ratelimit'))).toEqual([
      expect.stringMatching(/^"user";r=2;t=\d+$/),
      expect.stringMatching(/^"user";r=1;t=\d+$/),
      expect.stringMatching(/^"user";r=0;t=\d+$/),
    ]);
    for (const refused of answers.slice(3)) {
      expect(refused.headers?.get('content-type')).toBe('application/problem+json; charset=utf-8');
      expect(refused.body).toMatchObject({
        type: 'urn:flash-sale:problem:rate_limited',
        status: 429,
        code: 'rate_limited',
        limit: 'user',
      });
      const retryAfter = Number(refused.headers?.get('retry-after'));
      expect(retryAfter).toBeGreaterThanOrEqual(1);
      expect(retryAfter).toBeLessThanOrEqual(60);
      expect(refused.headers?.get('ratelimit-policy')).toBe('"user";q=3;w=60');
      expect(refused.headers?.get('ratelimit')).toBe(`"user";r=0;t=${retryAfter}`);
    }
    // another buyer has a window of their own, and the refusals took no stock
    expect((await buy(instance(1), { sku, userId: `${sku}-bob` })).status).toBe(200);
    expect((await readSkuState(client, sku)).stock).toBe(96);
    expect(
      await metric(instance(0), /^flashsale_rate_limited_total\{limit="user"\} (\d+)$/m),
    ).toBeGreaterThan(0);
  });

  it('when a buyer sends invalid purchases under the limit, then each gets its 400 and none is counted', async () => {
    const sku = uniqueSku('rl-bad');
    await restock(instance(0), sku, 10);
    const userId = `${sku}-dave`;

    for (let i = 0; i < 4; i += 1) {
      expect((await buy(instance(i), { sku, userId, quantity: 0 })).status).toBe(400);
    }
    const valid = await buy(instance(0), { sku, userId });

    expect(valid.status).toBe(200);
    expect(valid.headers?.get('ratelimit')).toMatch(/^"user";r=2;t=\d+$/);
    expect(await client.exists(`${rateLimitKeyPrefix.user}:${userId}`)).toBe(1);
  });

  it('when a client sends a different X-Forwarded-For each time to a service that trusts no proxy, then it is still counted under its own address', async () => {
    if (!direct) throw new Error('the instance did not start');
    const sku = uniqueSku('rl-spoof');
    await restock(direct, sku, 100);

    const answers: Answer[] = [];
    for (let i = 0; i < 6; i += 1) {
      answers.push(await buy(direct, { sku }, { 'x-forwarded-for': `203.0.113.${i + 1}` }));
    }

    expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 200, 429, 429]);
    expect(answers[4]?.body).toMatchObject({ code: 'rate_limited', limit: 'ip' });
    expect(answers[4]?.headers?.get('ratelimit-policy')).toBe('"ip";q=4;w=60');
  });

  it('when TRUST_PROXY=1, then the address the proxy appended last is counted and whatever the client wrote before it is not', async () => {
    if (!proxied) throw new Error('the instance did not start');
    const sku = uniqueSku('rl-proxy');
    await restock(proxied, sku, 100);

    const behind = (claimed: string, seenByProxy: string) =>
      buy(proxied as AppProcess, { sku }, { 'x-forwarded-for': `${claimed}, ${seenByProxy}` });
    const statuses = [
      (await behind('198.51.100.1', '192.0.2.10')).status,
      (await behind('198.51.100.2', '192.0.2.10')).status,
      (await behind('198.51.100.3', '192.0.2.10')).status,
    ];

    expect(statuses).toEqual([200, 200, 429]);
    // a client the proxy saw at another address has its own window
    expect((await behind('198.51.100.3', '192.0.2.11')).status).toBe(200);
  });

  it('when 20 buyers fire 10 purchases each at once over two instances, then each gets exactly 3 admitted, the rest 429, and the stock is conserved', async () => {
    const sku = uniqueSku('rl-storm');
    await restock(instance(0), sku, 100);

    const attempts = Array.from({ length: 200 }, (_, i) => ({ userId: `${sku}-buyer-${i % 20}`, i }));
    const answers = await Promise.all(attempts.map(({ userId, i }) => buy(instance(i), { sku, userId })));

    expect(count(answers, 200)).toBe(60);
    expect(count(answers, 429)).toBe(140);
    const state = await readSkuState(client, sku);
    expect(state.stock).toBe(40);
    expectConserved(state);
    expectLogMatchesAnswers(
      sku,
      state,
      answers.map((a) => String(a.body.orderId)),
    );
    expect(Object.values(state.buyers)).toEqual(Array.from({ length: 20 }, () => 3));
  });

  it('when the limits admit more attempts than there is stock, then exactly the stock is sold and no more', async () => {
    const sku = uniqueSku('rl-oversell');
    await restock(instance(0), sku, 25);

    const attempts = Array.from({ length: 200 }, (_, i) => ({ userId: `${sku}-buyer-${i % 20}`, i }));
    const answers = await Promise.all(attempts.map(({ userId, i }) => buy(instance(i), { sku, userId })));

    expect(count(answers, 200)).toBe(25);
    expect(count(answers, 200) + count(answers, 409) + count(answers, 429)).toBe(200);
    expect(count(answers, 429)).toBeGreaterThan(0);
    const state = await readSkuState(client, sku);
    expect(state.stock).toBe(0);
    expectConserved(state);
    expectLogMatchesAnswers(
      sku,
      state,
      answers.map((a) => String(a.body.orderId)),
    );
    for (const units of Object.values(state.buyers)) expect(units).toBeLessThanOrEqual(3);
  });
});

describe('when the rate limiter cannot count', () => {
  let redis: LocalRedis;
  let app: AppProcess | undefined;

  beforeAll(async () => {
    redis = await startRedis();
    const admin = redisClient(redis.url);
    // A user that may touch every key of the service but the rate-limit counters: the limiter's Redis
    // fails while the store's works.
    await admin.call(
      'ACL',
      'SETUSER',
      'shop',
      'on',
      '>shop-password-0123',
      'resetkeys',
      '~fs:{*',
      '~fs:catalogue',
      '~fs:products',
      '&*',
      '+@all',
    );
    await admin.quit();
    app = await spawnApp({
      REDIS_URL: `redis://shop:shop-password-0123@127.0.0.1:${redis.port}`,
      ADMIN_TOKEN: TEST_ADMIN_TOKEN,
      RATE_LIMIT_PER_USER: '1',
      RATE_LIMIT_PER_IP: '1',
    });
  }, 60_000);

  afterAll(async () => {
    await app?.stop();
    await redis.stop();
  });

  it('then purchases are admitted (fail open), counted in a metric, logged once; with Redis gone they get the store’s 503, not a 429 or a 500', async () => {
    if (!app) throw new Error('the instance did not start');
    const sku = uniqueSku('rl-open');
    await restock(app, sku, 10);

    const answers: Answer[] = [];
    for (let i = 0; i < 3; i += 1) answers.push(await buy(app, { sku, userId: 'carol' }));

    expect(answers.map((a) => a.status)).toEqual([200, 200, 200]);
    expect(answers[0]?.headers?.get('ratelimit')).toBeNull();
    const failures = /^flashsale_rate_limiter_failures_total (\d+)$/m;
    // two limits apply to each attempt, and neither could count it
    expect(await metric(app, failures)).toBe(6);
    const warned = app.logs.filter((line) => String(line.msg).startsWith('rate limiter unavailable'));
    expect(warned).toHaveLength(1);

    await redis.stop();
    const during = await Promise.all(
      Array.from({ length: 5 }, () => buy(app as AppProcess, { sku, userId: 'carol' })),
    );
    for (const answer of during) {
      expect(answer.status).toBe(503);
      expect(answer.body).toMatchObject({ code: 'store_unavailable' });
    }
    expect(await metric(app, failures)).toBe(16);
  });
});
