import request from 'supertest';
import type { Redis } from 'ioredis';
import { auth, redisClient, startTestService, uniqueSku } from './support/fixtures';
import type { TestService } from './support/fixtures';
import { readSkuState } from './support/invariants';

/**
 * Bad input, table-driven: every case gets its 4xx, never a 5xx, and the stock and the order log are
 * exactly as they were.
 */
describe('bad input', () => {
  let svc: TestService;
  let redis: Redis;
  const sku = uniqueSku('bad');

  beforeAll(async () => {
    svc = await startTestService({ MAX_QUANTITY: '10' });
    redis = redisClient();
    await request(svc.url)
      .put(`/products/${sku}`)
      .set(auth)
      .send({ name: 'Target', price: 5, stock: 20, perUserLimit: 3 })
      .expect(201);
    // the default SKU too: a request that fell back to it would change it
    await request(svc.url).post('/stock/reset?amount=20').set(auth).expect(200);
  });
  afterAll(async () => {
    await redis.quit();
    await svc.stop();
  });

  type Case = {
    name: string;
    method?: 'post' | 'put' | 'get';
    path?: string;
    body?: string | object;
    contentType?: string;
    headers?: Record<string, string>;
    status: number;
    code: string;
  };

  const json = 'application/json';
  const purchases: Case[] = [
    { name: 'malformed JSON', body: '{"sku": ', contentType: json, status: 400, code: 'invalid_request' },
    { name: 'a JSON array', body: '[1,2]', contentType: json, status: 400, code: 'invalid_request' },
    { name: 'a bare JSON string', body: '"buy"', contentType: json, status: 400, code: 'invalid_request' },
    { name: 'JSON null', body: 'null', contentType: json, status: 400, code: 'invalid_request' },
    {
      name: 'a text body',
      body: 'sku=x',
      contentType: 'text/plain',
      status: 415,
      code: 'unsupported_media_type',
    },
    {
      name: 'a form body',
      body: 'sku=x',
      contentType: 'application/x-www-form-urlencoded',
      status: 415,
      code: 'unsupported_media_type',
    },
    { name: 'quantity as a string', body: { sku, quantity: '2' }, status: 400, code: 'invalid_request' },
    { name: 'quantity as a boolean', body: { sku, quantity: true }, status: 400, code: 'invalid_request' },
    { name: 'sku as a number', body: { sku: 42 }, status: 400, code: 'invalid_request' },
    { name: 'sku as an object', body: { sku: { $gt: '' } }, status: 400, code: 'invalid_request' },
    { name: 'userId as an array', body: { sku, userId: ['a'] }, status: 400, code: 'invalid_request' },
    { name: 'a negative quantity', body: { sku, quantity: -1 }, status: 400, code: 'invalid_request' },
    { name: 'a zero quantity', body: { sku, quantity: 0 }, status: 400, code: 'invalid_request' },
    { name: 'a fractional quantity', body: { sku, quantity: 1.5 }, status: 400, code: 'invalid_request' },
    {
      name: 'a quantity over MAX_QUANTITY',
      body: { sku, quantity: 11 },
      status: 400,
      code: 'invalid_request',
    },
    { name: 'a huge quantity', body: { sku, quantity: 1e21 }, status: 400, code: 'invalid_request' },
    { name: 'a SKU with a space', body: { sku: 'a b' }, status: 400, code: 'invalid_request' },
    { name: 'a SKU with braces', body: { sku: `x}{${sku}` }, status: 400, code: 'invalid_request' },
    { name: 'a SKU with a colon', body: { sku: `${sku}:stock` }, status: 400, code: 'invalid_request' },
    { name: 'a SKU of 65 characters', body: { sku: 'a'.repeat(65) }, status: 400, code: 'invalid_request' },
    { name: 'an empty SKU', body: { sku: '' }, status: 400, code: 'invalid_request' },
    {
      name: 'a userId of 129 characters',
      body: { sku, userId: 'u'.repeat(129) },
      status: 400,
      code: 'invalid_request',
    },
    { name: 'a userId with a newline', body: { sku, userId: 'a\nb' }, status: 400, code: 'invalid_request' },
    { name: 'an unknown member', body: { sku, price: 0 }, status: 400, code: 'invalid_request' },
    {
      name: 'a __proto__ member',
      body: `{"sku":"${sku}","__proto__":{"isAdmin":true}}`,
      contentType: json,
      status: 400,
      code: 'invalid_request',
    },
    {
      name: 'a constructor member',
      body: { sku, constructor: { prototype: {} } },
      status: 400,
      code: 'invalid_request',
    },
    {
      name: 'an oversize body',
      body: { sku, userId: 'x', pad: 'y'.repeat(10_000) },
      status: 413,
      code: 'payload_too_large',
    },
    {
      name: 'an Idempotency-Key of 129 characters',
      body: { sku },
      headers: { 'Idempotency-Key': 'k'.repeat(129) },
      status: 400,
      code: 'invalid_request',
    },
    {
      name: 'an Idempotency-Key that is not ASCII',
      body: { sku },
      headers: { 'Idempotency-Key': 'cl\u00e9' },
      status: 400,
      code: 'invalid_request',
    },
  ];

  const others: Case[] = [
    {
      name: 'a reset with a negative amount',
      method: 'post',
      path: `/stock/reset?sku=${sku}&amount=-1`,
      headers: auth,
      status: 400,
      code: 'invalid_request',
    },
    {
      name: 'a reset with a fractional amount',
      method: 'post',
      path: `/stock/reset?sku=${sku}&amount=2.5`,
      headers: auth,
      status: 400,
      code: 'invalid_request',
    },
    {
      name: 'a reset with a text amount',
      method: 'post',
      path: `/stock/reset?sku=${sku}&amount=lots`,
      headers: auth,
      status: 400,
      code: 'invalid_request',
    },
    // digits only: Number() would read '' and ' ' as 0 (a reset that empties the SKU), '0x10' as 16
    ...(
      [
        ['an empty amount', ''],
        ['a blank amount', '%20'],
        ['a hexadecimal amount', '0x10'],
        ['an amount in exponent notation', '1e3'],
        ['a signed amount', '%2B5'],
      ] as const
    ).map(([name, amount]): Case => ({
      name: `a reset with ${name}`,
      method: 'post',
      path: `/stock/reset?sku=${sku}&amount=${amount}`,
      headers: auth,
      status: 400,
      code: 'invalid_request',
    })),
    {
      name: 'a reset with two amounts',
      method: 'post',
      path: `/stock/reset?sku=${sku}&amount=1&amount=2`,
      headers: auth,
      status: 400,
      code: 'invalid_request',
    },
    {
      name: 'a reset of a SKU with a colon',
      method: 'post',
      path: `/stock/reset?sku=a:b&amount=1`,
      headers: auth,
      status: 400,
      code: 'invalid_request',
    },
    {
      name: 'a reset with no token',
      method: 'post',
      path: `/stock/reset?sku=${sku}&amount=0`,
      status: 401,
      code: 'unauthorized',
    },
    {
      name: 'a reset with a wrong token',
      method: 'post',
      path: `/stock/reset?sku=${sku}&amount=0`,
      headers: { Authorization: 'Bearer wrong-token-wrong-token' },
      status: 401,
      code: 'unauthorized',
    },
    {
      name: 'a reset with the token in another header',
      method: 'post',
      path: `/stock/reset?sku=${sku}&amount=0`,
      headers: { 'X-Admin-Token': auth.Authorization.slice(7) },
      status: 401,
      code: 'unauthorized',
    },
    {
      name: 'a reset with a Basic scheme',
      method: 'post',
      path: `/stock/reset?sku=${sku}&amount=0`,
      headers: { Authorization: `Basic ${auth.Authorization.slice(7)}` },
      status: 401,
      code: 'unauthorized',
    },
    {
      name: 'a PUT with no token',
      method: 'put',
      path: `/products/${sku}`,
      body: { name: 'x', price: 1, stock: 0 },
      status: 401,
      code: 'unauthorized',
    },
    {
      name: 'a PUT with a negative stock',
      method: 'put',
      path: `/products/${sku}`,
      body: { name: 'x', price: 1, stock: -5 },
      headers: auth,
      status: 400,
      code: 'invalid_request',
    },
    {
      name: 'a PUT with a missing name',
      method: 'put',
      path: `/products/${sku}`,
      body: { price: 1, stock: 5 },
      headers: auth,
      status: 400,
      code: 'invalid_request',
    },
    {
      name: 'a PUT with a string price',
      method: 'put',
      path: `/products/${sku}`,
      body: { name: 'x', price: '1', stock: 5 },
      headers: auth,
      status: 400,
      code: 'invalid_request',
    },
    {
      name: 'a PUT of a SKU with braces',
      method: 'put',
      path: '/products/%7Bx%7D',
      body: { name: 'x', price: 1, stock: 5 },
      headers: auth,
      status: 400,
      code: 'invalid_request',
    },
    {
      name: 'a stock query with a bad SKU',
      method: 'get',
      path: '/stock?sku=a%20b',
      status: 400,
      code: 'invalid_request',
    },
    {
      name: 'a stock query with an unknown parameter',
      method: 'get',
      path: `/stock?sku=${sku}&x=1`,
      status: 400,
      code: 'invalid_request',
    },
  ];

  const send = (c: Case) => {
    const method = c.method ?? 'post';
    let req = request(svc.url)[method](c.path ?? '/purchase/safe');
    for (const [name, value] of Object.entries(c.headers ?? {})) req = req.set(name, value);
    if (c.contentType) req = req.set('Content-Type', c.contentType);
    return c.body === undefined ? req : req.send(c.body);
  };

  it.each([
    ...purchases.map((c) => ({ ...c, path: '/purchase/safe' })),
    ...purchases.map((c) => ({ ...c, path: '/purchase/unsafe' })),
    ...others,
  ])('when a request has $name ($path), then it gets $status $code and nothing changes', async (c) => {
    const before = await Promise.all([readSkuState(redis, sku), readSkuState(redis, svc.config.defaultSku)]);
    const res = await send(c);
    expect(res.status).toBe(c.status);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.body).toMatchObject({ status: c.status, code: c.code });
    expect(JSON.stringify(res.body)).not.toMatch(/at .*\.(ts|js):\d+/);
    const after = await Promise.all([readSkuState(redis, sku), readSkuState(redis, svc.config.defaultSku)]);
    expect(after).toEqual(before);
    expect(await redis.hgetall(`fs:{${sku}}:product`)).toMatchObject({ name: 'Target', price: '5' });
  });
});
