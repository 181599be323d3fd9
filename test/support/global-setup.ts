import { startRedis } from '../../attack/local/redis-server';
import type { LocalRedis } from '../../attack/local/redis-server';

declare global {
  var __flashSaleRedis: LocalRedis | undefined;
}

/**
 * One private redis-server for the whole run (tests that kill or reconfigure Redis start their own).
 * With REDIS_URL set, that server is used instead; tests then keep to their own SKUs and never flush it.
 */
export default async function globalSetup(): Promise<void> {
  if (process.env.REDIS_URL) {
    process.env.TEST_REDIS_URL = process.env.REDIS_URL;
    return;
  }
  const redis = await startRedis();
  globalThis.__flashSaleRedis = redis;
  process.env.TEST_REDIS_URL = redis.url;
}
