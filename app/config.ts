import { hostname } from 'node:os';
import { z } from 'zod';
import { SKU_PATTERN } from './domain/sku';
import { admissionEnvShape, toAdmissionSettings } from './env/admission-env';
import type { AdmissionSettings } from './env/admission-env';
import { commonEnvShape } from './env/common-env';
import { databaseEnvShape, toDatabaseSettings } from './env/database-env';
import type { DatabaseSettings } from './env/database-env';
import { ConfigError, parseEnv } from './env/parse-env';
import { checkRedisEnv, redisEnvShape, toRedisSettings } from './env/redis-env';
import type { RedisSettings } from './env/redis-env';
import { wholeNumber } from './whole-number';

export { ConfigError };

/**
 * Configuration comes from the environment, is parsed once at start-up, and a bad value stops the process
 * with a message naming the variable (see loadConfig). Nothing else reads process.env.
 */

const onOff = z.enum(['on', 'off']);

const schema = z
  .object({
    ...commonEnvShape,
    PORT: wholeNumber(0, 65535).default(3000),
    SLOW_REQUEST_MS: wholeNumber(1, 600_000).default(1000),
    HTTP_REQUEST_TIMEOUT_MS: wholeNumber(100, 600_000).default(30_000),

    ...redisEnvShape,
    ...databaseEnvShape,
    ...admissionEnvShape,

    ADMIN_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
    UNSAFE_ENDPOINT: onOff.optional(),
    UNSAFE_DELAY_MS: wholeNumber(0, 10_000).default(0),
    DEFAULT_SKU: z.string().regex(SKU_PATTERN, `must match ${SKU_PATTERN.source}`).default('default'),
    DEFAULT_STOCK: wholeNumber(0, 1_000_000_000).default(100),
    MAX_QUANTITY: wholeNumber(1, 1_000_000).default(10),
    SOLD_OUT_MARK_TTL_MS: wholeNumber(0, 600_000).default(1000),

    METRICS_EMF: onOff.default('off'),
    METRICS_EMF_INTERVAL_MS: wholeNumber(1000, 3_600_000).default(60_000),

    SHUTDOWN_DRAIN_MS: wholeNumber(0, 300_000).optional(),
    SHUTDOWN_TIMEOUT_MS: wholeNumber(100, 300_000).default(10_000),
  })
  .superRefine((env, ctx) => {
    if (env.NODE_ENV === 'production' && !env.ADMIN_TOKEN) {
      ctx.addIssue({
        code: 'custom',
        path: ['ADMIN_TOKEN'],
        message: 'is required when NODE_ENV=production',
      });
    }
    checkRedisEnv(env, ctx);
  });

export type Env = z.infer<typeof schema>;

export interface Config {
  readonly env: Env['NODE_ENV'];
  readonly port: number;
  readonly instanceId: string;
  readonly logLevel: Env['LOG_LEVEL'];
  readonly slowRequestMs: number;
  /** a client that has not sent its whole request (headers and body) by then gets a 408 */
  readonly requestTimeoutMs: number;
  readonly redis: RedisSettings;
  /** PostgreSQL, for order lookups once the worker has trimmed them from Redis; undefined: Redis only */
  readonly database: DatabaseSettings | undefined;
  readonly adminToken: string | undefined;
  readonly unsafeEndpoint: boolean;
  readonly unsafeDelayMs: number;
  readonly defaultSku: string;
  readonly defaultStock: number;
  readonly maxQuantity: number;
  /**
   * how long a process may refuse a sold-out SKU without asking Redis, at most (a restock clears the mark
   * on every instance at once; this bounds an unannounced one). 0: no sold-out mark, every purchase asks.
   */
  readonly soldOutMarkTtlMs: number;
  /**
   * METRICS_EMF=on: every this many ms, one line of the service's figures in CloudWatch's embedded metric
   * format on stdout (app/observability/service-figures.ts); undefined: none (the default, off AWS)
   */
  readonly serviceFiguresIntervalMs: number | undefined;
  /** fleet-wide limits on purchase attempts, and the proxies trusted for a client's address */
  readonly admission: AdmissionSettings;
  /** how long /health reports 503 before the listener closes, so a load balancer stops sending first */
  readonly shutdownDrainMs: number;
  readonly shutdownTimeoutMs: number;
}

/** Parses the environment; throws ConfigError naming every bad variable. */
export function loadConfig(source: NodeJS.ProcessEnv = process.env): Config {
  const env = parseEnv(schema, source);
  const production = env.NODE_ENV === 'production';
  return {
    env: env.NODE_ENV,
    port: env.PORT,
    instanceId: env.INSTANCE_ID ?? `${hostname()}-${process.pid}`,
    logLevel: env.LOG_LEVEL,
    slowRequestMs: env.SLOW_REQUEST_MS,
    requestTimeoutMs: env.HTTP_REQUEST_TIMEOUT_MS,
    redis: toRedisSettings(env),
    database: toDatabaseSettings(env),
    adminToken: env.ADMIN_TOKEN,
    // The race demo must never be reachable in production by accident.
    unsafeEndpoint: env.UNSAFE_ENDPOINT ? env.UNSAFE_ENDPOINT === 'on' : !production,
    unsafeDelayMs: env.UNSAFE_DELAY_MS,
    defaultSku: env.DEFAULT_SKU,
    defaultStock: env.DEFAULT_STOCK,
    maxQuantity: env.MAX_QUANTITY,
    soldOutMarkTtlMs: env.SOLD_OUT_MARK_TTL_MS,
    serviceFiguresIntervalMs: env.METRICS_EMF === 'on' ? env.METRICS_EMF_INTERVAL_MS : undefined,
    admission: toAdmissionSettings(env),
    shutdownDrainMs: env.SHUTDOWN_DRAIN_MS ?? (production ? 5000 : 0),
    shutdownTimeoutMs: env.SHUTDOWN_TIMEOUT_MS,
  };
}
