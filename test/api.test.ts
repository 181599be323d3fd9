import request from 'supertest';
import { catalogueKey } from '../app/redis/keys';
import { auth, soldOutProblem, startTestService, uniqueSku } from './support/fixtures';
import type { TestService } from './support/fixtures';

/** The HTTP API of design.md, route by route, against a real Redis. */
describe('the HTTP API', () => {
  let svc: TestService;

  beforeAll(async () => {
    svc = await startTestService();
  });
  afterAll(async () => {
    await svc.stop();
  });

  const stock = async (sku: string, units: number, perUserLimit = 0): Promise<void> => {
    await request(svc.url)
      .put(`/products/${sku}`)
      .set(auth)
      .send({ name: `Product ${sku}`, price: 19.99, stock: units, perUserLimit })
      .expect(201);
  };

  describe('clients of the original engine', () => {
    it('when they reset to 50, buy with no body and read the stock, then it works unchanged', async () => {
      const reset = await request(svc.url).post('/stock/reset?amount=50').set(auth).expect(200);
      expect(reset.body).toEqual({
        message: `stock of ${svc.config.defaultSku} reset to 50`,
        sku: svc.config.defaultSku,
        new_stock: 50,
      });
      const bought = await request(svc.url).post('/purchase/safe').expect(200);
      expect(bought.body).toMatchObject({ success: true, method: 'safe', quantity: 1, remaining: 49 });
      const level = await request(svc.url).get('/stock').expect(200);
      expect(level.body).toEqual({
        sku: svc.config.defaultSku,
        current_stock: 49,
        initial_stock: 50,
        sold: 1,
        orders: 1,
      });
    });

    it('when the default SKU is bought on the unsafe endpoint with no body, then it answers method "unsafe"', async () => {
      await request(svc.url).post('/stock/reset?amount=5').set(auth).expect(200);
      const bought = await request(svc.url).post('/purchase/unsafe').expect(200);
      expect(bought.body).toMatchObject({ success: true, method: 'unsafe', remaining: 4 });
    });
  });

  describe('POST /purchase/safe', () => {
    it('when a product is in stock, then a purchase returns the order, and the order can be read back', async () => {
      const sku = uniqueSku();
      await stock(sku, 10);
      const res = await request(svc.url)
        .post('/purchase/safe')
        .send({ sku, quantity: 3, userId: 'ann' })
        .expect(200);
      expect(res.body).toEqual({
        success: true,
        method: 'safe',
        orderId: expect.stringMatching(new RegExp(`^${sku}:\\d+-\\d+:[A-Za-z0-9_-]{16}$`)) as unknown,
        sku,
        quantity: 3,
        remaining: 7,
      });
      expect(res.headers['x-instance-id']).toBe(svc.config.instanceId);
      const orderId = (res.body as { orderId: string }).orderId;
      const asBuyer = await request(svc.url).get(`/orders/${orderId}`).set('X-User-Id', 'ann').expect(200);
      expect(asBuyer.body).toEqual({
        orderId,
        sku,
        quantity: 3,
        userId: 'ann',
        method: 'safe',
        createdAt: expect.any(String) as unknown,
      });
    });

    it('when the stock is gone, then a purchase gets 409 sold_out as a problem document', async () => {
      const sku = uniqueSku();
      await stock(sku, 1);
      await request(svc.url).post('/purchase/safe').send({ sku }).expect(200);
      const res = await request(svc.url).post('/purchase/safe').send({ sku }).expect(409);
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(res.body).toEqual(soldOutProblem(sku));
    });

    it('when a user would pass the per-user limit, then 409 limit_exceeded', async () => {
      const sku = uniqueSku();
      await stock(sku, 10, 2);
      await request(svc.url).post('/purchase/safe').send({ sku, quantity: 2, userId: 'bo' }).expect(200);
      const res = await request(svc.url).post('/purchase/safe').send({ sku, userId: 'bo' }).expect(409);
      expect(res.body).toMatchObject({ code: 'limit_exceeded', allowed: 0 });
    });

    it('when the SKU is unknown, then 404 unknown_sku', async () => {
      const res = await request(svc.url).post('/purchase/safe').send({ sku: uniqueSku() }).expect(404);
      expect(res.body).toMatchObject({ code: 'unknown_sku', status: 404 });
    });

    it('when a purchase is retried with the same Idempotency-Key, then the same order comes back and no more stock is taken', async () => {
      const sku = uniqueSku();
      await stock(sku, 5);
      const first = await request(svc.url)
        .post('/purchase/safe')
        .set('Idempotency-Key', 'order-42')
        .send({ sku, quantity: 2, userId: 'cy' })
        .expect(200);
      const retry = await request(svc.url)
        .post('/purchase/safe')
        .set('Idempotency-Key', 'order-42')
        .send({ sku, quantity: 2, userId: 'cy' })
        .expect(200);
      expect(retry.body).toEqual(first.body);
      expect(retry.headers['idempotent-replayed']).toBe('true');
      expect(first.headers['idempotent-replayed']).toBeUndefined();
      const level = await request(svc.url).get(`/stock?sku=${sku}`).expect(200);
      expect(level.body).toMatchObject({ current_stock: 3, sold: 2, orders: 1 });
    });

    it('when an Idempotency-Key is reused with another body, then 422 idempotency_key_reused', async () => {
      const sku = uniqueSku();
      await stock(sku, 5);
      await request(svc.url).post('/purchase/safe').set('Idempotency-Key', 'k-7').send({ sku }).expect(200);
      const res = await request(svc.url)
        .post('/purchase/safe')
        .set('Idempotency-Key', 'k-7')
        .send({ sku, quantity: 2 })
        .expect(422);
      expect(res.body).toMatchObject({ code: 'idempotency_key_reused' });
    });

    it('when the script cache is flushed, then the next purchase succeeds', async () => {
      const sku = uniqueSku();
      await stock(sku, 5);
      await svc.service.redis.script('FLUSH');
      await request(svc.url).post('/purchase/safe').send({ sku }).expect(200);
    });
  });

  /** every SKU of the catalogue, page by page */
  async function listedSkus(): Promise<string[]> {
    const skus: string[] = [];
    let cursor: string | null = null;
    do {
      const page: request.Response = await request(svc.url)
        .get(`/products?limit=100${cursor === null ? '' : `&cursor=${cursor}`}`)
        .expect(200);
      const body = page.body as { products: { sku: string }[]; nextCursor: string | null };
      skus.push(...body.products.map((p) => p.sku));
      cursor = body.nextCursor;
    } while (cursor !== null);
    return skus;
  }

  describe('products and stock', () => {
    it('when a product is created and then updated, then PUT answers 201 then 200 and the catalogue lists it', async () => {
      const sku = uniqueSku();
      const body = { name: 'Sneaker', price: 89.5, stock: 20, perUserLimit: 1 };
      const created = await request(svc.url).put(`/products/${sku}`).set(auth).send(body).expect(201);
      expect(created.body).toEqual({ sku, ...body, initialStock: 20, sold: 0, orders: 0 });
      await request(svc.url)
        .put(`/products/${sku}`)
        .set(auth)
        .send({ ...body, stock: 30 })
        .expect(200);
      const one = await request(svc.url).get(`/products/${sku}`).expect(200);
      expect(one.body).toMatchObject({ sku, stock: 30 });
      expect(await listedSkus()).toContain(sku);
    });

    it('when the catalogue is listed, then it comes in pages of at most 100, in SKU order, each SKU once', async () => {
      const prefix = uniqueSku('page');
      const skus = Array.from({ length: 7 }, (_, i) => `${prefix}-${i}`);
      for (const sku of skus) await stock(sku, 1);
      // from just before the prefix: the shared test Redis holds other tests' SKUs too
      const seen: string[] = [];
      let cursor: string | null = `${prefix}-`;
      while (cursor !== null && seen.length < skus.length) {
        const page: request.Response = await request(svc.url)
          .get(`/products?limit=3&cursor=${cursor}`)
          .expect(200);
        const body = page.body as { products: { sku: string }[]; nextCursor: string | null };
        expect(body.products.length).toBeLessThanOrEqual(3);
        seen.push(...body.products.map((p) => p.sku).filter((sku) => sku.startsWith(prefix)));
        cursor = body.nextCursor;
      }
      expect(seen).toEqual(skus);
      await request(svc.url).get('/products?limit=101').expect(400);
      await request(svc.url).get('/products?limit=0').expect(400);
      await request(svc.url).get('/products?cursor=has%20space').expect(400);
      const first = await request(svc.url).get('/products').expect(200);
      expect((first.body as { products: unknown[] }).products.length).toBeLessThanOrEqual(50);
    });

    it('when a product or stock is asked for an unknown SKU, then 404', async () => {
      await request(svc.url).get(`/products/${uniqueSku()}`).expect(404);
      const res = await request(svc.url).get(`/stock?sku=${uniqueSku()}`).expect(404);
      expect(res.body).toMatchObject({ code: 'unknown_sku' });
    });

    it('when a reset names a new SKU, then it is created with that stock', async () => {
      const sku = uniqueSku();
      await request(svc.url).post(`/stock/reset?sku=${sku}&amount=7`).set(auth).expect(200);
      const level = await request(svc.url).get(`/stock?sku=${sku}`).expect(200);
      expect(level.body).toEqual({ sku, current_stock: 7, initial_stock: 7, sold: 0, orders: 0 });
    });

    it('when a SKU is missing from the catalogue set, then its next reset puts it back', async () => {
      // the set is in another slot than the SKU, so it is written after the script: a crash between
      // the two must heal on the next write, as it does for PUT
      const sku = uniqueSku();
      await request(svc.url).post(`/stock/reset?sku=${sku}&amount=7`).set(auth).expect(200);
      await svc.service.redis.zrem(catalogueKey, sku);
      expect(await listedSkus()).not.toContain(sku);
      await request(svc.url).post(`/stock/reset?sku=${sku}&amount=5`).set(auth).expect(200);
      expect(await listedSkus()).toContain(sku);
    });

    it('when the token comes with the scheme in another case, then it is accepted (RFC 9110: case-insensitive)', async () => {
      const sku = uniqueSku();
      const token = auth.Authorization.slice('Bearer '.length);
      for (const scheme of ['bearer', 'BEARER']) {
        await request(svc.url)
          .post(`/stock/reset?sku=${sku}&amount=3`)
          .set('Authorization', `${scheme} ${token}`)
          .expect(200);
      }
    });

    it('when an order id is unknown or malformed, then 404 unknown_order', async () => {
      const token = 'AAAAAAAAAAAAAAAA';
      await request(svc.url).get(`/orders/${uniqueSku()}:1-0:${token}`).expect(404);
      // digits Redis would refuse as a stream id (above 2^64 - 1): a malformed id, not a server error
      await request(svc.url).get(`/orders/${uniqueSku()}:99999999999999999999-0:${token}`).expect(404);
      await request(svc.url).get(`/orders/${uniqueSku()}:1-18446744073709551616:${token}`).expect(404);
      await request(svc.url).get(`/orders/${uniqueSku()}:1-0`).expect(404);
      const res = await request(svc.url).get('/orders/not-an-order').expect(404);
      expect(res.body).toMatchObject({ code: 'unknown_order' });
    });
  });

  describe('GET /orders/:orderId', () => {
    it("when someone other than the buyer or the admin reads an order, then it leaves the buyer's identity out", async () => {
      const sku = uniqueSku();
      await stock(sku, 5);
      const bought = await request(svc.url)
        .post('/purchase/safe')
        .send({ sku, userId: 'ann@example.com' })
        .expect(200);
      const path = `/orders/${(bought.body as { orderId: string }).orderId}`;
      const anyone = await request(svc.url).get(path).expect(200);
      expect(anyone.body).toMatchObject({ sku, quantity: 1, method: 'safe' });
      expect(anyone.body).not.toHaveProperty('userId');
      expect(JSON.stringify(anyone.body)).not.toContain('ann@example.com');
      const someoneElse = await request(svc.url).get(path).set('X-User-Id', 'bob@example.com').expect(200);
      expect(someoneElse.body).not.toHaveProperty('userId');
      const wrongToken = await request(svc.url)
        .get(path)
        .set('Authorization', 'Bearer not-the-admin-token')
        .expect(200);
      expect(wrongToken.body).not.toHaveProperty('userId');
      expect((await request(svc.url).get(path).set('X-User-Id', 'ann@example.com')).body).toMatchObject({
        userId: 'ann@example.com',
      });
      expect((await request(svc.url).get(path).set(auth)).body).toMatchObject({ userId: 'ann@example.com' });
    });

    it('when an order was bought anonymously, then it shows userId null to everyone', async () => {
      const sku = uniqueSku();
      await stock(sku, 5);
      const bought = await request(svc.url).post('/purchase/safe').send({ sku }).expect(200);
      const order = await request(svc.url)
        .get(`/orders/${(bought.body as { orderId: string }).orderId}`)
        .expect(200);
      expect(order.body).toMatchObject({ userId: null });
    });

    it('when the stream id is right but the token is not, then 404: an order cannot be found by counting ids', async () => {
      const sku = uniqueSku();
      await stock(sku, 5);
      const res = await request(svc.url).post('/purchase/safe').send({ sku }).expect(200);
      const orderId = (res.body as { orderId: string }).orderId;
      const [, entryId, token = ''] = orderId.split(':');
      await request(svc.url).get(`/orders/${orderId}`).expect(200);
      const guesses = [
        `${sku}:${entryId}`,
        `${sku}:${entryId}:${'A'.repeat(16)}`,
        `${sku}:${entryId}:${token.slice(0, 15)}${token.endsWith('A') ? 'B' : 'A'}`,
        `${sku}:${entryId}:${token}x`,
      ];
      for (const guess of guesses) {
        const answer = await request(svc.url).get(`/orders/${guess}`).expect(404);
        expect(answer.body).toMatchObject({ code: 'unknown_order' });
      }
    });
  });

  describe('GET /orders?sku= with an Idempotency-Key', () => {
    it('when a purchase was made with the key, then it answers that order, buyer included', async () => {
      const sku = uniqueSku();
      await stock(sku, 5);
      const bought = await request(svc.url)
        .post('/purchase/safe')
        .set('Idempotency-Key', 'lookup-key-1')
        .send({ sku, userId: 'cy', quantity: 2 })
        .expect(200);
      const found = await request(svc.url)
        .get(`/orders?sku=${sku}`)
        .set('Idempotency-Key', 'lookup-key-1')
        .expect(200);
      expect(found.body).toMatchObject({
        orderId: (bought.body as { orderId: string }).orderId,
        sku,
        quantity: 2,
        userId: 'cy',
      });
    });

    it('when no purchase was made with the key, then 404 says buying again with it is safe', async () => {
      const sku = uniqueSku();
      await stock(sku, 5);
      const res = await request(svc.url)
        .get(`/orders?sku=${sku}`)
        .set('Idempotency-Key', 'never-used')
        .expect(404);
      expect(res.body).toMatchObject({ code: 'unknown_order' });
      expect((res.body as { detail: string }).detail).toContain('buying again with it is safe');
    });

    it('when the key is missing or malformed, then 400 invalid_request', async () => {
      const sku = uniqueSku();
      await request(svc.url).get(`/orders?sku=${sku}`).expect(400);
      await request(svc.url).get(`/orders?sku=${sku}`).set('Idempotency-Key', 'x'.repeat(129)).expect(400);
      await request(svc.url).get('/orders?sku=has space').set('Idempotency-Key', 'k').expect(400);
    });
  });

  describe('operations', () => {
    it('when Redis is reachable and scripts are loaded, then /health is 200 and /health/live is 200', async () => {
      await request(svc.url).get('/health').expect(200, { status: 'ok' });
      await request(svc.url).get('/health/live').expect(200, { status: 'live' });
    });

    it('when Prometheus scrapes /metrics, then purchases, latency and Redis errors are exposed', async () => {
      await request(svc.url).post('/purchase/safe').send({ sku: uniqueSku() });
      const res = await request(svc.url).get('/metrics').expect(200);
      expect(res.text).toContain('flashsale_purchases_total{method="safe",outcome="unknown_sku"}');
      expect(res.text).toContain('flashsale_http_request_duration_seconds_bucket');
      expect(res.text).toContain('# TYPE flashsale_redis_errors_total counter');
    });

    it('when a response goes out, then it carries helmet headers and no X-Powered-By', async () => {
      const res = await request(svc.url).get('/health/live');
      expect(res.headers['x-content-type-options']).toBe('nosniff');
      expect(res.headers['x-powered-by']).toBeUndefined();
    });

    it('when a route does not exist, then 404 not_found as a problem document', async () => {
      const res = await request(svc.url).get('/nowhere').expect(404);
      expect(res.body).toMatchObject({ code: 'not_found', status: 404 });
    });

    it('when a known path is asked with a method it does not take, then 405 method_not_allowed with Allow', async () => {
      const res = await request(svc.url).get('/purchase/safe').expect(405);
      expect(res.headers.allow).toBe('POST');
      expect(res.body).toMatchObject({ code: 'method_not_allowed', status: 405 });
      const product = await request(svc.url).delete('/products/any-sku').expect(405);
      expect(product.headers.allow).toBe('GET, HEAD, PUT');
    });
  });
});

describe('the unsafe endpoint in production', () => {
  it('when UNSAFE_ENDPOINT is not switched on, then it answers 404 unsafe_disabled and sells nothing', async () => {
    const svc = await startTestService({ NODE_ENV: 'production', SHUTDOWN_DRAIN_MS: '0' });
    try {
      await request(svc.url).post('/stock/reset?amount=5').set(auth).expect(200);
      const res = await request(svc.url).post('/purchase/unsafe').expect(404);
      expect(res.body).toMatchObject({ code: 'unsafe_disabled' });
      const level = await request(svc.url).get('/stock').expect(200);
      expect(level.body).toMatchObject({ current_stock: 5, orders: 0 });
    } finally {
      await svc.stop();
    }
  });

  it('when UNSAFE_ENDPOINT=on, then it sells', async () => {
    const svc = await startTestService({
      NODE_ENV: 'production',
      UNSAFE_ENDPOINT: 'on',
      SHUTDOWN_DRAIN_MS: '0',
    });
    try {
      await request(svc.url).post('/stock/reset?amount=5').set(auth).expect(200);
      await request(svc.url).post('/purchase/unsafe').expect(200);
    } finally {
      await svc.stop();
    }
  });
});
