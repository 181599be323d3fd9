import { Writable } from 'node:stream';
import express from 'express';
import request from 'supertest';
import { FAIL_OPEN_MS, rateLimit } from '../app/http/middleware/rate-limit';
import type { AttemptLimit } from '../app/http/middleware/rate-limit';
import { createLogger } from '../app/observability/logger';
import { Metrics } from '../app/observability/metrics';

/**
 * The limiter's behaviour when its store fails, on the middleware alone: the limits stand behind a port,
 * here one whose answers the test decides, and the clock is the test's, so nothing waits.
 */
describe('when a rate limit cannot be counted', () => {
  let clock = 0;
  let broken = true;
  let asked = 0;
  const lines: { msg: string }[] = [];
  const metrics = new Metrics(false);

  const limit: AttemptLimit = {
    scope: 'user',
    points: 5,
    windowSeconds: 60,
    take: () => {
      asked += 1;
      return broken
        ? Promise.reject(new Error('Connection is closed.'))
        : Promise.resolve({ allowed: true, remaining: 4, resetMs: 60_000 });
    },
  };
  const logger = createLogger(
    'info',
    'test',
    new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(JSON.parse(chunk.toString()) as { msg: string });
        done();
      },
    }),
  );
  const app = express();
  app.use(express.json());
  app.post(
    '/purchase/safe',
    rateLimit(
      [limit],
      (req) => req.body as { userId?: string },
      metrics,
      logger,
      () => clock,
    ),
    (_req, res) => {
      res.json({ success: true });
    },
  );

  const buy = () => request(app).post('/purchase/safe').send({ userId: 'ann' });
  const failures = async (): Promise<number> =>
    (await metrics.registry.getSingleMetric('flashsale_rate_limiter_failures_total')?.get())?.values[0]
      ?.value ?? 0;

  it('then the attempt is admitted, the limits are left alone for FAIL_OPEN_MS, then asked again; one log line each way', async () => {
    await buy().expect(200);
    expect(asked).toBe(1);

    clock = FAIL_OPEN_MS - 1;
    await buy().expect(200);
    await buy().expect(200);
    expect(asked).toBe(1);
    expect(await failures()).toBe(3);

    clock = FAIL_OPEN_MS;
    await buy().expect(200);
    expect(asked).toBe(2);
    expect(await failures()).toBe(4);

    broken = false;
    clock = 3 * FAIL_OPEN_MS;
    const answer = await buy().expect(200);
    expect(asked).toBe(3);
    expect(answer.headers.ratelimit).toBe('"user";r=4;t=60');
    expect(await failures()).toBe(4);
    expect(lines.map((line) => line.msg)).toEqual([
      'rate limiter unavailable: purchases are admitted unlimited',
      'rate limiter reachable again',
    ]);
  });
});
