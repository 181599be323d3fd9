import { hostname } from 'node:os';
import { z } from 'zod';
import { wholeNumber } from './whole-number';

/**
 * Configuration comes from the environment, is parsed once at start-up, and a bad value stops the process
 * with a message naming the variable (see loadConfig). Nothing else reads process.env.
 */
const SKU_PATTERN = /^[A-Za-z0-9._-]{1,64}$/;

const onOff = z.enum(['on', 'off']);
const hostPort = z.string().regex(/^[^\s:,]+:\d{1,5}$/, 'expected host:port');
const hostPortList = z
  .string()
  .transform((list) =>
    list
      .split(',')
      .map((item) => item.trim())
      .filter(Boolean),
  )
  .pipe(z.array(hostPort).min(1, 'expected a comma-separated list of host:port'));

const schema = z
  .object({
    NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
    PORT: wholeNumber(0, 65535).default(3000),
    INSTANCE_ID: z
      .string()
      .regex(/^[\x21-\x7e]{1,64}$/)
      .optional(),
    LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    SLOW_REQUEST_MS: wholeNumber(1, 600_000).default(1000),
    HTTP_REQUEST_TIMEOUT_MS: wholeNumber(100, 600_000).default(30_000),

    REDIS_MODE: z.enum(['standalone', 'sentinel', 'cluster']).default('standalone'),
    REDIS_URL: z
      .string()
      .regex(/^rediss?:\/\//, 'expected a redis:// or rediss:// URL')
      .pipe(z.url())
      .default('redis://127.0.0.1:6379'),
    /** cluster: seed nodes; sentinel: the sentinels. host:port,host:port */
    REDIS_NODES: hostPortList.optional(),
    REDIS_SENTINEL_NAME: z.string().min(1).default('mymaster'),
    REDIS_USERNAME: z.string().min(1).optional(),
    REDIS_PASSWORD: z.string().min(1).optional(),
    REDIS_TLS: onOff.optional(),
    REDIS_COMMAND_TIMEOUT_MS: wholeNumber(10, 60_000).default(500),
    REDIS_CONNECT_TIMEOUT_MS: wholeNumber(10, 60_000).default(2000),
    REDIS_WAIT_REPLICAS: wholeNumber(0, 16).default(0),
    REDIS_WAIT_TIMEOUT_MS: wholeNumber(1, 60_000).default(250),

    ADMIN_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
    UNSAFE_ENDPOINT: onOff.optional(),
    UNSAFE_DELAY_MS: wholeNumber(0, 10_000).default(0),
    DEFAULT_SKU: z.string().regex(SKU_PATTERN, 'must match ^[A-Za-z0-9._-]{1,64}$').default('default'),
    DEFAULT_STOCK: wholeNumber(0, 1_000_000_000).default(100),
    MAX_QUANTITY: wholeNumber(1, 1_000_000).default(10),
    SOLD_OUT_MARK_TTL_MS: wholeNumber(0, 600_000).default(1000),

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
    // WAIT counts the replicas that hold the writes of the connection it is sent on. On a cluster it is
    // a keyless command that ioredis sends to any node, so it could confirm a purchase made on another
    // shard: refuse the combination rather than answer 200 for an order no replica was asked about.
    if (env.REDIS_MODE === 'cluster' && env.REDIS_WAIT_REPLICAS > 0) {
      ctx.addIssue({
        code: 'custom',
        path: ['REDIS_WAIT_REPLICAS'],
        message:
          'is not supported with REDIS_MODE=cluster (WAIT would not reach the shard that took the purchase); set it to 0',
      });
    }
    // WAIT blocks its connection for up to its own timeout: at or above the command timeout, the client
    // gives up first, every purchase behind it on that connection fails too, and nothing says why.
    if (env.REDIS_WAIT_REPLICAS > 0 && env.REDIS_WAIT_TIMEOUT_MS >= env.REDIS_COMMAND_TIMEOUT_MS) {
      ctx.addIssue({
        code: 'custom',
        path: ['REDIS_WAIT_TIMEOUT_MS'],
        message: `must be below REDIS_COMMAND_TIMEOUT_MS (${env.REDIS_COMMAND_TIMEOUT_MS}) when REDIS_WAIT_REPLICAS is set`,
      });
    }
    if (env.REDIS_MODE === 'sentinel' && !env.REDIS_NODES) {
      ctx.addIssue({
        code: 'custom',
        path: ['REDIS_NODES'],
        message: 'must list the sentinels when REDIS_MODE=sentinel',
      });
    }
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
  readonly redis: {
    readonly mode: Env['REDIS_MODE'];
    readonly url: string;
    readonly nodes: readonly { host: string; port: number }[];
    readonly sentinelName: string;
    readonly username: string | undefined;
    readonly password: string | undefined;
    readonly tls: boolean;
    readonly commandTimeoutMs: number;
    readonly connectTimeoutMs: number;
    readonly waitReplicas: number;
    readonly waitTimeoutMs: number;
  };
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
  /** how long /health reports 503 before the listener closes, so a load balancer stops sending first */
  readonly shutdownDrainMs: number;
  readonly shutdownTimeoutMs: number;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n  ${problems.join('\n  ')}`);
    this.name = 'ConfigError';
  }
}

function toNode(hostPortText: string): { host: string; port: number } {
  const at = hostPortText.lastIndexOf(':');
  return { host: hostPortText.slice(0, at), port: Number(hostPortText.slice(at + 1)) };
}

/** Parses the environment; throws ConfigError naming every bad variable. */
export function loadConfig(source: NodeJS.ProcessEnv = process.env): Config {
  // An empty variable means "not set", as in most shells' `VAR= command`.
  const present = Object.fromEntries(
    Object.entries(source).filter(([, value]) => value !== undefined && value !== ''),
  );
  const parsed = schema.safeParse(present);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((issue) => {
        const [variable, ...rest] = issue.path.map(String);
        const entry = rest.length > 0 ? ` (entry ${rest.map((i) => Number(i) + 1).join('.')})` : '';
        return `${variable ?? 'environment'}: ${issue.message}${entry}`;
      }),
    );
  }
  const env = parsed.data;
  const production = env.NODE_ENV === 'production';
  const url = new URL(env.REDIS_URL);
  return {
    env: env.NODE_ENV,
    port: env.PORT,
    instanceId: env.INSTANCE_ID ?? `${hostname()}-${process.pid}`,
    logLevel: env.LOG_LEVEL,
    slowRequestMs: env.SLOW_REQUEST_MS,
    requestTimeoutMs: env.HTTP_REQUEST_TIMEOUT_MS,
    redis: {
      mode: env.REDIS_MODE,
      url: env.REDIS_URL,
      nodes: (env.REDIS_NODES ?? [`${url.hostname}:${url.port || '6379'}`]).map(toNode),
      sentinelName: env.REDIS_SENTINEL_NAME,
      username: env.REDIS_USERNAME ?? (url.username ? decodeURIComponent(url.username) : undefined),
      password: env.REDIS_PASSWORD ?? (url.password ? decodeURIComponent(url.password) : undefined),
      tls: env.REDIS_TLS ? env.REDIS_TLS === 'on' : url.protocol === 'rediss:',
      commandTimeoutMs: env.REDIS_COMMAND_TIMEOUT_MS,
      connectTimeoutMs: env.REDIS_CONNECT_TIMEOUT_MS,
      waitReplicas: env.REDIS_WAIT_REPLICAS,
      waitTimeoutMs: env.REDIS_WAIT_TIMEOUT_MS,
    },
    adminToken: env.ADMIN_TOKEN,
    // The race demo must never be reachable in production by accident.
    unsafeEndpoint: env.UNSAFE_ENDPOINT ? env.UNSAFE_ENDPOINT === 'on' : !production,
    unsafeDelayMs: env.UNSAFE_DELAY_MS,
    defaultSku: env.DEFAULT_SKU,
    defaultStock: env.DEFAULT_STOCK,
    maxQuantity: env.MAX_QUANTITY,
    soldOutMarkTtlMs: env.SOLD_OUT_MARK_TTL_MS,
    shutdownDrainMs: env.SHUTDOWN_DRAIN_MS ?? (production ? 5000 : 0),
    shutdownTimeoutMs: env.SHUTDOWN_TIMEOUT_MS,
  };
}

export const SKU_REGEX = SKU_PATTERN;
