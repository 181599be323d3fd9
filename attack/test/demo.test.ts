import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createConnection } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { testDatabaseUrl } from '../../test/support/database';
import { redisClient, testRedisUrl, uniqueSku } from '../../test/support/fixtures';
import type { AttackReport } from '../run-result';
import { runCli } from './cli-process';

/**
 * `npm run demo` as a user runs it, in its own process, on the test run's Redis (REDIS_URL) so that it
 * starts no second redis-server; each test on its own SKU. Small numbers: a few hundred requests.
 */
jest.setTimeout(180_000);

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'flash-sale-demo-'));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('npm run demo', () => {
  it('when run, then it prints the comparison, writes the JSON shape of the issue and the report, and exits 0', async () => {
    const sku = uniqueSku('demo');
    const jsonFile = join(dir, 'demo.json');
    const reportFile = join(dir, 'demo.html');
    const demo = runCli(
      'demo',
      [
        '--sku',
        sku,
        '--stock',
        '30',
        '--requests',
        '600',
        '--connections',
        '30',
        '--warmup',
        '50',
        '--json',
        jsonFile,
        '--report',
        reportFile,
      ],
      { REDIS_URL: testRedisUrl(), DATABASE_URL: testDatabaseUrl() },
    );
    const code = await demo.exited;
    expect({ code, stderr: code === 0 ? '' : demo.stderr() }).toEqual({ code: 0, stderr: '' });

    expect(demo.stderr()).toMatch(/^redis: REDIS_URL$/m);
    expect(demo.stderr()).toMatch(/^postgres: DATABASE_URL, an order worker draining Redis into it$/m);
    expect(demo.stdout()).toMatch(/^orders in PostgreSQL +\| (\d+) of \1 +\| 30 of 30$/m);
    expect(demo.stdout()).toMatch(/^verify +\| DRIFT: .* +\| ok: Redis and PostgreSQL agree$/m);
    expect(demo.stdout()).toContain('and all 30 orders are in PostgreSQL once (verify: ok)');
    expect(demo.stderr()).toMatch(/^warming up: 50 unmeasured purchases per endpoint on flash-sale-warmup$/m);
    expect(demo.stderr()).toMatch(
      /^fleet: 2 instances on http:\/\/127\.0\.0\.1:\d+ \(instance-1, instance-2\)/m,
    );
    expect(demo.stderr()).toMatch(/^stopped everything the demo started/m);
    expect(demo.stdout()).toMatch(/^OVERSOLD +\| [1-9]\d* +\| 0$/m);
    expect(demo.stdout()).toContain(`wrote ${jsonFile}`);

    const report = JSON.parse(readFileSync(jsonFile, 'utf8')) as AttackReport;
    expect(report).toMatchObject({
      sku,
      stock: 30,
      requests: 600,
      connections: 30,
      fleet: { instances: 2, unsafeDelayMs: 2, redis: 'REDIS_URL', postgres: 'DATABASE_URL' },
      safeHeld: true,
    });
    expect(report.runs.safe?.systemOfRecord).toEqual({
      orders: 30,
      inPostgres: 30,
      backlog: 0,
      findings: [],
    });
    expect(report.target).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const shape = {
      sold: expect.any(Number) as unknown,
      soldOut: expect.any(Number) as unknown,
      errors: expect.any(Object) as unknown,
      finalStock: expect.any(Number) as unknown,
      orders: expect.any(Number) as unknown,
      oversold: expect.any(Number) as unknown,
      lostUpdates: expect.any(Number) as unknown,
      durationMs: expect.any(Number) as unknown,
      requestsPerSecond: expect.any(Number) as unknown,
      latencyMs: {
        p50: expect.any(Number) as unknown,
        p95: expect.any(Number) as unknown,
        p99: expect.any(Number) as unknown,
      },
    };
    expect(report.runs.unsafe).toMatchObject(shape);
    expect(report.runs.safe).toMatchObject({ ...shape, oversold: 0, sold: 30, finalStock: 0, orders: 30 });
    expect(report.runs.unsafe?.oversold).toBeGreaterThan(0);

    expect(readFileSync(reportFile, 'utf8')).toContain('<!DOCTYPE html>');
    expect(existsSync(join(dir, 'fleet.log'))).toBe(true);

    // the fleet is gone: its port no longer answers
    const refused = await fetch(`${report.target}/health/live`).then(
      () => false,
      () => true,
    );
    expect(refused).toBe(true);
  });

  it('when the shell sets REDIS_MODE=cluster and REDIS_NODES but no REDIS_URL, then the fleet still serves from the private redis-server', async () => {
    const sku = uniqueSku('demo');
    const jsonFile = join(dir, 'private.json');
    const demo = runCli(
      'demo',
      [
        '--sku',
        sku,
        '--stock',
        '30',
        '--requests',
        '300',
        '--connections',
        '30',
        '--warmup',
        '0',
        '--json',
        jsonFile,
        '--report',
        join(dir, 'private.html'),
      ],
      // REDIS_URL empty is "not given" (and keeps out one the test run may have been started with). Nothing
      // listens on port 1, and the private redis-server has no password: a fleet that read any of these
      // would never become ready.
      {
        REDIS_URL: '',
        DATABASE_URL: '',
        REDIS_MODE: 'cluster',
        REDIS_NODES: '127.0.0.1:1',
        REDIS_PASSWORD: 'not-the-private-redis-password',
      },
    );
    const code = await demo.exited;
    expect({ code, stderr: code === 0 ? '' : demo.stderr() }).toEqual({ code: 0, stderr: '' });
    expect(demo.stderr()).toMatch(/^redis: private redis-server on 127\.0\.0\.1:\d+$/m);
    expect(demo.stderr()).toMatch(/^postgres: private PostgreSQL on 127\.0\.0\.1:\d+, an order worker/m);

    const report = JSON.parse(readFileSync(jsonFile, 'utf8')) as AttackReport;
    expect(report.fleet?.redis).toMatch(/^private redis-server on 127\.0\.0\.1:\d+$/);
    expect(report.safeHeld).toBe(true);
    expect(report.runs.safe).toMatchObject({ sold: 30, finalStock: 0, orders: 30 });
    expect(report.runs.safe?.systemOfRecord).toMatchObject({ orders: 30, inPostgres: 30, findings: [] });
  });

  it('when REDIS_URL points where nothing listens, then it says where and why at once, starts nothing and exits 2', async () => {
    const demo = runCli('demo', [], { REDIS_URL: 'redis://:secret@127.0.0.1:1', DATABASE_URL: '' });
    expect(await demo.exited).toBe(2);
    expect(demo.stderr()).toMatch(
      /^demo: cannot reach Redis at 127\.0\.0\.1:1 \(REDIS_URL\): ECONNREFUSED\./m,
    );
    expect(demo.stderr()).not.toContain('secret');
    expect(demo.stderr()).not.toMatch(/^fleet:/m);
  });

  it('when no PostgreSQL can be had, then it says so in one line and runs as before', async () => {
    const jsonFile = join(dir, 'no-postgres.json');
    const demo = runCli(
      'demo',
      [
        '--sku',
        uniqueSku('demo'),
        '--stock',
        '20',
        '--requests',
        '200',
        '--connections',
        '20',
        '--warmup',
        '0',
        '--json',
        jsonFile,
        '--report',
        join(dir, 'no-postgres.html'),
      ],
      // no DATABASE_URL, and PostgreSQL's binaries looked for where there are none
      { REDIS_URL: testRedisUrl(), DATABASE_URL: '', PG_BIN: join(dir, 'no-postgres-here') },
    );
    const code = await demo.exited;
    expect({ code, stderr: code === 0 ? '' : demo.stderr() }).toEqual({ code: 0, stderr: '' });
    expect(demo.stderr()).toMatch(
      /^postgres: none \(no DATABASE_URL, no PostgreSQL installed\): orders stay in Redis, and verify is skipped$/m,
    );
    expect(demo.stdout()).not.toContain('PostgreSQL');
    expect(demo.stdout()).toMatch(/safe sold 20 of 20, never more: invariants held$/m);
    const report = JSON.parse(readFileSync(jsonFile, 'utf8')) as AttackReport;
    expect(report.fleet?.postgres).toBeUndefined();
    expect(report.runs.safe?.systemOfRecord).toBeUndefined();
  });

  it('when interrupted with one Ctrl-C, delivered twice, during the unsafe run, then it prints what it measured, stops everything and exits 130', async () => {
    const sku = uniqueSku('demo');
    const jsonFile = join(dir, 'interrupted.json');
    // More requests than it will ever send: Ctrl-C comes a moment after the fleet is up, no warm-up in
    // between, so that it lands in the unsafe run.
    const demo = runCli(
      'demo',
      [
        '--sku',
        sku,
        '--requests',
        '200000',
        '--connections',
        '20',
        '--warmup',
        '0',
        '--json',
        jsonFile,
        '--report',
        join(dir, 'i.html'),
      ],
      { REDIS_URL: testRedisUrl(), DATABASE_URL: testDatabaseUrl() },
    );
    const deadline = Date.now() + 120_000;
    while (!/^fleet: /m.test(demo.stderr()) && demo.child.exitCode === null && Date.now() < deadline) {
      await sleep(50);
    }
    await sleep(1000);
    // One Ctrl-C under `npm run demo` arrives twice: the terminal sends it to the whole process group, and
    // npm forwards the one it got to its child (the demo itself when the script shell execs it, as bash
    // does). The gap is npm's turn of its event loop; it also keeps the kernel from merging the two.
    demo.child.kill('SIGINT');
    await sleep(20);
    demo.child.kill('SIGINT');
    const code = await demo.exited;
    expect({ code, stderr: code === 130 ? '' : demo.stderr() }).toEqual({ code: 130, stderr: '' });
    expect(demo.stdout()).toContain('interrupted (Ctrl-C)');
    expect(demo.stderr()).toMatch(/^stopped everything the demo started/m);

    const report = JSON.parse(readFileSync(jsonFile, 'utf8')) as AttackReport;
    expect(report.runs.safe).toBeUndefined();
    const unsafe = report.runs.unsafe;
    expect(unsafe?.interrupted).toBe(true);
    expect(unsafe?.answered).toBeLessThan(200_000);
    // Redis (the test run's) and the fleet outlived the Ctrl-C long enough to read the stock back
    expect(unsafe?.finalStock).toEqual(expect.any(Number) as unknown);
    const refused = await fetch(`${report.target}/health/live`).then(
      () => false,
      () => true,
    );
    expect(refused).toBe(true);
  });

  it('when its terminal goes away (SIGHUP) during the unsafe run, then its private redis-server and PostgreSQL go too', async () => {
    const demo = runCli(
      'demo',
      ['--sku', uniqueSku('demo'), '--requests', '200000', '--connections', '20', '--warmup', '0'],
      { REDIS_URL: '', DATABASE_URL: '' },
    );
    const deadline = Date.now() + 120_000;
    while (!/^fleet: /m.test(demo.stderr()) && demo.child.exitCode === null && Date.now() < deadline) {
      await sleep(50);
    }
    const port = Number(/^redis: private redis-server on 127\.0\.0\.1:(\d+)$/m.exec(demo.stderr())?.[1]);
    expect(port).toBeGreaterThan(0);
    const pgPort = Number(/^postgres: private PostgreSQL on 127\.0\.0\.1:(\d+),/m.exec(demo.stderr())?.[1]);
    expect(pgPort).toBeGreaterThan(0);
    const probe = redisClient(`redis://127.0.0.1:${port}`);
    const [, dataDir] = (await probe.config('GET', 'dir')) as [string, string];
    probe.disconnect();
    expect(existsSync(dataDir)).toBe(true);
    await sleep(500);
    // The redis-server has a process group of its own (so that Ctrl-C reaches only the demo): a hang-up
    // that ends the demo does not reach it, and nothing would stop it afterwards.
    demo.child.kill('SIGHUP');
    await demo.exited;
    const stillListening = async (on: number): Promise<boolean> => {
      let answered = true;
      for (let attempt = 0; attempt < 50 && answered; attempt += 1) {
        answered = await new Promise<boolean>((resolve) => {
          const socket = createConnection({ host: '127.0.0.1', port: on });
          socket.once('connect', () => {
            socket.destroy();
            resolve(true);
          });
          socket.once('error', () => {
            resolve(false);
          });
        });
        if (answered) await sleep(100);
      }
      return answered;
    };
    expect(await stillListening(port)).toBe(false);
    expect(await stillListening(pgPort)).toBe(false);
    // and the directory made for it in the temp folder
    expect(existsSync(dataDir)).toBe(false);
  });
});
