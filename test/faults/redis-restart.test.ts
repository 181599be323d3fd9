import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { startRedis } from '../../attack/local/redis-server';
import type { LocalRedis } from '../../attack/local/redis-server';
import { startBuyers, waitUntil } from '../support/buyers';
import { auth, startTestService, uniqueSku } from '../support/fixtures';
import type { TestService } from '../support/fixtures';
import { percentile, recordFigures, round } from '../support/figures';
import { send } from '../support/http-client';
import { expectConserved, expectLogMatchesAnswers, readSkuState } from '../support/invariants';

/**
 * Redis is killed mid-storm and started again two seconds later on the same port with its data
 * (append-only file, fsync on every write: what an operator restarts is the same dataset). The service
 * is not restarted.
 *
 * "Nothing hangs" is asserted as: every request gets an HTTP answer before the client's own 5 s timeout
 * (a request without one would count as status 0). How fast the 503s come is reported, not asserted.
 */
describe('Redis stopped and restarted mid-storm', () => {
  const OUTAGE_MS = 2_000;
  const dir = mkdtempSync(join(tmpdir(), 'flash-sale-restart-'));
  const redisArgs = ['--appendonly', 'yes', '--appendfsync', 'always'];
  let redis: LocalRedis | undefined;
  let service: TestService | undefined;

  afterAll(async () => {
    await service?.stop();
    await redis?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('when Redis is gone, then purchases get 503 at once, nothing hangs, and the service recovers by itself without overselling', async () => {
    redis = await startRedis({ dir, args: redisArgs });
    const port = redis.port;
    const sku = uniqueSku('restart');
    service = await startTestService({ REDIS_URL: redis.url, DEFAULT_SKU: sku });
    const url = service.url;
    const created = await send(url, {
      method: 'PUT',
      path: `/products/${sku}`,
      body: { name: 'Restart', price: 1, stock: 100_000 },
      headers: auth,
    });
    expect(created.status).toBe(200);

    const buyers = startBuyers({ urls: () => [url], sku, buyers: 6, giveUpAt: Date.now() + 60_000 });
    await waitUntil(() => buyers.successes() >= 100, 20_000, '100 purchases before the outage');

    redis.process.kill('SIGKILL');
    const downAt = Date.now();
    await sleep(OUTAGE_MS / 2);
    const healthDuringOutage = await send(url, { method: 'GET', path: '/health' });
    const purchaseDuringOutage = await send(url, { path: '/purchase/safe', body: { sku } });
    await sleep(OUTAGE_MS / 2);
    redis = await startRedis({ port, dir, args: redisArgs });
    const upAt = Date.now();
    const successesAtRestart = buyers.successes();
    await waitUntil(() => buyers.successes() >= successesAtRestart + 100, 30_000, '100 purchases after');
    await buyers.stop();
    const healthAfter = await send(url, { method: 'GET', path: '/health' });

    const check = new Redis(redis.url, { maxRetriesPerRequest: 1 });
    const state = await readSkuState(check, sku).finally(() => {
      check.disconnect();
    });

    // answers that began once Redis was dead (a request in flight at the kill may still get its 200)
    const duringOutage = buyers.answers.filter((a) => a.at - a.ms >= downAt + 50 && a.at <= upAt);
    const failed = duringOutage.filter((answer) => answer.status !== 200);
    const firstSuccessAfter = buyers.answers.find((answer) => answer.at > upAt && answer.status === 200);
    const statuses: Record<string, number> = {};
    for (const answer of buyers.answers) statuses[answer.status] = (statuses[answer.status] ?? 0) + 1;
    recordFigures('redis-restart', {
      outageMs: upAt - downAt,
      answersByStatus: statuses,
      answersDuringOutage: duringOutage.length,
      p50MsOf503DuringOutage: round(
        percentile(
          failed.map((answer) => answer.ms),
          50,
        ),
      ),
      p99MsOf503DuringOutage: round(
        percentile(
          failed.map((answer) => answer.ms),
          99,
        ),
      ),
      maxMsOf503DuringOutage: round(Math.max(...failed.map((answer) => answer.ms))),
      msFromRestartToFirst200: firstSuccessAfter ? firstSuccessAfter.at - upAt : null,
      purchasesAnswered200: [...buyers.purchases.values()].filter(Boolean).length,
      ordersInLog: state.orders.length,
    });

    expect(healthDuringOutage.status).toBe(503);
    expect(purchaseDuringOutage).toMatchObject({ status: 503, body: { code: 'store_unavailable' } });
    expect(purchaseDuringOutage.headers?.get('retry-after')).toBe('1');
    expect(duringOutage.length).toBeGreaterThan(0);
    expect(failed.map((answer) => answer.status)).toEqual(duringOutage.map(() => 503));
    // every request was answered, with a 200 or a 503, before the client's own timeout
    expect(buyers.answers.filter((answer) => answer.status !== 200 && answer.status !== 503)).toEqual([]);
    expect(healthAfter.status).toBe(200);

    expectConserved(state);
    // each buyer retried until answered, so the log is exactly the orders answered 200
    expectLogMatchesAnswers(
      sku,
      state,
      [...buyers.purchases.values()].filter((id) => id !== undefined),
    );
    expect(new Set(state.orders.map((order) => order.key)).size).toBe(state.orders.length);
  }, 90_000);
});
