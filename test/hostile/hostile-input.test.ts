import { createConnection } from 'node:net';
import { auth, startTestService, uniqueSku } from '../support/fixtures';
import type { TestService } from '../support/fixtures';
import { startDigestRedis } from '../support/dataset-digest';
import { rawRequest } from '../support/raw-http';

/** What a client that sends `chunks` and then stalls gets back: the status line's code (0: none). */
function stallingClient(port: number, chunks: readonly string[]): Promise<number> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    let received = '';
    const timer = setTimeout(() => socket.destroy(), 15_000);
    socket.on('connect', () => {
      for (const chunk of chunks) socket.write(chunk);
    });
    socket.on('data', (data: Buffer) => {
      received += data.toString();
    });
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(Number(/^HTTP\/1\.1 (\d{3})/.exec(received)?.[1] ?? 0));
    });
    socket.on('error', () => undefined);
  });
}

/**
 * Hostile input, case by case: each gets its 4xx and changes nothing in the store (DEBUG DIGEST of the
 * whole dataset, before and after).
 */
describe('hostile input', () => {
  let redis: Awaited<ReturnType<typeof startDigestRedis>>;
  let service: TestService;
  const sku = uniqueSku('hostile');

  beforeAll(async () => {
    redis = await startDigestRedis();
    // a short request timeout, so that slow clients are cut off within the test
    service = await startTestService({ REDIS_URL: redis.server.url, HTTP_REQUEST_TIMEOUT_MS: '1000' });
    const res = await rawRequest(service.url, {
      method: 'PUT',
      path: `/products/${sku}`,
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'Hostile', price: 1, stock: 10 }),
    });
    expect(res.status).toBe(201);
  });
  afterAll(async () => {
    await service.stop();
    await redis.stop();
  });

  async function expectRefused(
    request: { method?: string; path: string; headers?: Record<string, string>; body?: string },
    status: number,
  ): Promise<void> {
    const before = await redis.digest();
    const answer = await rawRequest(service.url, {
      method: request.method ?? 'POST',
      path: request.path,
      headers: { 'content-type': 'application/json', ...request.headers },
      body: request.body,
    });
    expect({ path: request.path, status: answer.status }).toEqual({ path: request.path, status });
    if (answer.status !== 0 && request.method !== 'HEAD') {
      expect(answer.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(answer.body).not.toMatch(/\bat .+\.(ts|js):\d+/); // no stack trace
    }
    expect(await redis.digest()).toBe(before);
  }

  it('when the body is over the limit, then it is refused with 413', async () => {
    await expectRefused(
      { path: '/purchase/safe', body: JSON.stringify({ sku, pad: 'x'.repeat(5_000) }) },
      413,
    );
    await expectRefused({ path: '/purchase/safe', body: `"${'x'.repeat(1_000_000)}"` }, 413);
    await expectRefused(
      {
        method: 'PUT',
        path: `/products/${sku}`,
        headers: auth,
        body: JSON.stringify({ name: 'x'.repeat(8_000) }),
      },
      413,
    );
  });

  it('when the JSON is nested thousands deep, then it is a 400 (or a 413 past the size limit)', async () => {
    await expectRefused({ path: '/purchase/safe', body: `${'['.repeat(2_000)}${']'.repeat(2_000)}` }, 400);
    await expectRefused({ path: '/purchase/safe', body: `${'{"a":'.repeat(600)}1${'}'.repeat(600)}` }, 400);
    await expectRefused(
      { path: '/purchase/safe', body: `{"sku":${'['.repeat(1_500)}${']'.repeat(1_500)}}` },
      400,
    );
    await expectRefused({ path: '/purchase/safe', body: `${'['.repeat(50_000)}${']'.repeat(50_000)}` }, 413);
  });

  it('when a body or query carries prototype-pollution keys, then it is a 400 and no prototype changes', async () => {
    for (const body of [
      '{"__proto__":{"polluted":true}}',
      `{"sku":"${sku}","__proto__":{"quantity":10}}`,
      '{"constructor":{"prototype":{"polluted":true}}}',
      `{"sku":"${sku}","prototype":{"polluted":true}}`,
    ]) {
      await expectRefused({ path: '/purchase/safe', body }, 400);
      await expectRefused({ method: 'PUT', path: `/products/${sku}`, headers: auth, body }, 400);
    }
    await expectRefused({ method: 'GET', path: `/stock?sku=${sku}&__proto__[polluted]=1` }, 400);
    await expectRefused({ method: 'GET', path: `/stock?__proto__=x` }, 400);
    await expectRefused(
      { path: `/stock/reset?sku=${sku}&constructor[prototype][polluted]=1`, headers: auth },
      400,
    );
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.prototype).not.toHaveProperty('polluted');
  });

  const keyBreakers = [
    '{x}',
    `${sku}}`,
    `{${sku}`,
    `a}{b`,
    `fs:{${sku}}:stock`,
    `${sku}:stock`,
    `${sku}:idem:k`,
    'a b',
    'x'.repeat(65),
    'ésku',
    'a\u0000b',
    'a\nb',
    '*',
    '',
  ];

  it('when a SKU tries to break out of its hash tag or the key layout, then every route refuses it with 400', async () => {
    for (const bad of keyBreakers) {
      await expectRefused({ path: '/purchase/safe', body: JSON.stringify({ sku: bad }) }, 400);
      await expectRefused({ path: '/purchase/unsafe', body: JSON.stringify({ sku: bad }) }, 400);
      await expectRefused({ method: 'GET', path: `/stock?sku=${encodeURIComponent(bad)}` }, 400);
      await expectRefused(
        { path: `/stock/reset?sku=${encodeURIComponent(bad)}&amount=5`, headers: auth },
        400,
      );
      if (bad !== '') {
        await expectRefused({ method: 'GET', path: `/products/${encodeURIComponent(bad)}` }, 400);
        await expectRefused(
          {
            method: 'PUT',
            path: `/products/${encodeURIComponent(bad)}`,
            headers: auth,
            body: JSON.stringify({ name: 'x', price: 1, stock: 1 }),
          },
          400,
        );
      }
    }
    // the raw characters in a path, not percent-encoded
    await expectRefused({ method: 'GET', path: `/products/{${sku}}` }, 400);
    await expectRefused({ method: 'GET', path: `/products/fs:{${sku}}:stock` }, 400);
    await expectRefused({ method: 'GET', path: '/products/%zz' }, 400);
    await expectRefused({ method: 'GET', path: `/orders/${sku}}:1-0` }, 404);
  });

  it('when a client sends its body too slowly, then it gets a 408 and nothing is bought', async () => {
    const before = await redis.digest();
    const body = JSON.stringify({ sku });
    const status = await stallingClient(service.service.port, [
      `POST /purchase/safe HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`,
      body.slice(0, 4),
    ]);
    expect(status).toBe(408);
    expect(await redis.digest()).toBe(before);
  }, 30_000);

  it('when a client sends its headers too slowly, then it gets a 408', async () => {
    const status = await stallingClient(service.service.port, [
      'POST /purchase/safe HTTP/1.1\r\nHost: x\r\n',
    ]);
    expect(status).toBe(408);
  }, 30_000);

  it('when the body is not JSON, or in another charset, then it is a 415 (400 if it does not decode) and nothing changes', async () => {
    const body = JSON.stringify({ sku });
    await expectRefused({ path: '/purchase/safe', headers: { 'content-type': 'text/plain' }, body }, 415);
    await expectRefused(
      {
        path: '/purchase/safe',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: `sku=${sku}`,
      },
      415,
    );
    await expectRefused(
      { path: '/purchase/safe', headers: { 'content-type': 'application/json; charset=latin1' }, body },
      415,
    );
    // declared UTF-16 but sent as UTF-8: it decodes to garbage, which is not JSON
    await expectRefused(
      { path: '/purchase/safe', headers: { 'content-type': 'application/json; charset=utf-16' }, body },
      400,
    );
  });
});
