import { setTimeout as sleep } from 'node:timers/promises';
import request from 'supertest';
import { ConfigError, loadConfig } from '../../app/config';
import { spawnApp } from '../support/app-process';
import { describePurchaseInvariants } from '../support/purchase-invariant-suite';
import { auth, startTestService, uniqueSku } from '../support/fixtures';
import type { TestService } from '../support/fixtures';
import { startRedisCluster } from '../support/redis-cluster';
import type { LocalRedisCluster } from '../support/redis-cluster';

// A real three-master Redis Cluster, the shape of ElastiCache with cluster mode enabled.
describePurchaseInvariants('a 3-master Redis Cluster', async () => {
  const cluster = await startRedisCluster({ masters: 3 });
  const admin = cluster.client();
  return {
    env: { REDIS_MODE: 'cluster', REDIS_NODES: cluster.seeds },
    shards: 3,
    primaryPorts: cluster.nodes.map((node) => node.port),
    client: () => cluster.client(),
    // Redis itself says which slot a key hashes to; the cluster's slot map says who serves it.
    shardOf: async (keyOrSku) => {
      const key = keyOrSku.includes('{') ? keyOrSku : `fs:{${keyOrSku}}:stock`;
      return cluster.portOfSlot(await admin.cluster('KEYSLOT', key));
    },
    stop: async () => {
      admin.disconnect();
      await cluster.stop();
    },
  };
});

describe('REDIS_WAIT_REPLICAS on a cluster', () => {
  const env = { REDIS_MODE: 'cluster', REDIS_NODES: '127.0.0.1:7000', REDIS_WAIT_REPLICAS: '1' };

  it('when it is set with REDIS_MODE=cluster, then the configuration is refused and names the variable', () => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(/REDIS_WAIT_REPLICAS: is not supported with REDIS_MODE=cluster/);
    expect(loadConfig({ ...env, REDIS_WAIT_REPLICAS: '0' }).redis.waitReplicas).toBe(0);
    expect(loadConfig({ ...env, REDIS_MODE: 'sentinel' }).redis.waitReplicas).toBe(1);
  });

  it('when a process is started that way, then it exits with EX_CONFIG before listening', async () => {
    await expect(spawnApp(env)).rejects.toThrow(/exited with 78 before listening.*REDIS_WAIT_REPLICAS/s);
  });
});

describe('when the whole cluster goes away', () => {
  let cluster: LocalRedisCluster;
  let svc: TestService;

  beforeAll(async () => {
    cluster = await startRedisCluster({ masters: 3 });
    svc = await startTestService({ REDIS_MODE: 'cluster', REDIS_NODES: cluster.seeds });
  }, 60_000);
  afterAll(async () => {
    await svc.stop();
    await cluster.stop();
  });

  it('then purchases get 503 store_unavailable with Retry-After, never a 500, and /health is 503', async () => {
    const sku = uniqueSku('cluster-outage');
    await request(svc.url).post(`/stock/reset?sku=${sku}&amount=10`).set(auth).expect(200);
    await request(svc.url).post('/purchase/safe').send({ sku }).expect(200);

    await cluster.stop();
    // ioredis's cluster client fails differently as it notices: a closed connection first, then "Cluster
    // isn't ready" while it reconnects. Purchases are sent across both phases, and every one is an outage.
    const statuses: number[] = [];
    for (let wave = 0; wave < 10; wave += 1) {
      const answers = await Promise.all(
        Array.from({ length: 5 }, () => request(svc.url).post('/purchase/safe').send({ sku })),
      );
      for (const res of answers) {
        statuses.push(res.status);
        if (res.status !== 503) continue;
        expect(res.headers['retry-after']).toBe('1');
        expect(res.body).toMatchObject({ code: 'store_unavailable', status: 503 });
      }
      await sleep(200);
    }
    expect(statuses).toEqual(Array.from({ length: 50 }, () => 503));
    await request(svc.url).get('/health').expect(503);
    const metrics = await request(svc.url).get('/metrics');
    expect(metrics.text).toMatch(/flashsale_redis_errors_total\{kind="unavailable"\} [1-9]/);
  });
});
