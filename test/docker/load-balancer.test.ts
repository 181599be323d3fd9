import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Redis } from 'ioredis';
import { freePort } from '../../attack/local/free-port';
import { spawnApp } from '../support/app-process';
import type { AppProcess } from '../support/app-process';
import { TEST_ADMIN_TOKEN, redisClient, testRedisUrl, uniqueSku } from '../support/fixtures';
import { expectConserved, readSkuState } from '../support/invariants';
import { storm } from '../support/storm';
import { haproxyBinary } from './haproxy';

/**
 * The balancer docker-compose.yml puts in front of the service: the same haproxy.cfg that compose mounts,
 * run by Debian's haproxy (.ci/run installs it), in front of three service processes on 127.0.0.1. Only the
 * addresses differ, through the environment variables the file reads.
 */
const ROOT = join(__dirname, '..', '..');
const HAPROXY_CFG = join(ROOT, 'deploy', 'haproxy', 'haproxy.cfg');
const HAPROXY = haproxyBinary();

jest.setTimeout(120_000);

function haproxyCheck(env: Record<string, string>): { status: number | null; output: string } {
  const result = spawnSync(HAPROXY, ['-c', '-f', HAPROXY_CFG], {
    env: { PATH: process.env.PATH ?? '', ...env },
    encoding: 'utf8',
  });
  if (result.error)
    throw new Error(`cannot run ${HAPROXY} (apt-get install haproxy): ${result.error.message}`);
  return { status: result.status, output: result.stdout + result.stderr };
}

async function instanceOf(url: string): Promise<string> {
  const res = await fetch(url);
  await res.arrayBuffer();
  return res.headers.get('x-instance-id') ?? '';
}

describe('haproxy.cfg', () => {
  it('when haproxy -c checks it as compose runs it (no variables set: the compose service names), then it is valid', () => {
    const { status, output } = haproxyCheck({});
    expect({ status, output }).toEqual({ status: 0, output: expect.stringContaining('valid') as unknown });
  });

  it('when it is broken, then it fails the check, so the check above means something', () => {
    const { status } = haproxyCheck({ APP1_ADDR: 'not an address:port:at all' });
    expect(status).not.toBe(0);
  });
});

describe('haproxy in front of three instances', () => {
  let apps: AppProcess[] = [];
  let lb: ChildProcess;
  let lbExited: Promise<unknown>;
  let lbOutput = '';
  let lbUrl: string;
  let redis: Redis;
  const instanceIds = new Map<AppProcess, string>();

  beforeAll(async () => {
    redis = redisClient();
    const common = { REDIS_URL: testRedisUrl(), ADMIN_TOKEN: TEST_ADMIN_TOKEN };
    apps = await Promise.all([
      spawnApp(common),
      spawnApp(common),
      // the one the health-check test drains: it keeps serving for a minute after SIGTERM, /health 503
      spawnApp({ ...common, SHUTDOWN_DRAIN_MS: '60000' }),
    ]);
    for (const app of apps) instanceIds.set(app, await instanceOf(`${app.url}/health/live`));

    const port = await freePort();
    lbUrl = `http://127.0.0.1:${port}`;
    const env = {
      LB_BIND: `127.0.0.1:${port}`,
      APP1_ADDR: `127.0.0.1:${apps[0]?.port ?? 0}`,
      APP2_ADDR: `127.0.0.1:${apps[1]?.port ?? 0}`,
      APP3_ADDR: `127.0.0.1:${apps[2]?.port ?? 0}`,
    };
    const check = haproxyCheck(env);
    expect({ status: check.status, output: check.output }).toMatchObject({ status: 0 });

    lb = spawn(HAPROXY, ['-db', '-f', HAPROXY_CFG], {
      env: { PATH: process.env.PATH ?? '', ...env },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    lbExited = once(lb, 'exit');
    lb.stderr?.on('data', (chunk: Buffer) => (lbOutput += chunk.toString()));

    // Ready when every instance has answered through the balancer.
    const seen = new Set<string>();
    const deadline = Date.now() + 30_000;
    while (seen.size < apps.length) {
      if (lb.exitCode !== null) throw new Error(`haproxy exited with ${lb.exitCode}:\n${lbOutput}`);
      if (Date.now() > deadline) throw new Error(`only ${[...seen].join(', ')} answered:\n${lbOutput}`);
      const id = await instanceOf(`${lbUrl}/health`).catch(() => '');
      if (id) seen.add(id);
      else await sleep(100);
    }
  });

  // beforeAll may have failed anywhere (haproxy missing: before the balancer was started)
  afterAll(async () => {
    await Promise.all(apps.map((app) => app.stop('SIGKILL')));
    if (lb as ChildProcess | undefined) {
      if (lb.exitCode === null && lb.signalCode === null) lb.kill('SIGTERM');
      await lbExited;
    }
    await redis.quit();
  });

  async function stocked(units: number): Promise<string> {
    const sku = uniqueSku('lb');
    const res = await fetch(`${lbUrl}/products/${sku}`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${TEST_ADMIN_TOKEN}` },
      body: JSON.stringify({ name: 'Through the balancer', price: 1, stock: units }),
    });
    expect([200, 201]).toContain(res.status);
    return sku;
  }

  it('when a storm of purchases goes through it, then it reaches every instance and sells exactly the stock', async () => {
    const sku = await stocked(100);
    const result = await storm({
      urls: [lbUrl],
      path: '/purchase/safe',
      requests: 600,
      body: { sku },
      connections: 50,
    });

    expect(result.transportErrors).toBe(0);
    expect(Object.fromEntries(result.statuses)).toEqual({ 200: 100, 409: 500 });
    expect(new Set(result.successes.map((s) => s.orderId)).size).toBe(100);
    expect(new Set(result.successes.map((s) => s.instance))).toEqual(new Set(instanceIds.values()));

    const state = await readSkuState(redis, sku);
    expect(state.stock).toBe(0);
    expect(state.orders).toHaveLength(100);
    expectConserved(state);
  });

  it('when an instance fails its health check while still accepting connections, then it gets no more traffic', async () => {
    const draining = apps[2];
    if (!draining) throw new Error('no third instance');
    const drainingId = instanceIds.get(draining);
    // SIGTERM: /health turns 503 at once, the listener stays open for SHUTDOWN_DRAIN_MS
    draining.child.kill('SIGTERM');

    // haproxy checks every second and needs two failures: wait until a full round skips the instance
    const deadline = Date.now() + 30_000;
    let clean = 0;
    while (clean < 12) {
      if (Date.now() > deadline) throw new Error(`haproxy kept sending to ${String(drainingId)}`);
      clean = (await instanceOf(`${lbUrl}/health/live`)) === drainingId ? 0 : clean + 1;
      if (clean === 0) await sleep(100);
    }

    const sku = await stocked(30);
    const result = await storm({
      urls: [lbUrl],
      path: '/purchase/safe',
      requests: 90,
      body: { sku },
      connections: 10,
    });
    expect(result.transportErrors).toBe(0);
    expect(Object.fromEntries(result.statuses)).toEqual({ 200: 30, 409: 60 });
    expect(result.successes.map((s) => s.instance)).not.toContain(drainingId);
    // it was the health check, not a refused connection, that took it out
    expect(draining.child.exitCode).toBeNull();
    expect(await instanceOf(`${draining.url}/health/live`)).toBe(drainingId);
    expectConserved(await readSkuState(redis, sku));
  });
});
