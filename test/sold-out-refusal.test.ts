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
import { refuseSoldOut } from '../app/http/middleware/refuse-sold-out';
import { securityHeaders } from '../app/http/middleware/security-headers';
import { answerError, errorHandler } from '../app/http/problem';
import { requestPipeline } from '../app/http/request-pipeline';
import type { RequestPart } from '../app/http/request-pipeline';
import { createValidators } from '../app/http/validation';
import { createLogger } from '../app/observability/logger';
import { Metrics } from '../app/observability/metrics';
import { auth, soldOutProblem, startTestService, uniqueSku } from './support/fixtures';
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
 * The refusal as the last part of the service's own pipeline, with routes behind it that say they
 * answered (status 299) and echo the body the pipeline read.
 */
describe('the sold-out refusal, before the routes', () => {
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
  const logger = createLogger('silent', 'refusal-1');
  const closed = new AbortController();
  let draining = false;
  let routeCalls = 0;
  let server: Server;
  let url: string;
  /** the same pipeline, but the refusal's own write (its Content-Type) fails, in every request */
  let faulty: { server: Server; url: string };

  beforeAll(async () => {
    const validators = createValidators({ defaultSku: DEFAULT_SKU, defaultStock: 10, maxQuantity: 10 });
    const observer = observeRequests(logger, metrics, {
      instanceId: 'refusal-1',
      slowRequestMs: 60_000,
      isDraining: () => draining,
      closed: closed.signal,
    });
    const routes = express();
    routes.all('/{*path}', (req, res) => {
      routeCalls += 1;
      res.status(299).json({ routes: true, body: req.body as unknown });
    });
    routes.use(errorHandler(logger, metrics));
    const parts = [
      observer.part,
      securityHeaders(),
      readJsonBody({ limit: 4096 }),
      refuseSoldOut(purchases, validators, metrics, observer.answeredOn),
    ];
    ({ server, url } = await listen(requestPipeline(parts, routes, answerError(logger, metrics))));
    const failingWrite: RequestPart = (_req, res, next) => {
      const setHeader = res.setHeader.bind(res);
      res.setHeader = (name: string, value: number | string | readonly string[]) => {
        if (name !== 'Content-Type') return setHeader(name, value);
        Reflect.deleteProperty(res, 'setHeader');
        throw new Error('the refusal could not be written');
      };
      next();
    };
    faulty = await listen(requestPipeline([failingWrite, ...parts], routes, answerError(logger, metrics)));
  });
  afterAll(async () => {
    closed.abort();
    for (const each of [server, faulty.server]) await new Promise((resolve) => each.close(resolve));
  });
  beforeEach(() => {
    routeCalls = 0;
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
    extra: { bodyDelayMs?: number; chunked?: boolean; to?: string } = {},
  ) =>
    rawRequest(extra.to ?? url, {
      method: 'POST',
      path,
      headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers },
      body,
      bodyDelayMs: extra.bodyDelayMs,
      chunked: extra.chunked,
    });

  const expectRefusedHere = (answer: RawAnswer, sku: string): void => {
    expect(answer.status).toBe(409);
    expect(JSON.parse(answer.body)).toEqual(soldOutProblem(sku));
    // the parts before it ran: the observer's header, helmet's
    expect(answer.headers['content-type']).toBe('application/problem+json; charset=utf-8');
    expect(answer.headers['x-instance-id']).toBe('refusal-1');
    expect(answer.headers['content-security-policy']).toBe("default-src 'none';frame-ancestors 'none'");
    expect(routeCalls).toBe(0);
  };

  it.each<[string, () => Promise<RawAnswer>, string]>([
    ['names a marked SKU', () => post(JSON.stringify({ sku: MARKED, quantity: 2, userId: 'u1' })), MARKED],
    ['has no body and the default SKU is marked', () => post(undefined), DEFAULT_SKU],
    [
      'has a chunked body',
      () => post(JSON.stringify({ sku: MARKED }), {}, undefined, { chunked: true }),
      MARKED,
    ],
    [
      'has a charset in its Content-Type',
      () => post(JSON.stringify({ sku: MARKED }), { 'content-type': 'application/json; charset=utf-8' }),
      MARKED,
    ],
    ['has a query', () => post(JSON.stringify({ sku: MARKED }), {}, '/purchase/safe?x=1'), MARKED],
  ])(
    'when a purchase %s, then it is refused before the routes, with the problem document and headers',
    async (_case, send, sku) => {
      expectRefusedHere(await send(), sku);
    },
  );

  it('when the instance is draining, then the refusal asks a keep-alive client to reconnect, as every answer does', async () => {
    const keepAlive = { connection: 'keep-alive' };
    const before = await post(JSON.stringify({ sku: MARKED }), keepAlive);
    expectRefusedHere(before, MARKED);
    expect(before.headers.connection).toBe('keep-alive');
    draining = true;
    const answer = await post(JSON.stringify({ sku: MARKED }), keepAlive);
    expectRefusedHere(answer, MARKED);
    expect(answer.headers.connection).toBe('close');
  });

  it.each<[string, () => Promise<RawAnswer>]>([
    ['names a SKU with no mark', () => post(JSON.stringify({ sku: 'in-stock', quantity: 1 }))],
    ['carries an Idempotency-Key', () => post(JSON.stringify({ sku: MARKED }), { 'idempotency-key': 'k1' })],
    ['has a quantity that is not allowed', () => post(JSON.stringify({ sku: MARKED, quantity: 0 }))],
    ['has an unknown member', () => post(JSON.stringify({ sku: MARKED, price: 0 }))],
    ['is on the unsafe endpoint', () => post(JSON.stringify({ sku: MARKED }), {}, '/purchase/unsafe')],
  ])(
    'when a purchase %s, then the routes answer it, with the body the pipeline read',
    async (_case, send) => {
      const answer = await send();
      expect(answer.status).toBe(299);
      expect(JSON.parse(answer.body)).toMatchObject({ routes: true });
      expect(routeCalls).toBe(1);
    },
  );

  it('when every mark has expired, though nobody asked about those SKUs since, then the routes answer', async () => {
    clockAhead = MARK_TTL_MS;
    const answer = await post(JSON.stringify({ sku: MARKED }));
    expect(answer.status).toBe(299);
    expect(JSON.parse(answer.body)).toEqual({ routes: true, body: { sku: MARKED } });
  });

  it('when a body is not JSON, then the pipeline answers 400 and neither the marks nor the routes see it', async () => {
    const answer = await post('{"sku": "gone"');
    expect(answer.status).toBe(400);
    expect(JSON.parse(answer.body)).toMatchObject({ code: 'invalid_request' });
    expect(answer.headers['x-instance-id']).toBe('refusal-1');
    expect(routeCalls).toBe(0);
  });

  it('when a body arrives late, then the request is timed from its start, whoever answers', async () => {
    const DELAY_MS = 200;
    const seconds = async (status: string): Promise<number> =>
      series(
        await metrics.registry.metrics(),
        'flashsale_http_request_duration_seconds_sum',
        `status="${status}"`,
      );
    const before = { routes: await seconds('299'), here: await seconds('409') };
    const late = { bodyDelayMs: DELAY_MS };
    expect((await post(JSON.stringify({ sku: 'in-stock' }), {}, undefined, late)).status).toBe(299);
    routeCalls = 0;
    expectRefusedHere(await post(JSON.stringify({ sku: MARKED }), {}, undefined, late), MARKED);
    // A lower bound, not a speed. Not the whole wait: the client's timer and the server's clock do not
    // start at the same instant. Half of it is still far above a clock started once the body was in.
    const atLeast = DELAY_MS / 2 / 1000;
    expect((await seconds('299')) - before.routes).toBeGreaterThanOrEqual(atLeast);
    expect((await seconds('409')) - before.here).toBeGreaterThanOrEqual(atLeast);
  });

  it('when refusals are answered here, then they are counted as the route would count them', async () => {
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

  it('when writing the refusal fails, then the error handler answers 500, the fault is logged and the process goes on', async () => {
    const errors = jest.spyOn(logger, 'error');
    const answer = await post(JSON.stringify({ sku: MARKED }), {}, undefined, { to: faulty.url });
    expect(answer.status).toBe(500);
    expect(JSON.parse(answer.body)).toMatchObject({ code: 'internal_error' });
    expect(errors).toHaveBeenCalledTimes(1);
    errors.mockRestore();
    expect(routeCalls).toBe(0);
    expectRefusedHere(await post(JSON.stringify({ sku: MARKED })), MARKED);
  });
});

/**
 * On a running service: the refusal from the mark is the answer the script gives, byte for byte but for
 * the Date. Which answers Express handled is read from Node's own channel of finished responses: Express
 * gives every response it handles its own prototype.
 */
describe('the sold-out refusal, on a running service', () => {
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

  it('when a SKU is sold out, then the refusal from the mark has the status, headers and body the script gives', async () => {
    const sku = uniqueSku('mark');
    await request(svc.url).post(`/stock/reset?sku=${sku}&amount=1`).set(auth).expect(200);
    await request(svc.url).post('/purchase/safe').send({ sku }).expect(200);
    await request(svc.url).post('/purchase/safe').send({ sku }).expect(409);
    expect(svc.service.soldOut?.marks.isSoldOut(sku)).toBe(true);

    const body = JSON.stringify({ sku });
    const headers = { 'content-type': 'application/json' };
    throughExpress.length = 0;
    const fromMark = await rawRequest(svc.url, { method: 'POST', path: '/purchase/safe', headers, body });
    const fromScript = await rawRequest(svc.url, {
      method: 'POST',
      path: '/purchase/safe',
      headers: { ...headers, 'idempotency-key': 'late-buyer' },
      body,
    });

    expect(throughExpress).toEqual([false, true]);
    expect(fromMark.status).toBe(409);
    expect(JSON.parse(fromMark.body)).toMatchObject({ code: 'sold_out', remaining: 0 });
    expect(fromScript.status).toBe(fromMark.status);
    expect(fromScript.body).toBe(fromMark.body);
    expect(linesOf(fromScript)).toEqual(linesOf(fromMark));
  });
});
