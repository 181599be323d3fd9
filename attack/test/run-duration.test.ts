import { runAttack } from '../run-attack';
import type { RunProgress } from '../run-attack';
import { TEST_ADMIN_TOKEN, startTestService, uniqueSku } from '../../test/support/fixtures';
import type { TestService } from '../../test/support/fixtures';

/**
 * autocannon hands its result over on its next sampling tick (once a second), not when the last answer
 * arrives: a run's duration (and requests/s, and the sales-over-time chart) must come from the answers.
 */
describe('the duration of a run', () => {
  let svc: TestService;
  beforeAll(async () => {
    svc = await startTestService();
  });
  afterAll(async () => {
    await svc.stop();
  });

  it('when every answer is a sale, then the run ends with the last one: the last bucket of the timeline holds a sale', async () => {
    const progress: RunProgress[] = [];
    const run = await runAttack(
      {
        target: svc.url,
        mode: 'safe',
        sku: uniqueSku('duration'),
        stock: 1000,
        requests: 60,
        connections: 4,
        users: 0,
        adminToken: TEST_ADMIN_TOKEN,
        timeoutSeconds: 10,
      },
      { onProgress: (line) => progress.push(line) },
    );
    expect(run.sold).toBe(60);
    expect(run.timeline.sold.reduce((a, b) => a + b, 0)).toBe(60);
    // a duration running on to autocannon's tick leaves empty buckets after the last sale
    expect(run.timeline.sold.at(-1)).toBeGreaterThan(0);
    expect(run.requestsPerSecond).toBe(Math.round((60 / run.durationMs) * 1000));
    // the progress line's last word agrees with the table
    expect(progress.at(-1)).toMatchObject({ answered: 60, elapsedMs: run.durationMs });
  });
});
