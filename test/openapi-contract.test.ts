import { startRedis } from '../attack/local/redis-server';
import type { LocalRedis } from '../attack/local/redis-server';
import { spawnApp } from './support/app-process';
import type { AppProcess } from './support/app-process';
import { TEST_ADMIN_TOKEN, auth, redisClient, uniqueSku } from './support/fixtures';
import { OpenApiContract } from './support/openapi-contract';

/**
 * The contract test: real requests to a running service (its own process, its own redis-server), every
 * documented success and refusal, and each answer checked against the OpenAPI document that service
 * serves: status, Content-Type, body and headers. The last test lists any documented answer that was
 * never seen, so that the document cannot promise what the service does not do, nor the other way round.
 */
jest.setTimeout(120_000);

interface Call {
  method?: string;
  path: string;
  body?: unknown;
  /** sent as is, with `contentType` */
  raw?: string;
  contentType?: string;
  headers?: Record<string, string>;
}

describe('the OpenAPI document, against the running service', () => {
  let redis: LocalRedis;
  let app: AppProcess;
  let unsafeOff: AppProcess | undefined;
  let limited: AppProcess | undefined;
  let contract: OpenApiContract;
  const violations: string[] = [];

  beforeAll(async () => {
    redis = await startRedis();
    const env = { REDIS_URL: redis.url, ADMIN_TOKEN: TEST_ADMIN_TOKEN, REDIS_COMMAND_TIMEOUT_MS: '300' };
    // a process started here and not stopped (a failed start) is killed by the test environment
    [app, unsafeOff, limited] = await Promise.all([
      spawnApp({ ...env, UNSAFE_ENDPOINT: 'on' }),
      spawnApp({ ...env, UNSAFE_ENDPOINT: 'off' }),
      // the fleet-wide rate limits on, so that their 429 and headers are checked too
      spawnApp({ ...env, UNSAFE_ENDPOINT: 'on', RATE_LIMIT_PER_USER: '2', RATE_LIMIT_WINDOW_MS: '60000' }),
    ]);
    const res = await fetch(`${app.url}/openapi.json`);
    contract = new OpenApiContract((await res.json()) as Record<string, unknown>);
  });

  afterAll(async () => {
    await Promise.all([app.stop(), unsafeOff?.stop(), limited?.stop()]);
    await redis.stop();
  });

  /** one request, its answer checked against the document; returns the status and parsed body */
  async function call(
    c: Call,
    base = app.url,
  ): Promise<{ status: number; body: Record<string, unknown>; headers: Headers }> {
    const method = c.method ?? (c.body === undefined && c.raw === undefined ? 'GET' : 'POST');
    const headers: Record<string, string> = { ...c.headers };
    if (c.body !== undefined) headers['content-type'] = 'application/json';
    if (c.raw !== undefined) headers['content-type'] = c.contentType ?? 'application/json';
    const res = await fetch(`${base}${c.path}`, {
      method,
      headers,
      body: c.raw ?? (c.body === undefined ? undefined : JSON.stringify(c.body)),
    });
    const text = await res.text();
    violations.push(
      ...contract.violations({ method, path: c.path, status: res.status, headers: res.headers, text }),
    );
    let body: Record<string, unknown> = {};
    try {
      body = JSON.parse(text) as Record<string, unknown>;
    } catch {
      body = { text };
    }
    return { status: res.status, body, headers: res.headers };
  }

  const put = (sku: string, product: unknown, headers: Record<string, string> = auth): Promise<unknown> =>
    call({ method: 'PUT', path: `/products/${sku}`, body: product, headers });

  it('when the document is read, then it is OpenAPI 3.1 and lists every problem type the service sends', () => {
    expect(contract.document.openapi).toBe('3.1.0');
    const types = contract.document['x-problem-types'] as { code: string }[];
    expect(types.map((t) => t.code)).toEqual(expect.arrayContaining(['sold_out', 'method_not_allowed']));
  });

  it('when the catalogue is written and read, then every answer keeps the document', async () => {
    const sku = uniqueSku('contract');
    const product = { name: 'Contract', price: 2.5, stock: 3, perUserLimit: 2 };
    expect(await put(sku, product)).toMatchObject({ status: 201 });
    expect(await put(sku, product)).toMatchObject({ status: 200 });
    expect(await put(sku, product, {})).toMatchObject({ status: 401 });
    expect(await put(sku, { ...product, price: -1 })).toMatchObject({ status: 400 });
    expect(
      await call({
        method: 'PUT',
        path: `/products/${sku}`,
        raw: 'name=x',
        contentType: 'text/plain',
        headers: auth,
      }),
    ).toMatchObject({ status: 415 });
    expect(
      await call({
        method: 'PUT',
        path: `/products/${sku}`,
        raw: JSON.stringify({ name: 'x'.repeat(5000) }),
        headers: auth,
      }),
    ).toMatchObject({ status: 413 });

    expect(await call({ path: `/products/${sku}` })).toMatchObject({ status: 200 });
    expect(await call({ path: `/products/${uniqueSku('none')}` })).toMatchObject({ status: 404 });
    expect(await call({ path: '/products/not%20a%20sku' })).toMatchObject({ status: 400 });
    expect(await call({ path: '/products?limit=2' })).toMatchObject({ status: 200 });
    expect(await call({ path: '/products?limit=0' })).toMatchObject({ status: 400 });

    expect(await call({ path: `/stock?sku=${sku}` })).toMatchObject({ status: 200 });
    expect(await call({ path: `/stock?sku=${uniqueSku('none')}` })).toMatchObject({ status: 404 });
    expect(await call({ path: `/stock?sku=${sku}&extra=1` })).toMatchObject({ status: 400 });

    expect(
      await call({ method: 'POST', path: `/stock/reset?sku=${sku}&amount=3`, headers: auth }),
    ).toMatchObject({
      status: 200,
    });
    expect(await call({ method: 'POST', path: `/stock/reset?sku=${sku}&amount=3` })).toMatchObject({
      status: 401,
    });
    expect(
      await call({ method: 'POST', path: `/stock/reset?sku=${sku}&amount=abc`, headers: auth }),
    ).toMatchObject({
      status: 400,
    });
    expect(violations).toEqual([]);
  });

  it('when purchases succeed, are retried and are refused, then every answer keeps the document', async () => {
    const sku = uniqueSku('contract');
    await put(sku, { name: 'Contract', price: 1, stock: 4, perUserLimit: 2 });
    const key = `key-${sku}`;
    const bought = await call({
      path: '/purchase/safe',
      body: { sku, userId: 'u1' },
      headers: { 'Idempotency-Key': key },
    });
    expect(bought.status).toBe(200);
    const replay = await call({
      path: '/purchase/safe',
      body: { sku, userId: 'u1' },
      headers: { 'Idempotency-Key': key },
    });
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
    expect(
      await call({
        path: '/purchase/safe',
        body: { sku, userId: 'u2' },
        headers: { 'Idempotency-Key': key },
      }),
    ).toMatchObject({ status: 422 });
    expect(await call({ path: '/purchase/safe', body: { sku, userId: 'u1', quantity: 2 } })).toMatchObject({
      status: 409,
      body: { code: 'limit_exceeded' },
    });
    expect(await call({ path: '/purchase/unsafe', body: { sku, userId: 'u1', quantity: 2 } })).toMatchObject({
      status: 409,
      body: { code: 'limit_exceeded' },
    });
    expect(
      await call({
        path: '/purchase/unsafe',
        body: { sku, userId: 'u3' },
        headers: { 'Idempotency-Key': key },
      }),
    ).toMatchObject({
      status: 422,
    });
    expect(
      await call({ path: '/purchase/unsafe', body: { sku }, headers: { 'Idempotency-Key': `${key}-u` } }),
    ).toMatchObject({
      status: 200,
    });
    expect(await call({ path: '/purchase/safe', body: { sku, quantity: 5 } })).toMatchObject({
      status: 409,
      body: { code: 'sold_out' },
    });
    expect(await call({ path: '/purchase/unsafe', body: { sku, quantity: 5 } })).toMatchObject({
      status: 409,
      body: { code: 'sold_out' },
    });
    for (const method of ['safe', 'unsafe']) {
      const path = `/purchase/${method}`;
      expect(await call({ path, body: { sku: uniqueSku('none') } })).toMatchObject({ status: 404 });
      expect(await call({ path, body: { sku, quantity: 0 } })).toMatchObject({ status: 400 });
      expect(await call({ path, raw: 'sku', contentType: 'text/plain' })).toMatchObject({ status: 415 });
      expect(await call({ path, raw: JSON.stringify({ sku: 'x'.repeat(5000) }) })).toMatchObject({
        status: 413,
      });
    }
    expect(await call({ path: '/purchase/unsafe', body: { sku } }, unsafeOff?.url)).toMatchObject({
      status: 404,
      body: { code: 'unsafe_disabled' },
    });

    const orderId = String(bought.body.orderId);
    expect(
      await call({ path: `/orders/${encodeURIComponent(orderId)}`, headers: { 'X-User-Id': 'u1' } }),
    ).toMatchObject({
      status: 200,
      body: { userId: 'u1' },
    });
    expect(await call({ path: `/orders/${encodeURIComponent(`${sku}:1-0:nothing`)}` })).toMatchObject({
      status: 404,
    });
    expect(
      await call({
        path: `/orders/${encodeURIComponent(orderId)}`,
        headers: { 'X-User-Id': 'u'.repeat(200) },
      }),
    ).toMatchObject({ status: 400 });
    expect(await call({ path: `/orders?sku=${sku}`, headers: { 'Idempotency-Key': key } })).toMatchObject({
      status: 200,
      body: { orderId },
    });
    expect(
      await call({ path: `/orders?sku=${sku}`, headers: { 'Idempotency-Key': 'never-used' } }),
    ).toMatchObject({
      status: 404,
    });
    expect(await call({ path: `/orders?sku=${sku}` })).toMatchObject({ status: 400 });
    expect(violations).toEqual([]);
  });

  it('when the rate limits admit and refuse purchases, then every answer keeps the document', async () => {
    const sku = uniqueSku('contract-limits');
    await put(sku, { name: 'Limits', price: 1, stock: 10 });
    const base = limited?.url ?? '';
    for (const method of ['safe', 'unsafe']) {
      const statuses: number[] = [];
      let refused: Headers | undefined;
      for (let attempt = 0; attempt < 3; attempt += 1) {
        const answer = await call(
          { path: `/purchase/${method}`, body: { sku, userId: `rl-${method}` } },
          base,
        );
        statuses.push(answer.status);
        if (answer.status === 429) refused = answer.headers;
      }
      expect(statuses).toEqual([200, 200, 429]);
      expect(refused?.get('retry-after')).toMatch(/^\d+$/);
      expect(refused?.get('ratelimit-policy')).toContain('"user";q=2');
    }
    expect(violations).toEqual([]);
  });

  it('when the reference, health and metrics are read, or a path or method is wrong, then every answer keeps the document', async () => {
    for (const path of ['/health', '/health/live', '/metrics', '/openapi.json', '/docs']) {
      expect(await call({ path })).toMatchObject({ status: 200 });
    }
    const wrongMethod = await call({ path: '/purchase/safe' });
    expect(wrongMethod).toMatchObject({ status: 405, body: { code: 'method_not_allowed' } });
    expect(wrongMethod.headers.get('allow')).toBe('POST');
    expect((await call({ method: 'DELETE', path: '/products/some-sku' })).headers.get('allow')).toBe(
      'GET, HEAD, PUT',
    );
    expect(await call({ path: '/no/such/path' })).toMatchObject({ status: 404, body: { code: 'not_found' } });
    expect(violations).toEqual([]);
  });

  it('when Redis is full, paused and then gone, then every 503 keeps the document', async () => {
    const sku = uniqueSku('contract');
    await put(sku, { name: 'Contract', price: 1, stock: 100 });
    const { body: order } = await call({ path: '/purchase/safe', body: { sku } });
    const admin = redisClient(redis.url);
    try {
      await admin.config('SET', 'maxmemory', '1');
      for (const path of ['/purchase/safe', '/purchase/unsafe']) {
        expect(await call({ path, body: { sku } })).toMatchObject({
          status: 503,
          body: { code: 'store_out_of_memory' },
        });
      }
      expect(await put(sku, { name: 'Full', price: 1, stock: 1 })).toMatchObject({ status: 503 });
      expect(
        await call({ method: 'POST', path: `/stock/reset?sku=${sku}&amount=1`, headers: auth }),
      ).toMatchObject({
        status: 503,
        body: { code: 'store_out_of_memory' },
      });
      await admin.config('SET', 'maxmemory', '0');

      // paused longer than the service's command timeout: a purchase's answer is lost; listings queue up
      // behind the one waiting for Redis until the bulkhead turns the rest away
      await admin.client('PAUSE', 1500, 'ALL');
      const [unknown, health, ...listings] = await Promise.all([
        call({ path: '/purchase/safe', body: { sku }, headers: { 'Idempotency-Key': `paused-${sku}` } }),
        call({ path: '/health' }),
        ...Array.from({ length: 205 }, () => call({ path: '/products?limit=1' })),
      ]);
      expect(unknown).toMatchObject({ status: 503, body: { code: 'purchase_outcome_unknown' } });
      expect(health.status).toBe(503);
      expect(listings.map((l) => l.body.code)).toContain('server_busy');
    } finally {
      await admin.quit();
    }

    await redis.stop();
    const gone = (c: Call): Promise<unknown> => expect(call(c)).resolves.toMatchObject({ status: 503 });
    await gone({ path: '/purchase/safe', body: { sku } });
    await gone({ path: '/purchase/unsafe', body: { sku } });
    await gone({ path: `/stock?sku=${sku}` });
    await gone({ method: 'POST', path: `/stock/reset?sku=${sku}&amount=1`, headers: auth });
    await gone({ path: '/products' });
    await gone({ path: `/products/${sku}` });
    await gone({
      method: 'PUT',
      path: `/products/${sku}`,
      body: { name: 'Gone', price: 1, stock: 1 },
      headers: auth,
    });
    await gone({ path: `/orders/${encodeURIComponent(String(order.orderId))}` });
    await gone({ path: `/orders?sku=${sku}`, headers: { 'Idempotency-Key': 'any' } });
    await gone({ path: '/health' });
    expect(violations).toEqual([]);
  });

  it('when every test above has run, then every documented answer was seen, except the 500s no request can provoke from outside', () => {
    const unseen = contract
      .documented()
      .filter((key) => !contract.seen.has(key) && !key.endsWith(' 500 internal_error'));
    expect(unseen).toEqual([]);
  });
});
