import { Cluster, Redis } from 'ioredis';
import type { ClusterOptions, RedisOptions } from 'ioredis';
import type { Config } from '../config';
import type { RedisClient } from './scripts';

type RedisConfig = Config['redis'];

/** Reconnect quickly, forever: the service must recover by itself when Redis comes back. */
const reconnectDelay = (attempt: number): number => Math.min(50 * attempt, 500);

/**
 * Options shared by every topology. The choices that matter:
 * - no offline queue: while Redis is unreachable a command fails at once (a fast 503), instead of
 *   waiting in memory for a reconnection that may be minutes away;
 * - a command timeout: a Redis that accepts the connection but does not answer cannot hang a request;
 * - no automatic re-send of commands that were in flight when a connection dropped, and no retries:
 *   re-sending a purchase whose answer was lost could sell twice. The client gets a 503 and retries
 *   with its Idempotency-Key instead;
 * - auto-pipelining: concurrent requests share one write to the socket.
 */
function commonOptions(config: RedisConfig): RedisOptions {
  return {
    username: config.username,
    password: config.password,
    tls: config.tls ? {} : undefined,
    commandTimeout: config.commandTimeoutMs,
    connectTimeout: config.connectTimeoutMs,
    enableOfflineQueue: false,
    autoResendUnfulfilledCommands: false,
    maxRetriesPerRequest: 0,
    enableAutoPipelining: true,
    retryStrategy: reconnectDelay,
    lazyConnect: true,
  };
}

export function createRedisClient(config: RedisConfig): RedisClient {
  const options = commonOptions(config);
  switch (config.mode) {
    case 'standalone':
      return new Redis(config.url, options);
    case 'sentinel':
      return new Redis({
        ...options,
        sentinels: config.nodes.map(({ host, port }) => ({ host, port })),
        name: config.sentinelName,
        sentinelPassword: config.password,
        sentinelRetryStrategy: reconnectDelay,
        // after a failover, ask the sentinels again rather than cling to the old primary
        failoverDetector: true,
      });
    case 'cluster': {
      const clusterOptions: ClusterOptions = {
        redisOptions: options,
        enableOfflineQueue: false,
        enableAutoPipelining: true,
        maxRedirections: 8,
        retryDelayOnFailover: 100,
        retryDelayOnClusterDown: 100,
        clusterRetryStrategy: reconnectDelay,
        scaleReads: 'master',
        lazyConnect: true,
        // ElastiCache's TLS certificates name the configuration endpoint, not the nodes' IPs
        ...(config.tls
          ? {
              dnsLookup: (address, callback) => {
                callback(null, address);
              },
            }
          : {}),
      };
      return new Cluster(
        config.nodes.map(({ host, port }) => ({ host, port })),
        clusterOptions,
      );
    }
  }
}
