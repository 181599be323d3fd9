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
