import { once } from 'node:events';
import { request as httpRequest } from 'node:http';
import { spawnApp } from './support/app-process';
import { TEST_ADMIN_TOKEN, testRedisUrl } from './support/fixtures';

/** SIGTERM: /health turns 503 first, in-flight requests finish, Redis closes, the process exits 0. */
describe('graceful shutdown', () => {
  it('when the process gets SIGTERM, then /health answers 503 while draining, an in-flight purchase still completes, and it exits 0', async () => {
    const app = await spawnApp({
      REDIS_URL: testRedisUrl(),
      ADMIN_TOKEN: TEST_ADMIN_TOKEN,
      SHUTDOWN_DRAIN_MS: '1500',
      // keeps an unsafe purchase in flight long enough to overlap the shutdown
      UNSAFE_DELAY_MS: '1000',
    });
    const inFlight = new Promise<number>((resolve, reject) => {
      const req = httpRequest(`${app.url}/purchase/unsafe`, { method: 'POST' }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      req.end();
    });
    // the purchase has reached the server (the default SKU exists) before the signal
    await new Promise((resolve) => setTimeout(resolve, 200));
    app.child.kill('SIGTERM');
    await new Promise((resolve) => setTimeout(resolve, 300));
    const health = await fetch(`${app.url}/health`);
    expect(health.status).toBe(503);
    expect(await health.json()).toEqual({ status: 'draining' });

    expect(await inFlight).toBe(200);
    const [code] = (await once(app.child, 'exit')) as [number | null];
    expect(code).toBe(0);
    expect(app.logs.map((line) => line.msg)).toEqual(
      expect.arrayContaining(['draining: /health now answers 503', 'stopped']),
    );
  });
});
