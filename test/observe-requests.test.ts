import { channel } from 'node:diagnostics_channel';
import request from 'supertest';
import { start } from '../app/server';
import { createLogger } from '../app/observability/logger';
import { Metrics } from '../app/observability/metrics';
import { startTestService, testConfig, uniqueSku } from './support/fixtures';
import type { TestService } from './support/fixtures';

/** The latency histogram is fed from Node's diagnostics channel: one subscriber per app, not per request. */
describe('request observation', () => {
  let first: TestService;
  let second: TestService;

  beforeAll(async () => {
    [first, second] = await Promise.all([startTestService(), startTestService()]);
  });
  afterAll(async () => {
    await Promise.all([first.stop(), second.stop()]);
  });

  const count = (metrics: string, route: string, status: number): number => {
    const line = metrics
      .split('\n')
      .find(
        (l) =>
          l.startsWith('flashsale_http_request_duration_seconds_count{') &&
          l.includes(`route="${route}"`) &&
          l.includes(`status="${status}"`),
      );
    return line === undefined ? 0 : Number(line.split(' ').pop());
  };

  it('when two apps share a process, then each counts its own responses by route and status, once', async () => {
    await request(first.url).post('/purchase/safe').send({ sku: uniqueSku() }).expect(404);
    await request(first.url).get('/health/live').expect(200);
    await request(first.url).get('/health/live').expect(200);
    await request(second.url).get('/health/live').expect(200);
    await request(second.url).get('/nowhere').expect(404);

    const firstMetrics = (await request(first.url).get('/metrics').expect(200)).text;
    expect(count(firstMetrics, '/purchase/safe', 404)).toBe(1);
    expect(count(firstMetrics, '/health/live', 200)).toBe(2);
    expect(count(firstMetrics, 'unmatched', 404)).toBe(0);

    const secondMetrics = (await request(second.url).get('/metrics').expect(200)).text;
    expect(count(secondMetrics, '/purchase/safe', 404)).toBe(0);
    expect(count(secondMetrics, '/health/live', 200)).toBe(1);
    expect(count(secondMetrics, 'unmatched', 404)).toBe(1);
  });
});

describe('request observation after a stop', () => {
  it('when a service stops, then it no longer subscribes to finished responses', async () => {
    const finished = channel('http.server.response.finish');
    const config = testConfig();
    const metrics = new Metrics(false);
    const svc = await start(config, { logger: createLogger('silent', config.instanceId), metrics });
    await svc.ready;
    expect(finished.hasSubscribers).toBe(true);
    await request(`http://127.0.0.1:${svc.port}`).get('/health/live').expect(200);
    await svc.stop();
    expect(finished.hasSubscribers).toBe(false);
  });
});
