import { TEST_ADMIN_TOKEN, startTestService, uniqueSku } from '../support/fixtures';
import type { TestService } from '../support/fixtures';
import { startDigestRedis } from '../support/dataset-digest';
import { rawRequest } from '../support/raw-http';

/** Admin routes without the right `Authorization: Bearer <ADMIN_TOKEN>`: 401, and the store unchanged. */
describe('admin routes without the right credentials', () => {
  let redis: Awaited<ReturnType<typeof startDigestRedis>>;
  let service: TestService;
  const sku = uniqueSku('admin');

  beforeAll(async () => {
    redis = await startDigestRedis();
    service = await startTestService({ REDIS_URL: redis.server.url });
  });
  afterAll(async () => {
    await service.stop();
    await redis.stop();
  });

  const credentials: [string, Record<string, string>][] = [
    ['no token', {}],
    ['a wrong token', { authorization: 'Bearer wrong-token-0123456789' }],
    ['the token with one character more', { authorization: `Bearer ${TEST_ADMIN_TOKEN}x` }],
    ['the token without "Bearer "', { authorization: TEST_ADMIN_TOKEN }],
    [
      'the token as Basic credentials',
      { authorization: `Basic ${Buffer.from(`admin:${TEST_ADMIN_TOKEN}`).toString('base64')}` },
    ],
    ['the token in X-Admin-Token', { 'x-admin-token': TEST_ADMIN_TOKEN }],
    ['the token in X-Api-Key', { 'x-api-key': TEST_ADMIN_TOKEN }],
    ['the token in Proxy-Authorization', { 'proxy-authorization': `Bearer ${TEST_ADMIN_TOKEN}` }],
    ['the token in a cookie', { cookie: `token=${TEST_ADMIN_TOKEN}` }],
    ['an empty Bearer', { authorization: 'Bearer ' }],
  ];
  const routes = [
    { method: 'POST', path: `/stock/reset?sku=${sku}&amount=5` },
    { method: 'POST', path: `/stock/reset?sku=${sku}&amount=5&token=${TEST_ADMIN_TOKEN}` },
    {
      method: 'PUT',
      path: `/products/${sku}`,
      body: JSON.stringify({ name: 'Hijack', price: 0, stock: 1_000 }),
    },
  ];

  it.each(credentials)(
    'with %s, then every admin route answers 401 and nothing changes',
    async (_label, headers) => {
      for (const route of routes) {
        const before = await redis.digest();
        const answer = await rawRequest(service.url, {
          method: route.method,
          path: route.path,
          headers: { 'content-type': 'application/json', ...headers },
          body: route.body,
        });
        expect({ route: route.path, status: answer.status }).toEqual({ route: route.path, status: 401 });
        expect(JSON.parse(answer.body)).toMatchObject({ code: 'unauthorized', status: 401 });
        expect(answer.headers['www-authenticate']).toMatch(/^Bearer/);
        expect(await redis.digest()).toBe(before);
      }
    },
  );

  it('with the right token, then the same requests go through (the test above could fail)', async () => {
    const before = await redis.digest();
    const answer = await rawRequest(service.url, {
      method: 'POST',
      path: `/stock/reset?sku=${sku}&amount=5`,
      headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}` },
    });
    expect(answer.status).toBe(200);
    expect(await redis.digest()).not.toBe(before);
  });
});
