import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { loadConfig } from '../../app/config';
import type { Config } from '../../app/config';
import { start } from '../../app/server';
import type { RunningService } from '../../app/server';
import { createLogger } from '../../app/observability/logger';
import { Metrics } from '../../app/observability/metrics';

/** The Redis the global setup started (or REDIS_URL). Tests never FLUSHALL it: each uses its own SKUs. */
export function testRedisUrl(): string {
  const url = process.env.TEST_REDIS_URL;
  if (!url) throw new Error('TEST_REDIS_URL is not set: run the tests through jest (npm test)');
  return url;
}

/** A SKU no other test uses. */
export function uniqueSku(label = 't'): string {
  return `${label}-${randomBytes(5).toString('hex')}`;
}

export const TEST_ADMIN_TOKEN = 'test-admin-token-0123456789';

export function testConfig(env: Record<string, string> = {}): Config {
  return loadConfig({
    NODE_ENV: 'test',
    PORT: '0',
    LOG_LEVEL: 'silent',
    REDIS_URL: testRedisUrl(),
    ADMIN_TOKEN: TEST_ADMIN_TOKEN,
    DEFAULT_SKU: uniqueSku('default'),
    ...env,
  });
}

export interface TestService {
  readonly service: RunningService;
  readonly config: Config;
  readonly url: string;
  stop(): Promise<void>;
}

/** One instance in this process, listening on a free port, ready (scripts loaded). */
export async function startTestService(env: Record<string, string> = {}): Promise<TestService> {
  const config = testConfig(env);
  const service = await start(config, {
    logger: createLogger('silent', config.instanceId),
    metrics: new Metrics(false),
  });
  await service.ready;
  return { service, config, url: `http://127.0.0.1:${service.port}`, stop: () => service.stop() };
}

/** A plain client for checking what the service wrote. */
export function redisClient(url = testRedisUrl()): Redis {
  return new Redis(url, { maxRetriesPerRequest: 1, lazyConnect: false });
}

export const auth = { Authorization: `Bearer ${TEST_ADMIN_TOKEN}` };

/** the problem document of a purchase refused because `sku` has no stock left, whoever refuses it */
export const soldOutProblem = (sku: string) => ({
  type: 'urn:flash-sale:problem:sold_out',
  title: 'Sold out',
  status: 409,
  detail: `${sku} is sold out`,
  code: 'sold_out',
  remaining: 0,
});
