import request from 'supertest';
import { OPERATOR_ONLY_PATHS } from '../infra-cdk/lib/load-balancer';
import { startTestService } from './support/fixtures';
import type { TestService } from './support/fixtures';

/**
 * The load balancer refuses /metrics with a case-sensitive path rule (infra-cdk/lib/load-balancer.ts); the
 * service serves the metrics only on that exact spelling, so no other spelling gets round the rule.
 */
describe('when /metrics is asked for under another spelling', () => {
  let svc: TestService;
  beforeAll(async () => {
    svc = await startTestService();
  });
  afterAll(async () => {
    await svc.stop();
  });

  it('then only the exact path the load balancer refuses serves the metrics', async () => {
    expect(OPERATOR_ONLY_PATHS).toContain('/metrics');
    const exact = await request(svc.url).get('/metrics').expect(200);
    expect(exact.text).toContain('flashsale_');
  });

  it.each(['/METRICS', '/Metrics', '/metrics/', '/%6detrics'])(
    'then %s is a 404 and carries no metric',
    async (path) => {
      const res = await request(svc.url).get(path);
      expect(res.status).toBe(404);
      expect(res.text).not.toContain('flashsale_');
    },
  );

  it('then /health, which the load balancer checks on its own exact path, still answers', async () => {
    await request(svc.url).get('/health').expect(200);
  });
});
