import { startPostgres } from '../../attack/local/postgres-server';
import type { LocalPostgres } from '../../attack/local/postgres-server';
import { startRedis } from '../../attack/local/redis-server';
import type { LocalRedis } from '../../attack/local/redis-server';
import { migrateDatabase } from './database';
import { missingPrerequisites } from './prerequisites';

declare global {
  var __flashSaleRedis: LocalRedis | undefined;
  var __flashSalePostgres: LocalPostgres | undefined;
}

/**
 * One private redis-server and one private PostgreSQL for the whole run (tests that kill or reconfigure
 * either start their own). With REDIS_URL or DATABASE_URL set, that server is used instead; tests then
 * keep to their own SKUs and never flush or drop anything they did not make.
 */
export default async function globalSetup(): Promise<void> {
  // before anything starts: one line saying what to install, rather than a failure deep inside a suite
  const missing = missingPrerequisites();
  if (missing !== undefined) {
    process.stderr.write(`\n${missing}\n`);
    process.exit(1);
  }
  if (process.env.REDIS_URL) {
    process.env.TEST_REDIS_URL = process.env.REDIS_URL;
  } else {
    const redis = await startRedis();
    globalThis.__flashSaleRedis = redis;
    process.env.TEST_REDIS_URL = redis.url;
  }
  if (process.env.DATABASE_URL) {
    process.env.TEST_DATABASE_URL = process.env.DATABASE_URL;
  } else {
    const postgres = await startPostgres({ fast: true });
    globalThis.__flashSalePostgres = postgres;
    process.env.TEST_DATABASE_URL = postgres.url;
  }
  await migrateDatabase(process.env.TEST_DATABASE_URL);
}
