import { UsageError } from '../cli-options';
import { isFairnessRun, parseFairnessArgs } from '../fairness/fairness-options';
import type { FairnessOptions } from '../fairness/fairness-options';
import { fairnessTable } from '../fairness/fairness-report';
import { runRound } from '../fairness/fairness-round';
import { TEST_ADMIN_TOKEN, startTestService, uniqueSku } from '../../test/support/fixtures';
import type { TestService } from '../../test/support/fixtures';

function parsed(command: 'attack' | 'demo', argv: string[]): FairnessOptions {
  const options = parseFairnessArgs(command, argv);
  if (options.help) throw new Error('unexpected --help');
  return options;
}

describe('the fairness mode of attack and demo', () => {
  it('when --bots or --buyers is on the line, then the command runs a fairness round instead of an attack', () => {
    expect(isFairnessRun(['--bots', '5'])).toBe(true);
    expect(isFairnessRun(['--buyers=40'])).toBe(true);
    expect(isFairnessRun(['--requests', '5', '--users', '3'])).toBe(false);
  });

  it('when the demo gets only --bots and --buyers, then the fleet runs limits off then on, with the documented defaults', () => {
    expect(parsed('demo', ['--bots', '10', '--buyers', '40'])).toMatchObject({
      bots: 10,
      buyers: 40,
      stock: 100,
      tries: 3,
      warmup: 500,
      thinkMs: { min: 500, max: 3000 },
      limits: 'both',
      limitPerUser: 1,
      limitPerIp: 10,
      limitWindowMs: 60_000,
      jsonFile: 'reports/fairness.json',
      instances: 2,
    });
  });

  it.each([
    ['attack', ['--bots', '5'], /--target URL is required/],
    ['attack', ['--bots', '5', '--target', 'ftp://x'], /--target must be an http/],
    ['demo', ['--bots', '5', '--think-min-ms', '900', '--think-max-ms', '100'], /--think-min-ms/],
    ['demo', ['--bots', '5', '--limit-window-ms', '1500'], /whole number of seconds/],
    ['demo', ['--bots', '5', '--target', 'http://x'], /unknown option --target/],
  ] as const)('when %s gets %j, then it is a usage error', (command, argv, message) => {
    expect(() => parseFairnessArgs(command, argv)).toThrow(UsageError);
    expect(() => parseFairnessArgs(command, argv)).toThrow(message);
  });

  describe('against one instance limiting each buyer to one attempt a minute', () => {
    let svc: TestService;
    beforeAll(async () => {
      svc = await startTestService({ RATE_LIMIT_PER_USER: '1', RATE_LIMIT_WINDOW_MS: '60000' });
    });
    afterAll(async () => {
      await svc.stop();
    });

    it('when 3 bots loop and 5 buyers click, then each bot gets at most one unit and every buyer gets one', async () => {
      const result = await runRound({
        target: svc.url,
        sku: uniqueSku('fair'),
        stock: 8,
        bots: 3,
        buyers: 5,
        tries: 2,
        warmup: 20,
        thinkMs: { min: 100, max: 200 },
        adminToken: TEST_ADMIN_TOKEN,
      });

      expect(result.bots.units).toBeLessThanOrEqual(3);
      expect(result.buyers).toMatchObject({ clients: 5, units: 5, served: 5 });
      expect(result.fairShare).toBeCloseTo(5 / 8);
      expect(result.buyersShare).toBeGreaterThanOrEqual(result.fairShare);
      expect(result.bots.statuses['429']).toBeGreaterThan(0);
      expect(fairnessTable([{ label: 'limits on', limited: true, result }])).toMatch(
        /^limits on .* 5 \/ 5 /m,
      );
    });
  });
});
