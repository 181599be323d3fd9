import { Writable } from 'node:stream';
import { startRedis } from '../../attack/local/redis-server';
import type { LocalRedis } from '../../attack/local/redis-server';
import { createLogger } from '../../app/observability/logger';
import { Metrics } from '../../app/observability/metrics';
import { start } from '../../app/server';
import type { RunningService } from '../../app/server';
import { auth, redisClient, testConfig, uniqueSku } from '../support/fixtures';
import { send } from '../support/http-client';
import { readSkuState } from '../support/invariants';

/**
 * Redis at its maxmemory with noeviction (the production policy: stock is never evicted) refuses every
 * write. A purchase then is an outage of the store, not a bug: 503 with its own code and a Retry-After,
 * nothing half-written, a metric; and whatever is logged carries no buyer's identity or key.
 */
describe('a full Redis', () => {
  let redis: LocalRedis;
  let service: RunningService;
  let url: string;
  const lines: string[] = [];
  const metrics = new Metrics(false);

  beforeAll(async () => {
    redis = await startRedis();
    const config = testConfig({ REDIS_URL: redis.url, LOG_LEVEL: 'trace' });
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(...chunk.toString().split('\n').filter(Boolean));
        done();
      },
    });
    service = await start(config, { logger: createLogger('trace', config.instanceId, sink), metrics });
    await service.ready;
    url = `http://127.0.0.1:${service.port}`;
  });
  afterAll(async () => {
    await service.stop();
    await redis.stop();
  });

  it('when Redis refuses writes (OOM), then a purchase gets 503 store_out_of_memory, writes nothing, is counted, and no log line carries its userId or key', async () => {
    const sku = uniqueSku('full');
    const put = await send(url, {
      method: 'PUT',
      path: `/products/${sku}`,
      body: { name: 'Full', price: 1, stock: 10, perUserLimit: 5 },
      headers: auth,
    });
    expect(put.status).toBe(201);
    const admin = redisClient(redis.url);
    try {
      const before = await readSkuState(admin, sku);
      await admin.config('SET', 'maxmemory', '1');
      const userId = 'buyer.secret@example.com';
      const answers = [];
      for (let i = 0; i < 5; i += 1) {
        answers.push(
          await send(url, {
            path: '/purchase/safe',
            body: { sku, userId, quantity: 1 },
            headers: { 'idempotency-key': `key-that-must-not-be-logged-${i}` },
          }),
        );
      }
      await admin.config('SET', 'maxmemory', '0');
      for (const answer of answers) {
        expect(answer).toMatchObject({
          status: 503,
          body: { code: 'store_out_of_memory', type: 'urn:flash-sale:problem:store_out_of_memory' },
        });
        expect(answer.headers?.get('retry-after')).toBe('1');
      }
      expect(await readSkuState(admin, sku)).toEqual(before);
      expect(await metrics.registry.metrics()).toMatch(/flashsale_redis_errors_total\{kind="oom"\} 5/);
      // once there is room again, it sells
      const after = await send(url, { path: '/purchase/safe', body: { sku, userId } });
      expect(after.status).toBe(200);
    } finally {
      await admin.config('SET', 'maxmemory', '0');
      admin.disconnect();
    }
    service.logger.flush();
    const logged = lines.join('\n');
    expect(lines.length).toBeGreaterThan(0);
    expect(logged).not.toContain('buyer.secret@example.com');
    expect(logged).not.toContain('key-that-must-not-be-logged');
  });

  it('when an error carrying a command and its arguments is logged, then the line keeps its message and drops the arguments', () => {
    const captured: string[] = [];
    const logger = createLogger(
      'info',
      'redaction-test',
      new Writable({
        write(chunk: Buffer, _encoding, done) {
          captured.push(chunk.toString());
          done();
        },
      }),
    );
    const error = Object.assign(new Error('ERR something'), {
      command: {
        name: 'evalsha',
        args: ['sha', 5, 'k1', 'k2', 'k3', 'k4', 'k5', 1, 'alice@example.com', 'idem-123'],
      },
    });
    logger.error(
      { err: error, userId: 'alice@example.com', req: { headers: { 'idempotency-key': 'idem-123' } } },
      'boom',
    );
    logger.flush();
    const line = captured.join('');
    expect(line).toContain('ERR something');
    expect(line).not.toContain('alice@example.com');
    expect(line).not.toContain('idem-123');
  });
});
