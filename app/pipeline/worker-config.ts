import { hostname } from 'node:os';
import { z } from 'zod';
import { commonEnvShape } from '../env/common-env';
import { requiredDatabaseEnvShape, toDatabaseSettings } from '../env/database-env';
import type { DatabaseSettings } from '../env/database-env';
import { parseEnv } from '../env/parse-env';
import { checkRedisEnv, redisEnvShape, toRedisSettings } from '../env/redis-env';
import type { RedisSettings } from '../env/redis-env';
import { wholeNumber } from '../whole-number';

/**
 * The order worker's configuration: the service's Redis and PostgreSQL variables (one env file serves
 * both processes), and the worker's own. Parsed once; a bad value stops it with the variable's name.
 */
const schema = z
  .object({
    ...commonEnvShape,
    ...redisEnvShape,
    ...requiredDatabaseEnvShape,
    /** health and metrics; 3001 so that it sits beside a service on 3000 (the image sets 3000: its own container) */
    PORT: wholeNumber(0, 65535).default(3001),
    WORKER_BATCH_SIZE: wholeNumber(1, 10_000).default(1000),
    WORKER_CLAIM_IDLE_MS: wholeNumber(100, 3_600_000).default(30_000),
    WORKER_IDLE_WAIT_MS: wholeNumber(10, 60_000).default(500),
    WORKER_BACKLOG_EVERY_MS: wholeNumber(100, 600_000).default(5000),
    WORKER_REPORT_EVERY_MS: wholeNumber(1000, 3_600_000).default(30_000),
    WORKER_CONCURRENCY: wholeNumber(1, 1000).default(64),
    REDIS_ORDER_RETENTION_MS: wholeNumber(0, 30 * 24 * 3_600_000).default(600_000),
    SHUTDOWN_TIMEOUT_MS: wholeNumber(100, 300_000).default(10_000),
  })
  .superRefine(checkRedisEnv);

export interface WorkerConfig {
  readonly env: 'development' | 'production' | 'test';
  readonly instanceId: string;
  readonly logLevel: string;
  readonly port: number;
  readonly redis: RedisSettings;
  readonly database: DatabaseSettings;
  readonly batchSize: number;
  /** an entry unacknowledged this long is taken over from its consumer, presumed dead */
  readonly claimIdleMs: number;
  readonly maxIdleWaitMs: number;
  readonly backlogEveryMs: number;
  /** how often the backlog is logged: the line CloudWatch turns into the backlog alarm's metric */
  readonly reportEveryMs: number;
  readonly concurrency: number;
  /** how long exported orders stay in Redis before they are trimmed */
  readonly retentionMs: number;
  readonly shutdownTimeoutMs: number;
}

export function loadWorkerConfig(source: NodeJS.ProcessEnv = process.env): WorkerConfig {
  const env = parseEnv(schema, source);
  return {
    env: env.NODE_ENV,
    instanceId: env.INSTANCE_ID ?? `${hostname()}-${process.pid}`,
    logLevel: env.LOG_LEVEL,
    port: env.PORT,
    redis: toRedisSettings(env),
    database: toDatabaseSettings(env),
    batchSize: env.WORKER_BATCH_SIZE,
    claimIdleMs: env.WORKER_CLAIM_IDLE_MS,
    maxIdleWaitMs: env.WORKER_IDLE_WAIT_MS,
    backlogEveryMs: env.WORKER_BACKLOG_EVERY_MS,
    reportEveryMs: env.WORKER_REPORT_EVERY_MS,
    concurrency: env.WORKER_CONCURRENCY,
    retentionMs: env.REDIS_ORDER_RETENTION_MS,
    shutdownTimeoutMs: env.SHUTDOWN_TIMEOUT_MS,
  };
}
