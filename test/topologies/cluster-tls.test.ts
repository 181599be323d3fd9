import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Cluster } from 'ioredis';
import { spawnApp } from '../support/app-process';
import type { AppProcess } from '../support/app-process';
import { TEST_ADMIN_TOKEN, auth, uniqueSku } from '../support/fixtures';
import { send } from '../support/http-client';
import { expectConserved, expectLogMatchesAnswers, readSkuState } from '../support/invariants';
import { startRedisCluster } from '../support/redis-cluster';
import type { LocalRedisCluster } from '../support/redis-cluster';
import { storm } from '../support/storm';
import { makeTestCertificates } from '../support/tls-certificates';

/**
 * The shape of ElastiCache with cluster mode, in-transit encryption and an auth token: a 3-master
 * cluster that speaks only TLS (clients, cluster bus, replication) and wants a password. The service
 * is configured the way an operator would (rediss:// with the token, the nodes as seeds) and trusts
 * the test CA through NODE_EXTRA_CA_CERTS, as it would trust Amazon's CA.
 */
describe('a Redis Cluster with TLS and an auth token', () => {
  const PASSWORD = 'auth-token-0123456789abcdef';
  const dir = mkdtempSync(join(tmpdir(), 'flash-sale-tls-'));
  let cluster: LocalRedisCluster;
  let reader: Cluster;
  let apps: AppProcess[] = [];
  let env: Record<string, string>;

  beforeAll(async () => {
    const certs = await makeTestCertificates(dir);
    cluster = await startRedisCluster({ masters: 3, tls: certs, password: PASSWORD });
    reader = cluster.client();
    env = {
      REDIS_MODE: 'cluster',
      REDIS_URL: `rediss://:${PASSWORD}@${cluster.seeds.split(',')[0] ?? ''}`,
      REDIS_NODES: cluster.seeds,
      NODE_EXTRA_CA_CERTS: certs.ca,
      ADMIN_TOKEN: TEST_ADMIN_TOKEN,
    };
  }, 60_000);
  afterAll(async () => {
    await Promise.all(apps.map((app) => app.stop('SIGKILL')));
    reader.disconnect();
    await cluster.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('when the service is given rediss:// with the token, then it sells on every shard and the invariants hold', async () => {
    apps = await Promise.all([
      spawnApp(env),
      spawnApp({ ...env, REDIS_URL: '', REDIS_TLS: 'on', REDIS_PASSWORD: PASSWORD }),
    ]);
    const urls = apps.map((app) => app.url);
    const skus = Array.from({ length: 6 }, () => uniqueSku('tls'));
    for (const sku of skus) {
      const res = await send(urls[0] ?? '', {
        method: 'PUT',
        path: `/products/${sku}`,
        body: { name: 'TLS', price: 1, stock: 10 },
        headers: auth,
      });
      expect(res.status).toBe(201);
    }
    const result = await storm({
      urls,
      path: '/purchase/safe',
      requests: 120,
      body: (i) => ({ sku: skus[i % skus.length] }),
    });
    expect(result.transportErrors).toBe(0);
    expect(result.count(200)).toBe(60);
    expect(result.count(409)).toBe(60);
    const shards = new Set(
      await Promise.all(
        skus.map(async (sku) => cluster.portOfSlot(await reader.cluster('KEYSLOT', `fs:{${sku}}:stock`))),
      ),
    );
    expect(shards.size).toBeGreaterThan(1);
    for (const sku of skus) {
      const state = await readSkuState(reader, sku);
      expectConserved(state);
      expect(state.stock).toBe(0);
      expectLogMatchesAnswers(
        sku,
        state,
        result.successes.map((success) => success.orderId),
      );
    }
  }, 90_000);

  it('when the token is wrong, then the service never reports healthy', async () => {
    await expect(
      spawnApp({ ...env, REDIS_URL: '', REDIS_TLS: 'on', REDIS_PASSWORD: 'wrong-token' }, 5_000),
    ).rejects.toThrow(/never became healthy/);
  }, 30_000);
});
