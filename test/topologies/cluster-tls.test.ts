import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Cluster } from 'ioredis';
import { spawnApp } from '../support/app-process';
import type { AppProcess } from '../support/app-process';
import { TEST_ADMIN_TOKEN, auth, uniqueSku } from '../support/fixtures';
import { purchase, send } from '../support/http-client';
import { recordFigures } from '../support/figures';
import { expectConserved, expectLogMatchesAnswers, readSkuState } from '../support/invariants';
import { startRedisCluster } from '../support/redis-cluster';
import type { LocalRedisCluster } from '../support/redis-cluster';
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
    // 120 buyers at once, each with its own Idempotency-Key, retrying a 503 as the API asks (TLS
    // handshakes on a busy two-core machine can outlast the 500 ms command timeout at first)
    const finals = await Promise.all(
      Array.from({ length: 120 }, async (_, i) => {
        const key = `tls-${skus[0] ?? ''}-${i}`;
        for (let attempt = 1; ; attempt += 1) {
          const answer = await purchase(urls[i % urls.length] ?? '', { sku: skus[i % skus.length] }, key);
          if (answer.status !== 503 || attempt === 20) return { ...answer, attempt };
          await sleep(100);
        }
      }),
    );
    recordFigures('cluster-tls', {
      purchases: finals.length,
      retriedAfter503: finals.filter((answer) => answer.attempt > 1).length,
      answersByStatus: Object.fromEntries(
        [200, 409, 503].map((status) => [status, finals.filter((answer) => answer.status === status).length]),
      ),
    });
    expect(finals.filter((answer) => answer.status === 200)).toHaveLength(60);
    expect(finals.filter((answer) => answer.status === 409)).toHaveLength(60);
    const answered = finals.flatMap((answer) => (answer.status === 200 ? [String(answer.body.orderId)] : []));
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
      expectLogMatchesAnswers(sku, state, answered);
    }
  }, 90_000);

  it('when the token is wrong, then the service never reports healthy', async () => {
    await expect(
      spawnApp({ ...env, REDIS_URL: '', REDIS_TLS: 'on', REDIS_PASSWORD: 'wrong-token' }, 5_000),
    ).rejects.toThrow(/never became healthy/);
  }, 60_000);
});
