import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { createServer, ServerResponse } from 'node:http';
import type { RequestListener, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import express from 'express';
import request from 'supertest';
import { PurchaseService } from '../app/domain/purchase';
import type { InventoryStore } from '../app/domain/inventory-store';
import { SoldOutMarks } from '../app/domain/sold-out-marks';
import { observeRequests } from '../app/http/middleware/observe-requests';
import { readJsonBody } from '../app/http/middleware/read-json-body';
import { securityHeaders } from '../app/http/middleware/security-headers';
import type { SecurityHeaders } from '../app/http/middleware/security-headers';
import { errorHandler } from '../app/http/problem';
import { soldOutFastPath } from '../app/http/sold-out-fast-path';
import { createValidators } from '../app/http/validation';
import { createLogger } from '../app/observability/logger';
import { Metrics } from '../app/observability/metrics';
import { auth, startTestService, uniqueSku } from './support/fixtures';
import type { TestService } from './support/fixtures';
import { rawRequest } from './support/raw-http';
import type { RawAnswer } from './support/raw-http';

const MARK_TTL_MS = 600_000;

/** the value of one series in a /metrics text, 0 when absent */
function series(metrics: string, name: string, ...labels: string[]): number {
  const line = metrics
    .split('\n')
    .find((l) => l.startsWith(`${name}{`) && labels.every((label) => l.includes(label)));
  return line === undefined ? 0 : Number(line.split(' ').pop());
}

async function listen(listener: RequestListener): Promise<{ server: Server; url: string }> {
  const server = createServer(listener);
  server.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

/**
 * What the fast path answers and what it hands on, with an app behind it that says who answered: it
 * echoes the body its own body reader found, and whether the request's stream had already been read
 * when the app got it, so a body the fast path read and handed over is visible.
 */
describe('the sold-out fast path, in front of an app', () => {
  const DEFAULT_SKU = 'default-sku';
  const MARKED = 'gone';
  /** moves the marks' clock forward, to expire them without waiting */
  let clockAhead = 0;
  const marks = new SoldOutMarks(MARK_TTL_MS, () => performance.now() + clockAhead);
  // refusals from marks never reach the store: any call to it is a failure of this test
  const store = new Proxy({} as InventoryStore, {
    get: (_target, method) => () => Promise.reject(new Error(`the store was asked: ${String(method)}`)),
  });
  const purchases = new PurchaseService(store, { waitReplicas: 0, waitTimeoutMs: 0 }, marks);
  const metrics = new Metrics(false);
  const logger = createLogger('silent', 'fast-1');
  const closed = new AbortController();
  let draining = false;
  let appCalls = 0;
  let server: Server;
  let url: string;
  /** the same app behind fast paths whose own parts fail: the security headers, or the refusal's write */
  const faulty: Partial<Record<'headers' | 'write', { server: Server; url: string }>> = {};

  beforeAll(async () => {
    const validators = createValidators({ defaultSku: DEFAULT_SKU, defaultStock: 10, maxQuantity: 10 });
    const observer = observeRequests(logger, metrics, {
      instanceId: 'fast-1',
      slowRequestMs: 60_000,
      isDraining: () => draining,
      closed: closed.signal,
    });
    const headers = securityHeaders();
    const app = express();
    app.use((req, res, next) => {
      res.locals.readInFront = req.readableEnded;
      next();
    });
    app.use(observer.middleware, headers, readJsonBody({ limit: 4096 }));
    app.all('/{*path}', (req, res) => {
      appCalls += 1;
      res
        .status(299)
        .json({ app: true, body: req.body as unknown, readInFront: res.locals.readInFront as unknown });
    });
    app.use(errorHandler(logger, metrics));
    const parts = {
      purchases,
      validators,
      observer,
      securityHeaders: headers,
      metrics,
      logger,
      bodyLimit: 4096,
    };
    ({ server, url } = await listen(soldOutFastPath(app, parts)));
    const failingHeaders: SecurityHeaders = (_req, _res, next) => {
      next(new Error('the security headers failed'));
    };
    // the refusal's own write (its Content-Type) fails, once: the app's answer after it does not
    const failingWrite: SecurityHeaders = (req, res, next) => {
      headers(req, res, next);
      const setHeader = res.setHeader.bind(res);
      res.setHeader = (name: string, value: number | string | readonly string[]) => {
        if (name !== 'Content-Type') return setHeader(name, value);
        Reflect.deleteProperty(res, 'setHeader');
        throw new Error('the refusal could not be written');
      };
    };
    faulty.headers = await listen(soldOutFastPath(app, { ...parts, securityHeaders: failingHeaders }));
    faulty.write = await listen(soldOutFastPath(app, { ...parts, securityHeaders: failingWrite }));
  });
  afterAll(async () => {
    closed.abort();
    for (const { server: each } of [{ server }, ...Object.values(faulty)]) {
      await new Promise((resolve) => each.close(resolve));
    }
  });
  beforeEach(() => {
    appCalls = 0;
    draining = false;
    clockAhead = 0;
    marks.trust();
    marks.mark(MARKED, marks.generation);
    marks.mark(DEFAULT_SKU, marks.generation);
  });

  const post = (
    body: string | undefined,
    headers: Record<string, string> = {},
    path = '/purchase/safe',
    extra: { bodyDelayMs?: number; to?: string } = {},
  ) =>
    rawRequest(extra.to ?? url, {
      method: 'POST',
      path,
      headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers },
      body,
      bodyDelayMs: extra.bodyDelayMs,
    });

  const expectRefusedHere = (answer: RawAnswer, sku: string): void => {
    expect(answer.status).toBe(409);
    expect(JSON.parse(answer.body)).toEqual({
      type: 'urn:flash-sale:problem:sold_out',
      title: 'Sold out',
      status: 409,
      detail: `${sku} is sold out`,
      code: 'sold_out',
      remaining: 0,
    });
    expect(answer.headers['content-type']).toBe('application/problem+json; charset=utf-8');
    expect(answer.headers['x-instance-id']).toBe('fast-1');
    expect(answer.headers['content-security-policy']).toBe("default-src 'none';frame-ancestors 'none'");
    expect(appCalls).toBe(0);
  };

  it('when a purchase names a marked SKU, then it is refused before the app, with the problem document and headers', async () => {
    expectRefusedHere(await post(JSON.stringify({ sku: MARKED, quantity: 2, userId: 'u1' })), MARKED);
  });

  it('when a purchase has no body and the default SKU is marked, then it is refused before the app', async () => {
    expectRefusedHere(await post(undefined), DEFAULT_SKU);
  });

  it('when the instance is draining, then the early refusal asks a keep-alive client to reconnect, as the app does', async () => {
    const keepAlive = { connection: 'keep-alive' };
    const before = await post(JSON.stringify({ sku: MARKED }), keepAlive);
    expectRefusedHere(before, MARKED);
    expect(before.headers.connection).toBe('keep-alive');
    draining = true;
    const answer = await post(JSON.stringify({ sku: MARKED }), keepAlive);
    expectRefusedHere(answer, MARKED);
    expect(answer.headers.connection).toBe('close');
  });

  it('when a SKU is not marked, then the app answers, with the body the fast path read handed over', async () => {
    const answer = await post(JSON.stringify({ sku: 'in-stock', quantity: 1 }));
    expect(answer.status).toBe(299);
    expect(JSON.parse(answer.body)).toEqual({
      app: true,
      body: { sku: 'in-stock', quantity: 1 },
      readInFront: true,
    });
    expect(appCalls).toBe(1);
  });

  it('when no SKU is marked at all, then the app reads the body itself', async () => {
    marks.distrust();
    marks.trust();
    const answer = await post(JSON.stringify({ sku: MARKED }));
    expect(answer.status).toBe(299);
    expect(JSON.parse(answer.body)).toEqual({ app: true, body: { sku: MARKED }, readInFront: false });
  });

  it('when every mark has expired, though nobody asked about those SKUs since, then the app reads the body itself', async () => {
    clockAhead = MARK_TTL_MS;
    const answer = await post(JSON.stringify({ sku: 'in-stock' }));
    expect(answer.status).toBe(299);
    expect(JSON.parse(answer.body)).toEqual({ app: true, body: { sku: 'in-stock' }, readInFront: false });
  });

  it('when a body arrives late, then the request is timed from its start, whether the app or the fast path answers', async () => {
    const DELAY_MS = 200;
    const seconds = async (status: string): Promise<number> =>
      series(
        await metrics.registry.metrics(),
        'flashsale_http_request_duration_seconds_sum',
        `status="${status}"`,
      );
    const before = { app: await seconds('299'), here: await seconds('409') };
    const handedOn = await post(JSON.stringify({ sku: 'in-stock' }), {}, '/purchase/safe', {
      bodyDelayMs: DELAY_MS,
    });
    expect(handedOn.status).toBe(299);
    expect(JSON.parse(handedOn.body)).toMatchObject({ readInFront: true });
    appCalls = 0;
    expectRefusedHere(
      await post(JSON.stringify({ sku: MARKED }), {}, '/purchase/safe', { bodyDelayMs: DELAY_MS }),
      MARKED,
    );
    // A lower bound, not a speed. Not the whole wait: the client's timer and the server's clock do not
    // start at the same instant (one run measured 149.07 ms of a 150 ms wait). Half of it is still far
    // above a clock started only once the body was in (about 1 ms).
    const atLeast = DELAY_MS / 2 / 1000;
    expect((await seconds('299')) - before.app).toBeGreaterThanOrEqual(atLeast);
    expect((await seconds('409')) - before.here).toBeGreaterThanOrEqual(atLeast);
  });

  it.each([
    ['its security headers fail', 'headers'],
    ['writing its refusal fails', 'write'],
  ] as const)(
    'when %s in front of the app, then the fault is logged, the app answers on its own route, no refusal is counted, and the process goes on',
    async (_case, which) => {
      const errors = jest.spyOn(logger, 'error');
      const count = (text: string, ...labels: string[]) => ({
        refusals: series(text, 'flashsale_purchases_total', 'outcome="sold_out"'),
        appRoute: series(
          text,
          'flashsale_http_request_duration_seconds_count',
          'route="/{*path}"',
          ...labels,
        ),
        early: series(
          text,
          'flashsale_http_request_duration_seconds_count',
          'route="/purchase/safe"',
          ...labels,
        ),
      });
      const before = count(await metrics.registry.metrics(), 'status="299"');
      const answer = await post(JSON.stringify({ sku: MARKED }), {}, '/purchase/safe', {
        to: faulty[which]?.url,
      });
      const after = count(await metrics.registry.metrics(), 'status="299"');
      expect(answer.status).toBe(299);
      expect(JSON.parse(answer.body)).toMatchObject({ app: true, body: { sku: MARKED } });
      expect(appCalls).toBe(1);
      expect(errors).toHaveBeenCalledTimes(1);
      errors.mockRestore();
      // this app counts no purchase: a sold_out here would be the fast path's, for a refusal never sent
      expect(after.refusals - before.refusals).toBe(0);
      expect(after.appRoute - before.appRoute).toBe(1);
      expect(after.early - before.early).toBe(0);
      appCalls = 0;
      expectRefusedHere(await post(JSON.stringify({ sku: MARKED })), MARKED);
    },
  );

  it.each<[string, () => Promise<RawAnswer>, number]>([
    [
      'it carries an Idempotency-Key',
      () => post(JSON.stringify({ sku: MARKED }), { 'idempotency-key': 'k1' }),
      299,
    ],
    ['its JSON is malformed', () => post('{"sku": "gone"'), 400],
    ['its body is JSON but not an object', () => post('"gone"'), 400],
    ['its quantity is not allowed', () => post(JSON.stringify({ sku: MARKED, quantity: 0 })), 299],
    ['it has an unknown member', () => post(JSON.stringify({ sku: MARKED, price: 0 })), 299],
    [
      'its body is chunked',
      () =>
        rawRequest(url, {
          method: 'POST',
          path: '/purchase/safe',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ sku: MARKED }),
          chunked: true,
        }),
      299,
    ],
    [
      'its Content-Type has a charset',
      () => post(JSON.stringify({ sku: MARKED }), { 'content-type': 'application/json; charset=utf-8' }),
      299,
    ],
    ['its path has a query', () => post(JSON.stringify({ sku: MARKED }), {}, '/purchase/safe?x=1'), 299],
    ['it is the unsafe endpoint', () => post(JSON.stringify({ sku: MARKED }), {}, '/purchase/unsafe'), 299],
  ])(
    'when a purchase of a marked SKU %s, then the app answers it, not the fast path',
    async (_case, send, status) => {
      const answer = await send();
      expect(answer.status).toBe(status);
      if (status === 400) {
        // the app's body reader found the fast path's verdict on the body and passed it on
        expect(JSON.parse(answer.body)).toMatchObject({ code: 'invalid_request' });
        expect(appCalls).toBe(0);
      } else {
        expect(appCalls).toBe(1);
      }
    },
  );

  it('when refusals are answered early, then they are counted as the route would count them', async () => {
    const before = await metrics.registry.metrics();
    for (let i = 0; i < 3; i += 1) expectRefusedHere(await post(JSON.stringify({ sku: MARKED })), MARKED);
    const after = await metrics.registry.metrics();
    const refusals = (text: string) =>
      series(text, 'flashsale_purchases_total', 'method="safe"', 'outcome="sold_out"');
    const latencies = (text: string) =>
      series(text, 'flashsale_http_request_duration_seconds_count', 'route="/purchase/safe"', 'status="409"');
    expect(refusals(after) - refusals(before)).toBe(3);
    expect(latencies(after) - latencies(before)).toBe(3);
  });
});

/**
 * On a running service: the fast path's refusal is the answer the Express route gives, byte for byte
 * but for the Date. The route answers a chunked body (which the fast path leaves alone) from the same
 * mark, and a keyed purchase from the script in Redis. Which of them Express handled is read from Node's
 * own channel of finished responses: Express gives every response it handles its own prototype.
 */
describe('the sold-out fast path, on a running service', () => {
  let svc: TestService;
  const throughExpress: boolean[] = [];
  const onFinished = (message: unknown): void => {
    const { response } = message as { response: ServerResponse };
    throughExpress.push(Object.getPrototypeOf(response) !== ServerResponse.prototype);
  };

  beforeAll(async () => {
    svc = await startTestService({ SOLD_OUT_MARK_TTL_MS: String(MARK_TTL_MS) });
    for (let i = 0; i < 1000 && svc.service.soldOut?.marks.trusted !== true; i += 1) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  });
  afterAll(() => svc.stop());
  beforeEach(() => {
    subscribe('http.server.response.finish', onFinished);
  });
  afterEach(() => {
    unsubscribe('http.server.response.finish', onFinished);
  });

  /** the header lines, Date left out: the one that differs between any two answers */
  const linesOf = (answer: RawAnswer): string[][] => {
    const lines: string[][] = [];
    for (let i = 0; i < answer.rawHeaders.length; i += 2) {
      const name = answer.rawHeaders[i] ?? '';
      if (name.toLowerCase() !== 'date') lines.push([name, answer.rawHeaders[i + 1] ?? '']);
    }
    return lines;
  };

  it('when a SKU is sold out, then the early refusal has the same status, headers and body as the route and the script give', async () => {
    const sku = uniqueSku('fast');
    await request(svc.url).post(`/stock/reset?sku=${sku}&amount=1`).set(auth).expect(200);
    await request(svc.url).post('/purchase/safe').send({ sku }).expect(200);
    await request(svc.url).post('/purchase/safe').send({ sku }).expect(409);
    expect(svc.service.soldOut?.marks.isSoldOut(sku)).toBe(true);

    const body = JSON.stringify({ sku });
    const headers = { 'content-type': 'application/json' };
    throughExpress.length = 0;
    const early = await rawRequest(svc.url, { method: 'POST', path: '/purchase/safe', headers, body });
    const route = await rawRequest(svc.url, {
      method: 'POST',
      path: '/purchase/safe',
      headers,
      body,
      chunked: true,
    });
    const script = await rawRequest(svc.url, {
      method: 'POST',
      path: '/purchase/safe',
      headers: { ...headers, 'idempotency-key': 'late-buyer' },
      body,
    });

    expect(throughExpress).toEqual([false, true, true]);
    expect(early.status).toBe(409);
    expect(JSON.parse(early.body)).toMatchObject({ code: 'sold_out', remaining: 0 });
    for (const other of [route, script]) {
      expect(other.status).toBe(early.status);
      expect(other.body).toBe(early.body);
      expect(linesOf(other)).toEqual(linesOf(early));
    }
  });
});
