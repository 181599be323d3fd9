import { ConfigError, loadConfig } from '../../app/config';
import { spawnApp } from '../support/app-process';
import { describePurchaseInvariants } from '../support/purchase-invariant-suite';
import { startRedisCluster } from '../support/redis-cluster';

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
