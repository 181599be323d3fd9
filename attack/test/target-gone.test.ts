import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { spawnApp } from '../../test/support/app-process';
import { TEST_ADMIN_TOKEN, testRedisUrl, uniqueSku } from '../../test/support/fixtures';
import type { AttackReport } from '../run-result';
import { runCli } from './cli-process';

/** `npm run attack` whose target dies mid-run: what it measured is printed and written, as after Ctrl-C. */
describe('an attack whose target goes away', () => {
  const dir = mkdtempSync(join(tmpdir(), 'flash-sale-gone-'));
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('when the service is killed during the run, then it prints the table, writes the report, says the target went away and exits 2', async () => {
    const app = await spawnApp({
      REDIS_URL: testRedisUrl(),
      ADMIN_TOKEN: TEST_ADMIN_TOKEN,
      UNSAFE_ENDPOINT: 'on',
    });
    const jsonFile = join(dir, 'gone.json');
    const sku = uniqueSku('gone');
    const attack = runCli(
      'attack',
      [
        '--target',
        app.url,
        '--admin-token',
        TEST_ADMIN_TOKEN,
        '--mode',
        'safe',
        '--sku',
        sku,
        '--stock',
        '1000000',
        '--requests',
        '1000000',
        '--connections',
        '4',
        '--warmup',
        '0',
        '--json',
        jsonFile,
      ],
      {},
    );
    try {
      // killed once purchases are being answered
      const selling = async (): Promise<boolean> => {
        const res = await fetch(`${app.url}/stock?sku=${sku}`).catch(() => undefined);
        const body = res?.ok ? ((await res.json()) as { sold: number }) : undefined;
        return (body?.sold ?? 0) > 0;
      };
      while (!(await selling()) && attack.child.exitCode === null) await sleep(50);
      await app.stop('SIGKILL');
      const code = await attack.exited;
      expect({ code, stderr: attack.stderr().split('\n').slice(-4) }).toMatchObject({ code: 2 });
      expect(attack.stderr()).toMatch(/the target went away during the safe run \(.*cannot reach/);
      expect(attack.stdout()).toContain('the target went away during the safe run');
      expect(attack.stdout()).toMatch(/sold \(200\)/);
      const report = JSON.parse(readFileSync(jsonFile, 'utf8')) as AttackReport;
      expect(report.runs.safe?.sold).toBeGreaterThan(0);
      expect(report.runs.safe?.targetLost).toMatch(/cannot reach/);
    } finally {
      await app.stop('SIGKILL');
      if (attack.child.exitCode === null) attack.child.kill('SIGKILL');
    }
  });
});
