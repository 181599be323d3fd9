import { Redis } from 'ioredis';
import { startRedis } from '../../attack/local/redis-server';
import type { LocalRedis } from '../../attack/local/redis-server';

/**
 * A private Redis that can fingerprint its whole dataset (DEBUG DIGEST, allowed from 127.0.0.1 only):
 * "nothing changed" is then checked for every key there is, not only for the keys a test thought of.
 */
export async function startDigestRedis(): Promise<{
  server: LocalRedis;
  digest(): Promise<string>;
  stop(): Promise<void>;
}> {
  const server = await startRedis({ args: ['--enable-debug-command', 'local'] });
  const client = new Redis(server.url, { maxRetriesPerRequest: 1 });
  return {
    server,
    digest: async () => String(await client.call('DEBUG', 'DIGEST')),
    stop: async () => {
      client.disconnect();
      await server.stop();
    },
  };
}
