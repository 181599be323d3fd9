import { request as httpRequest } from 'node:http';
import { gzipSync } from 'node:zlib';
import { setTimeout as sleep } from 'node:timers/promises';
import request from 'supertest';
import type { Redis } from 'ioredis';
import { auth, redisClient, startTestService, uniqueSku } from './support/fixtures';
import type { TestService } from './support/fixtures';
import { readSkuState } from './support/invariants';
import { rawRequest } from './support/raw-http';
import type { RawAnswer } from './support/raw-http';

/**
 * The JSON body reader has a fast path for the shape every client sends (exactly `application/json`,
 * a Content-Length, no compression) and hands every other body to express.json(). Whichever path a body
 * takes, the answer must be the same.
 */
describe('JSON request bodies', () => {
  let svc: TestService;
  let redis: Redis;

  beforeAll(async () => {
    svc = await startTestService();
    redis = redisClient();
  });
  afterAll(async () => {
    await redis.quit();
    await svc.stop();
  });

  const product = async (units = 100): Promise<string> => {
    const sku = uniqueSku('body');
    await request(svc.url)
      .put(`/products/${sku}`)
      .set(auth)
      .send({ name: 'Body', price: 1, stock: units })
      .expect(201);
    return sku;
  };

  const purchase = (headers: Record<string, string>, body: string | Buffer) =>
    rawRequest(svc.url, { method: 'POST', path: '/purchase/safe', headers, body });

  /**
   * A purchase whose body is written in two pieces, `pauseMs` apart, so that the service reads it in two.
   * Without a Content-Length in `headers`, Node's client sends it in chunked transfer encoding.
   */
  const purchaseInPieces = (headers: Record<string, string>, body: string, splitAt: number, pauseMs = 0) =>
    new Promise<RawAnswer>((resolve, reject) => {
      const req = httpRequest(new URL('/purchase/safe', svc.url), { method: 'POST', agent: false, headers });
      req.on('error', reject);
      req.on('response', (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => {
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            rawHeaders: res.rawHeaders,
            body: text,
          });
        });
      });
      req.flushHeaders();
      req.write(body.slice(0, splitAt));
      void sleep(pauseMs).then(() => req.end(body.slice(splitAt)));
    });

  /** a body sent without Content-Length, in chunked transfer encoding */
  const chunkedPurchase = (contentType: string, body: string) =>
    purchaseInPieces({ 'content-type': contentType }, body, 5);

  describe('a valid purchase body is read the same on every path', () => {
    const shapes: [name: string, send: (body: string) => Promise<RawAnswer>][] = [
      [
        'exactly application/json (the fast path)',
        (b) => purchase({ 'content-type': 'application/json' }, b),
      ],
      ['with a UTF-8 byte order mark', (b) => purchase({ 'content-type': 'application/json' }, `\ufeff${b}`)],
      ['with JSON whitespace first', (b) => purchase({ 'content-type': 'application/json' }, ` \n\t${b}`)],
      ['with a charset parameter', (b) => purchase({ 'content-type': 'application/json; charset=utf-8' }, b)],
      ['in other casing', (b) => purchase({ 'content-type': 'Application/JSON' }, b)],
      [
        'gzip-compressed',
        (b) => purchase({ 'content-type': 'application/json', 'content-encoding': 'gzip' }, gzipSync(b)),
      ],
      ['chunked, with no Content-Length', (b) => chunkedPurchase('application/json', b)],
    ];
    it.each(shapes)('when the body is sent %s, then 200 and the units are sold', async (_name, send) => {
      const sku = await product();
      const res = await send(JSON.stringify({ sku, quantity: 2, userId: 'ann' }));
      expect(res.status).toBe(200);
      expect(JSON.parse(res.body)).toMatchObject({ success: true, sku, quantity: 2, remaining: 98 });
      const state = await readSkuState(redis, sku);
      expect(state.unitsInLog).toBe(2);
      expect(state.buyers).toEqual({ ann: 2 });
    });
  });

  describe('a bad body gets the same 4xx on every path, and sells nothing', () => {
    const fast = { 'content-type': 'application/json' };
    const library = { 'content-type': 'application/json; charset=utf-8' };
    const cases: [name: string, status: number, send: (sku: string) => Promise<RawAnswer>][] = [
      ['malformed, fast path', 400, (sku) => purchase(fast, `{"sku":"${sku}",`)],
      ['malformed, library path', 400, (sku) => purchase(library, `{"sku":"${sku}",`)],
      ['malformed, chunked', 400, (sku) => chunkedPurchase('application/json', `{"sku":"${sku}"`)],
      ['a bare number, fast path', 400, () => purchase(fast, '5')],
      ['a bare number, library path', 400, () => purchase(library, '5')],
      ['true after whitespace, fast path', 400, () => purchase(fast, '  true')],
      ['an object then garbage, fast path', 400, (sku) => purchase(fast, `{"sku":"${sku}"} x`)],
      ['an empty object then another, fast path', 400, (sku) => purchase(fast, `{}{"sku":"${sku}"}`)],
      ['whitespace only, fast path', 400, () => purchase(fast, '   ')],
      ['over the limit, with a Content-Length', 413, (sku) => purchase(fast, oversize(sku))],
      ['over the limit, chunked', 413, (sku) => chunkedPurchase('application/json', oversize(sku))],
      [
        'in Latin-1',
        415,
        (sku) => purchase({ 'content-type': 'application/json; charset=latin1' }, `{"sku":"${sku}"}`),
      ],
      ['declared text', 415, (sku) => purchase({ 'content-type': 'text/plain' }, `{"sku":"${sku}"}`)],
      ['with no Content-Type', 415, (sku) => purchase({}, `{"sku":"${sku}"}`)],
    ];
    it.each(cases)('when the body is %s, then %i and nothing changes', async (_name, status, send) => {
      const sku = await product();
      const before = await readSkuState(redis, sku);
      const res = await send(sku);
      expect(res.status).toBe(status);
      expect(res.headers['content-type']).toContain('application/problem+json');
      expect(await readSkuState(redis, sku)).toEqual(before);
    });
  });

  it('when the body arrives in pieces, split inside a value, then it is read whole', async () => {
    const sku = await product();
    const body = JSON.stringify({ sku, quantity: 3 });
    const answer = await purchaseInPieces(
      { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) },
      body,
      9,
      50,
    );
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.body)).toMatchObject({ sku, quantity: 3, remaining: 97 });
  });

  it('when a client hangs up half-way through its body, then nothing is sold and the service goes on', async () => {
    const sku = await product();
    const body = JSON.stringify({ sku, quantity: 1 });
    const req = httpRequest(new URL('/purchase/safe', svc.url), {
      method: 'POST',
      agent: false,
      headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
    });
    req.on('error', () => undefined);
    req.flushHeaders();
    req.write(body.slice(0, 10));
    await sleep(50);
    req.destroy();
    await sleep(50);
    expect((await readSkuState(redis, sku)).unitsInLog).toBe(0);
    const res = await purchase({ 'content-type': 'application/json' }, body);
    expect(res.status).toBe(200);
  });

  it('when a JSON body is empty, then the request is a body-less purchase of the default SKU', async () => {
    await request(svc.url).post('/stock/reset?amount=10').set(auth).expect(200);
    const res = await purchase({ 'content-type': 'application/json' }, '');
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body)).toMatchObject({ sku: svc.config.defaultSku, remaining: 9 });
  });
});

/** a purchase body just over the 4 KiB limit */
function oversize(sku: string): string {
  return JSON.stringify({ sku, userId: 'x', pad: 'y'.repeat(4100) });
}
