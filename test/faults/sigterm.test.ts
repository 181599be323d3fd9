import { openPurchase } from '../support/raw-http';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { startRedis } from '../../attack/local/redis-server';
import type { LocalRedis } from '../../attack/local/redis-server';
import { spawnApp } from '../support/app-process';
import type { AppProcess } from '../support/app-process';
import { startBuyers, waitUntil } from '../support/buyers';
import { TEST_ADMIN_TOKEN, auth, uniqueSku } from '../support/fixtures';
import { recordFigures } from '../support/figures';
import { send } from '../support/http-client';
import { expectConserved, expectLogMatchesAnswers, readSkuState } from '../support/invariants';

/** A load balancer's view of the fleet: it sends only to instances whose /health answered 200. */
function healthChecker(apps: readonly AppProcess[], everyMs: number) {
  const healthy = new Set(apps.map((app) => app.url));
  const stop = new AbortController();
  const polling = (async () => {
    while (!stop.signal.aborted) {
      await Promise.all(
        apps.map(async (app) => {
          const status = await fetch(`${app.url}/health`, { signal: AbortSignal.timeout(1_000) }).then(
            (res) => res.status,
            () => 0,
          );
          if (status === 200) healthy.add(app.url);
          else healthy.delete(app.url);
        }),
      );
      await sleep(everyMs);
    }
  })();
  return {
    urls: () => [...healthy],
    stop: async () => {
      stop.abort();
      await polling;
    },
  };
}

/** A purchase whose body arrives in two halves, `pauseMs` apart: in flight for that long. */
function slowPurchase(
  url: string,
  body: unknown,
  key: string,
  pauseMs: number,
): Promise<{ status: number; body: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const { req, payload } = openPurchase(url, body, key);
    req.on('error', reject);
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        resolve({
          status: res.statusCode ?? 0,
          body: JSON.parse(Buffer.concat(chunks).toString()) as Record<string, unknown>,
        });
      });
    });
    req.write(payload.slice(0, payload.length >> 1));
    setTimeout(() => req.end(payload.slice(payload.length >> 1)), pauseMs);
  });
}

describe('SIGTERM during load (an instance scaled in)', () => {
  const DRAIN_MS = 1_500;
  let redis: LocalRedis;
  let apps: AppProcess[] = [];

  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(async () => {
    await Promise.all(apps.map((app) => app.stop('SIGKILL')));
    await redis.stop();
  });

  it('when one instance gets SIGTERM, then its /health turns 503 first, its in-flight requests finish, it exits 0, and no request fails anywhere', async () => {
    const sku = uniqueSku('sigterm');
    const env = {
      REDIS_URL: redis.url,
      ADMIN_TOKEN: TEST_ADMIN_TOKEN,
      DEFAULT_SKU: sku,
      SHUTDOWN_DRAIN_MS: String(DRAIN_MS),
    };
    apps = await Promise.all([spawnApp(env), spawnApp(env)]);
    const [leaving, staying] = apps as [AppProcess, AppProcess];
    const created = await send(staying.url, {
      method: 'PUT',
      path: `/products/${sku}`,
      body: { name: 'Scale-in', price: 1, stock: 100_000 },
      headers: auth,
    });
    expect(created.status).toBe(200);

    const balancer = healthChecker(apps, 100);
    const buyers = startBuyers({ urls: balancer.urls, sku, buyers: 6, giveUpAt: Date.now() + 45_000 });
    await waitUntil(() => buyers.successes() >= 100, 20_000, '100 purchases before SIGTERM');
    const servedByLeavingBefore = buyers.answers.filter((answer) => answer.url === leaving.url).length;

    const exited = leaving.stop('SIGTERM');
    const termAt = Date.now();
    // while draining, the instance says it is leaving but still serves what reaches it
    let healthTurnedAt = 0;
    await waitUntil(
      () => {
        void fetch(`${leaving.url}/health`).then(
          (res) => {
            if (res.status === 503 && healthTurnedAt === 0) healthTurnedAt = Date.now();
          },
          () => undefined,
        );
        return healthTurnedAt > 0;
      },
      DRAIN_MS,
      '/health to answer 503',
    );
    const servedWhileDraining = await send(leaving.url, { path: '/purchase/safe', body: { sku } });
    // a request still in flight when the listener closes (its body arrives after the drain)
    const inFlight = slowPurchase(leaving.url, { sku }, `in-flight-${sku}`, DRAIN_MS);
    const exitCode = await exited;
    const exitedAt = Date.now();
    const inFlightAnswer = await inFlight;
    await sleep(300);
    await buyers.stop();
    await balancer.stop();

    const check = new Redis(redis.url, { maxRetriesPerRequest: 1 });
    const state = await readSkuState(check, sku).finally(() => {
      check.disconnect();
    });
    const failed = buyers.answers.filter((answer) => answer.status !== 200);
    recordFigures('sigterm', {
      drainMs: DRAIN_MS,
      msFromSigtermTo503Health: healthTurnedAt - termAt,
      msFromSigtermToExit: exitedAt - termAt,
      exitCode,
      answersServedByLeavingInstance: buyers.answers.filter((answer) => answer.url === leaving.url).length,
      answersServedByStayingInstance: buyers.answers.filter((answer) => answer.url === staying.url).length,
      failedAnswers: failed.length,
      inFlightRequestStatus: inFlightAnswer.status,
    });

    expect(servedByLeavingBefore).toBeGreaterThan(0);
    expect(healthTurnedAt).toBeGreaterThan(0);
    expect(servedWhileDraining.status).toBe(200);
    expect(servedWhileDraining.headers?.get('connection')).toBe('close');
    expect(inFlightAnswer.status).toBe(200);
    expect(exitCode).toBe(0);
    expect(failed).toEqual([]);
    expect(
      buyers.answers.filter((answer) => answer.url === staying.url && answer.at > exitedAt).length,
    ).toBeGreaterThan(0);
    const drainLog = leaving.logs.findIndex((line) => String(line.msg).startsWith('draining'));
    const stoppedLog = leaving.logs.findIndex((line) => line.msg === 'stopped');
    expect(drainLog).toBeGreaterThanOrEqual(0);
    expect(stoppedLog).toBeGreaterThan(drainLog);

    expectConserved(state);
    expectLogMatchesAnswers(sku, state, [
      ...[...buyers.purchases.values()].filter((id) => id !== undefined),
      String(servedWhileDraining.body.orderId),
      String(inFlightAnswer.body.orderId),
    ]);
  }, 90_000);
});
