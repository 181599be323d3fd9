import { Redis } from 'ioredis';
import { startRedis } from '../../attack/local/redis-server';
import { describePurchaseInvariants } from '../support/purchase-invariant-suite';

// A private server rather than the shared one: the suite flushes the script cache and counts error
// replies, which must be its own.
describePurchaseInvariants('standalone Redis', async () => {
  const server = await startRedis();
  return {
    env: { REDIS_MODE: 'standalone', REDIS_URL: server.url },
    shards: 1,
    primaryPorts: [server.port],
    client: () => new Redis(server.url, { maxRetriesPerRequest: 1 }),
    shardOf: () => Promise.resolve(server.port),
    stop: () => server.stop(),
  };
});
