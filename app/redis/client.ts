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
 * - auto-pipelining: concurrent requests share one write to the socket;
 * - a READONLY reply drops the connection (see reconnectOnReadOnly).
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
    reconnectOnError: reconnectOnReadOnly,
    lazyConnect: true,
  };
}

/**
 * After a failover, a connection that stays open to the former primary (demoted in place to a replica, as
 * ElastiCache does: its primary endpoint moves, open sockets stay) would have every write refused with
 * READONLY until the socket happened to drop. On READONLY the client reconnects, and so reaches the new
 * primary (the endpoint, or the sentinels, now name it).
 *
 * 1, not 2 (reconnect and resend): with the offline queue off, ioredis cannot resend on a connection that is
 * closing, and would replace the READONLY reply, which says that nothing was written, by "Stream isn't
 * writeable", which a purchase must treat as an unknown outcome. So the command fails with READONLY (a 503
 * store_unavailable: nothing was sold) and the client's retry, with its Idempotency-Key, reaches the new primary.
 */
export function reconnectOnReadOnly(error: Error): 1 | false {
  return error.message.startsWith('READONLY') ? 1 : false;
}

export function createRedisClient(config: RedisConfig, overrides: RedisOptions = {}): RedisClient {
  const options = { ...commonOptions(config), ...overrides };
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

/**
 * A connection of its own for the restock channel (app/redis/restock-listener.ts): a subscribed connection
 * is kept for pub/sub. A plain PUBLISH reaches every node of a cluster, so in cluster mode one node (the
 * first seed) is enough. No automatic resubscription: the listener subscribes on every (re)connection
 * itself, so that it knows when restocks may have been missed.
 */
export function createSubscriberClient(config: RedisConfig): Redis {
  const overrides: RedisOptions = { autoResubscribe: false, connectionName: 'flash-sale-restocks' };
  if (config.mode === 'cluster') {
    const seed = config.nodes[0];
    if (!seed) throw new Error('cluster mode needs at least one node');
    return new Redis({ ...commonOptions(config), ...overrides, host: seed.host, port: seed.port });
  }
  // standalone and sentinel: createRedisClient builds a Redis, not a Cluster
  return createRedisClient(config, overrides) as Redis;
}

/**
 * Connects `client`, and connects it again whenever it has given up by itself. ioredis (6.0) ends a
 * Sentinel-mode client for good when the sentinels announce a failover (+switch-master) while it is
 * still asking one of them where the primary is: that reconnection fails with "Connection is closed."
 * and none is scheduled after it. Every command then fails at once, and the instance would answer 503
 * until it was restarted (found by test/faults/failover.test.ts with a slow sentinel). Only our own
 * quit() or disconnect() may end a client; `closing()` says when that is under way.
 */
export function keepConnected(client: RedisClient, closing: () => boolean, gaveUp?: () => void): void {
  const connect = (): void => {
    client.connect().catch(() => {
      // 'error' has been emitted; the retry strategy, or an 'end' again, takes it from here
    });
  };
  client.on('end', () => {
    if (closing()) return;
    gaveUp?.();
    setTimeout(() => {
      if (!closing() && client.status === 'end') connect();
    }, reconnectDelay(1)).unref();
  });
  connect();
}
