import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { TEST_ADMIN_TOKEN, testRedisUrl, uniqueSku } from '../../test/support/fixtures';
import { main as attackMain } from '../attack';
import { startFleet } from '../local/fleet';
import type { Fleet } from '../local/fleet';
import type { AttackReport } from '../run-result';
import { runCli } from './cli-process';

/**
 * The harness against a real local fleet: two node:cluster workers on one port, the real Redis of the
 * test run, the CLI in its own process. The load is small (a few thousand requests in all) and goes to
 * 127.0.0.1 only.
 */
jest.setTimeout(180_000);

let fleet: Fleet;
let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'flash-sale-attack-'));
  fleet = await startFleet({
    instances: 2,
    env: {
      NODE_ENV: 'test',
      LOG_LEVEL: 'warn',
      REDIS_URL: testRedisUrl(),
      ADMIN_TOKEN: TEST_ADMIN_TOKEN,
      DEFAULT_SKU: uniqueSku('default'),
      UNSAFE_ENDPOINT: 'on',
      UNSAFE_DELAY_MS: '2',
    },
  });
});

afterAll(async () => {
  await fleet.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('npm run attack against a local fleet', () => {
  it('when both endpoints are attacked, then unsafe oversells, safe does not, and conservation holds on safe', async () => {
    const sku = uniqueSku('attack');
    const jsonFile = join(dir, 'out.json');
    const reportFile = join(dir, 'out.html');
    const cli = runCli(
      'attack',
      [
        '--target',
        fleet.url,
        '--sku',
        sku,
        '--stock',
        '40',
        '-n',
        '1200',
        '-c',
        '40',
        '--users',
        '25',
        '--json',
        jsonFile,
        '--report',
        reportFile,
      ],
      { ADMIN_TOKEN: TEST_ADMIN_TOKEN },
    );
    const code = await cli.exited;
    expect({ code, stderr: code === 0 ? '' : cli.stderr() }).toEqual({ code: 0, stderr: '' });
    expect(cli.stdout()).toMatch(/^OVERSOLD +\| [1-9]\d* +\| 0$/m);
    const report = JSON.parse(readFileSync(jsonFile, 'utf8')) as AttackReport;
    expect(report).toMatchObject({ target: fleet.url, sku, stock: 40, requests: 1200, connections: 40 });
    const { unsafe, safe } = report.runs;
    if (!unsafe || !safe) throw new Error('both runs expected in the report');

    for (const run of [unsafe, safe]) {
      expect(Object.keys(run).sort()).toEqual(
        expect.arrayContaining([
          'durationMs',
          'errors',
          'finalStock',
          'latencyMs',
          'lostUpdates',
          'orders',
          'oversold',
          'requestsPerSecond',
          'sold',
          'soldOut',
        ]),
      );
      expect(run.transportErrors).toBe(0);
      expect(run.sold + run.soldOut + Object.values(run.errors).reduce((a, b) => a + b, 0)).toBe(1200);
      expect(run.latencyMs.p50).toBeLessThanOrEqual(run.latencyMs.p95);
      expect(run.latencyMs.p95).toBeLessThanOrEqual(run.latencyMs.p99);
      // every answer counted against the instance that gave it (which of the two takes a keep-alive
      // connection is the kernel's choice: a burst of 40 may all land on one; both serving is checked below)
      const answered = Object.values(run.answersByInstance).reduce((a, b) => a + b, 0);
      expect(answered).toBe(run.answered);
      for (const id of Object.keys(run.answersByInstance)) expect(fleet.instanceIds).toContain(id);
      expect(run.timeline.sold.reduce((a, b) => a + b, 0)).toBe(run.sold);
    }

    expect(safe.oversold).toBe(0);
    expect(safe.sold).toBe(40);
    expect(safe.finalStock).toBe(0);
    expect(safe.orders).toBe(40);
    expect(safe.lostUpdates).toBe(0);
    expect(safe.stock).toBe((safe.finalStock ?? NaN) + (safe.unitsInLog ?? NaN));
    expect(safe.conserved).toBe(true);
    expect(report.safeHeld).toBe(true);

    expect(unsafe.oversold).toBeGreaterThan(0);
    expect(unsafe.oversold).toBe(unsafe.sold - 40);
    expect(unsafe.lostUpdates).toBe(unsafe.sold - (40 - (unsafe.finalStock ?? NaN)));
    expect(unsafe.conserved).toBe(false);

    // both instances serve the fleet's port: fresh connections, one at a time, reach each of them
    const seen = new Set<string>();
    for (let i = 0; i < 200 && seen.size < 2; i += 1) {
      const res = await fetch(`${fleet.url}/health/live`, { headers: { connection: 'close' } });
      seen.add(res.headers.get('x-instance-id') ?? '');
    }
    expect([...seen].sort()).toEqual(['instance-1', 'instance-2']);

    const html = readFileSync(reportFile, 'utf8');
    expect(html).toContain(`<td class="bad">${unsafe.sold}</td><td class="good">${safe.sold}</td>`);
    expect(html).toContain(`<td class="bad">${unsafe.oversold}</td><td class="good">0</td>`);
  });

  it('when the admin token is wrong, then the harness exits 2 with a message and fires nothing', async () => {
    const sku = uniqueSku('attack');
    const stderr = new PassThrough();
    let err = '';
    stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
    const code = await attackMain(['--target', fleet.url, '--sku', sku, '-n', '10', '-c', '1'], {
      stdout: new PassThrough(),
      stderr,
      env: { ADMIN_TOKEN: 'not-the-admin-token-0000' },
    });
    expect(code).toBe(2);
    expect(err).toBe(
      'attack: the service refused the stock reset (401): pass --admin-token or set ADMIN_TOKEN\n',
    );
    const stock = await fetch(`${fleet.url}/stock?sku=${sku}`);
    expect(stock.status).toBe(404);
  });
});
