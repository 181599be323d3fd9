import { createHash } from 'node:crypto';
import { Writable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { startRedis } from '../../attack/local/redis-server';
import type { LocalRedis } from '../../attack/local/redis-server';
import { createLogger } from '../../app/observability/logger';
import { Metrics } from '../../app/observability/metrics';
import { skuKeys } from '../../app/redis/keys';
import { readScripts } from '../../app/redis/scripts';
import { start } from '../../app/server';
import type { RunningService } from '../../app/server';
import { auth, redisClient, testConfig, uniqueSku } from '../support/fixtures';
import { send } from '../support/http-client';
import { eventually } from '../support/pipeline';

/**
 * Redis restarted without its data (nothing persisted): the service must notice, not go on saying all is
 * well, and must not re-create stock by itself (it would sell units a second time).
 */
describe('a Redis that lost its data', () => {
  let redis: LocalRedis;
  let service: RunningService;
  let url: string;
  let defaultSku: string;
  const lines: Record<string, unknown>[] = [];
  const metrics = new Metrics(false);

  beforeAll(async () => {
    redis = await startRedis();
    const config = testConfig({ REDIS_URL: redis.url, LOG_LEVEL: 'info' });
    defaultSku = config.defaultSku;
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        for (const line of chunk.toString().split('\n').filter(Boolean)) {
          lines.push(JSON.parse(line) as Record<string, unknown>);
        }
        done();
      },
    });
    service = await start(config, { logger: createLogger('info', config.instanceId, sink), metrics });
    await service.ready;
    url = `http://127.0.0.1:${service.port}`;
  });
  afterAll(async () => {
    await service.stop();
    await redis.stop();
  });

  it('when Redis comes back empty, then /health says so, the scripts are loaded again, it is logged at error level and counted, and no stock is re-created', async () => {
    const sku = uniqueSku('lost');
    await send(url, {
      method: 'PUT',
      path: `/products/${sku}`,
      body: { name: 'Lost', price: 1, stock: 5 },
      headers: auth,
    });
    expect((await send(url, { path: '/purchase/safe', body: { sku } })).status).toBe(200);
    expect((await send(url, { method: 'GET', path: '/health' })).body).toEqual({ status: 'ok' });

    const port = redis.port;
    await redis.stop();
    redis = await startRedis({ port });
    await eventually(
      async () => (await send(url, { method: 'GET', path: '/health' })).body.status === 'redis_data_lost',
      20_000,
      '/health to report the loss',
    );
    const health = await send(url, { method: 'GET', path: '/health' });
    expect(health).toMatchObject({ status: 200, body: { status: 'redis_data_lost' } });
    expect(String(health.body.detail)).toContain('restock from the system of record');

    const check = redisClient(redis.url);
    try {
      // in the new Redis's script cache already: the service loaded them when it noticed
      const shas = readScripts().map((script) => createHash('sha1').update(script.lua).digest('hex'));
      expect(await check.script('EXISTS', ...shas)).toEqual(shas.map(() => 1));
      // nothing re-created: not the SKU, not the default SKU the service seeds at its first start
      expect((await send(url, { path: '/purchase/safe', body: { sku } })).body).toMatchObject({
        code: 'unknown_sku',
      });
      expect(await check.exists(skuKeys(sku).stock, skuKeys(defaultSku).stock)).toBe(0);
      expect(await check.dbsize()).toBe(0);
    } finally {
      check.disconnect();
    }
    expect(await metrics.registry.metrics()).toMatch(/^flashsale_redis_data_loss_total 1$/m);
    service.logger.flush();
    await sleep(50);
    expect(lines.filter((line) => line.level === 50).map((line) => line.msg)).toEqual([
      expect.stringContaining('Redis has lost its data') as unknown,
    ]);

    // the operator restocks: /health is ok again
    await send(url, {
      method: 'PUT',
      path: `/products/${sku}`,
      body: { name: 'Lost', price: 1, stock: 5 },
      headers: auth,
    });
    await eventually(
      async () => (await send(url, { method: 'GET', path: '/health' })).body.status === 'ok',
      20_000,
      '/health ok once restocked',
    );
  });
});
