import { Redis } from 'ioredis';
import type { RedisOptions } from 'ioredis';

/**
 * Asks one question of the Redis (or sentinel) on 127.0.0.1:`port` over a connection of its own, closed
 * afterwards whatever happens: the way the local tooling and the test helpers look at a node they
 * started, one command at a time, without a client that outlives the question or retries it.
 */
export async function withRedis<T>(
  port: number,
  question: (redis: Redis) => Promise<T>,
  options: RedisOptions = {},
): Promise<T> {
  const redis = new Redis({
    ...options,
    host: '127.0.0.1',
    port,
    lazyConnect: true,
    maxRetriesPerRequest: 1,
  });
  // a node that is down is an answer here (the question rejects), not an unhandled 'error' event
  redis.on('error', () => undefined);
  try {
    await redis.connect();
    return await question(redis);
  } finally {
    redis.disconnect();
  }
}
