import { z } from 'zod';
import { wholeNumber } from '../whole-number';

/**
 * The Redis connection, from the environment: the same variables for the service, the order worker,
 * `verify` and the catalogue import, so that one env file serves them all.
 */
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

export const redisEnvShape = {
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
};

type RedisEnv = z.infer<ReturnType<typeof z.object<typeof redisEnvShape>>>;

export interface RedisSettings {
  readonly mode: RedisEnv['REDIS_MODE'];
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
}

/** The cross-variable rules of the Redis settings, for a schema's superRefine. */
export function checkRedisEnv(env: RedisEnv, ctx: z.RefinementCtx): void {
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
}

function toNode(hostPortText: string): { host: string; port: number } {
  const at = hostPortText.lastIndexOf(':');
  return { host: hostPortText.slice(0, at), port: Number(hostPortText.slice(at + 1)) };
}

export function toRedisSettings(env: RedisEnv): RedisSettings {
  const url = new URL(env.REDIS_URL);
  return {
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
  };
}
