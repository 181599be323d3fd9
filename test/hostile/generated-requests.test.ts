import fc from 'fast-check';
import { Redis } from 'ioredis';
import { TEST_ADMIN_TOKEN, auth, startTestService, uniqueSku } from '../support/fixtures';
import type { TestService } from '../support/fixtures';
import { recordFigures } from '../support/figures';
import { startDigestRedis } from '../support/dataset-digest';
import { expectConserved, readSkuState } from '../support/invariants';
import { rawRequest } from '../support/raw-http';
import type { RawAnswer } from '../support/raw-http';

/** the generated header record may hold `undefined` for "header absent" */
function withoutUndefined(headers: Readonly<Record<string, string | undefined>>): Record<string, string> {
  const present: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) if (value !== undefined) present[name] = value;
  return present;
}

/**
 * Generated requests thrown at every route: never a 5xx, and never a change to the dataset (any key,
 * checked with DEBUG DIGEST) unless the request was a purchase answered 200, whose change is then
 * exactly one order of the quantity answered.
 */
describe('generated hostile requests', () => {
  let redis: Awaited<ReturnType<typeof startDigestRedis>>;
  let reader: Redis;
  let service: TestService;
  const stocked = uniqueSku('prop');
  const defaultSku = uniqueSku('propdef');

  beforeAll(async () => {
    redis = await startDigestRedis();
    reader = new Redis(redis.server.url, { maxRetriesPerRequest: 1 });
    service = await startTestService({
      REDIS_URL: redis.server.url,
      DEFAULT_SKU: defaultSku,
      DEFAULT_STOCK: '1000000',
      UNSAFE_ENDPOINT: 'on',
    });
    const res = await rawRequest(service.url, {
      method: 'PUT',
      path: `/products/${stocked}`,
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'Prop', price: 1, stock: 1_000_000, perUserLimit: 3 }),
    });
    expect(res.status).toBe(201);
  });
  afterAll(async () => {
    await service.stop();
    reader.disconnect();
    await redis.stop();
  });

  const hostileSku = fc.constantFrom(
    '{x}',
    'a}b',
    'a{b',
    `${stocked}}`,
    `{${stocked}}`,
    'fs:{x}:stock',
    'a:b',
    'a b',
    '',
    'x'.repeat(65),
    'é',
    '\u0000',
    '../x',
    '__proto__',
    'constructor',
  );
  const sku = fc.oneof(fc.constantFrom(stocked, defaultSku, 'unknown-sku'), hostileSku, fc.string());
  const anyJson = fc.oneof(fc.jsonValue(), fc.string(), fc.integer(), fc.double(), fc.constant(null));
  const purchaseLike = fc.record(
    {
      sku,
      quantity: fc.oneof(fc.integer({ min: -3, max: 15 }), fc.double(), fc.string(), anyJson),
      userId: fc.oneof(fc.string(), fc.string({ minLength: 129, maxLength: 140 }), anyJson),
      extra: anyJson,
    },
    { requiredKeys: [] },
  );
  const body = fc.oneof(
    purchaseLike.map((value) => JSON.stringify(value)),
    fc.jsonValue().map((value) => JSON.stringify(value)),
    fc.constantFrom(
      '{"__proto__":{"polluted":true}}',
      '{"constructor":{"prototype":{"polluted":true}}}',
      '{"sku":"a","__proto__":{"quantity":5}}',
      `${'['.repeat(1500)}${']'.repeat(1500)}`,
      `${'{"a":'.repeat(600)}1${'}'.repeat(600)}`,
      '{"sku":',
      'not json',
      '',
    ),
    fc.string(),
  );
  const token = fc.constantFrom(
    undefined,
    'Bearer wrong-token-0123456789',
    `Basic ${Buffer.from(`admin:${TEST_ADMIN_TOKEN}`).toString('base64')}`,
    TEST_ADMIN_TOKEN,
    `Bearer${TEST_ADMIN_TOKEN}`,
    `Bearer  ${TEST_ADMIN_TOKEN}x`,
  );
  const headerValue = fc.string({ unit: fc.constantFrom(...'abcXYZ019 -_.:;,/|{}"\'\t~!'.split('')) });
  const headers = fc.record(
    {
      'content-type': fc.constantFrom(
        'application/json',
        'application/json; charset=utf-16',
        'application/json; charset=latin1',
        'text/plain',
        'application/x-www-form-urlencoded',
        'application/merge-patch+json',
      ),
      authorization: token,
      'idempotency-key': fc.oneof(headerValue, fc.constant('x'.repeat(129))),
      'x-admin-token': fc.constant(TEST_ADMIN_TOKEN),
      'x-forwarded-for': headerValue,
    },
    { requiredKeys: [] },
  );
  // raw where HTTP allows it (braces, colons, dots go through as typed), percent-encoded otherwise
  const pathSafe = (value: string): string =>
    /^[\x21-\x7e]*$/.test(value) ? value : encodeURIComponent(value);
  const segment = fc.oneof(
    sku.map(pathSafe),
    hostileSku.map((value) => encodeURIComponent(value)),
    fc.constantFrom('%', '%zz', '%E0%A4%A', '%00', '..', '.', '%2e%2e', '%7B%7D', ';', '*'),
    fc.string().map((value) => encodeURIComponent(value)),
  );
  const path = fc.oneof(
    fc.constantFrom(
      '/purchase/safe',
      '/purchase/unsafe',
      '/stock',
      '/stock/reset',
      '/products',
      '/health',
      '/health/live',
      '/metrics',
      '/',
    ),
    segment.map((value) => `/products/${value}`),
    segment.map((value) => `/orders/${value}`),
    fc.tuple(segment, segment).map(([a, b]) => `/${a}/${b}`),
    fc.webPath(),
  );
  const queryValue = fc.oneof(
    sku,
    fc.string(),
    fc.integer().map(String),
    fc.constantFrom('1e3', '-1', '0x10'),
  );
  const query = fc.array(
    fc.tuple(
      fc.oneof(
        fc.constantFrom('sku', 'amount', '__proto__', 'constructor', 'sku[]', '__proto__[x]'),
        fc.string(),
      ),
      queryValue,
    ),
    { maxLength: 3 },
  );
  const hostileRequest = fc.record({
    method: fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'HEAD', 'OPTIONS'),
    path,
    query,
    headers,
    body: fc.option(body, { nil: undefined }),
  });

  // purchases that are often valid, so that the property also sees the stock change when it should
  const nearlyValidPurchase = fc.record({
    method: fc.constant('POST'),
    path: fc.constantFrom('/purchase/safe', '/purchase/unsafe'),
    query: fc.constant([] as [string, string][]),
    headers: fc.record(
      {
        'content-type': fc.constant('application/json'),
        'idempotency-key': fc.oneof(fc.constantFrom('k1', 'k2', 'k3'), headerValue),
      },
      { requiredKeys: ['content-type'] },
    ),
    body: fc.option(
      fc
        .record(
          {
            sku: fc.oneof(fc.constantFrom(stocked, defaultSku), hostileSku),
            quantity: fc.integer({ min: 0, max: 12 }),
            userId: fc.oneof(fc.constantFrom('ann', 'ben'), fc.string()),
          },
          { requiredKeys: [] },
        )
        .map((value) => JSON.stringify(value)),
      { nil: undefined },
    ),
  });
  const anyRequest = fc.oneof(hostileRequest, nearlyValidPurchase);

  const isPurchase = (method: string, target: string): boolean =>
    method === 'POST' && /^\/purchase\/(safe|unsafe)(\?|$)/.test(target);

  it('when 400 generated requests are sent, then the service never answers 5xx and never changes the store unless a purchase was answered 200', async () => {
    const seen = new Map<number, number>();
    let purchases = 0;
    let before = await redis.digest();
    await fc.assert(
      fc.asyncProperty(anyRequest, async (generated) => {
        const search = generated.query
          .map(([key, value]) => `${encodeURIComponent(key)}=${encodeURIComponent(value)}`)
          .join('&');
        const target = search ? `${generated.path}?${search}` : generated.path;
        const answer: RawAnswer = await rawRequest(service.url, {
          method: generated.method,
          path: target,
          headers: withoutUndefined(generated.headers),
          body: generated.body,
        });
        seen.set(answer.status, (seen.get(answer.status) ?? 0) + 1);
        expect(answer.status).toBeGreaterThanOrEqual(200);
        expect(answer.status).toBeLessThan(500);
        const after = await redis.digest();
        if (answer.status === 200 && isPurchase(generated.method, target)) {
          purchases += 1;
          const bought = JSON.parse(answer.body) as { orderId: string; sku: string; quantity: number };
          const state = await readSkuState(reader, bought.sku);
          expectConserved(state);
          const order = state.orders.find((o) => o.orderId === bought.orderId);
          expect(order?.quantity).toBe(bought.quantity);
        } else {
          expect(after).toBe(before);
        }
        before = after;
      }),
      { numRuns: 400 },
    );
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    recordFigures('hostile-generated-requests', {
      runs: 400,
      purchasesAnswered200: purchases,
      answersByStatus: Object.fromEntries(seen),
    });
  }, 120_000);
});
