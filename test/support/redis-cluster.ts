import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { Cluster } from 'ioredis';
import type { RedisOptions } from 'ioredis';
import { freePort } from '../../attack/local/free-port';
import { REDIS_SERVER_BINARY, startRedis } from '../../attack/local/redis-server';
import { withRedis } from '../../attack/local/with-redis';
import type { TestCertificates } from './tls-certificates';

const run = promisify(execFile);

export const REDIS_CLI_BINARY = process.env.REDIS_CLI_BIN ?? 'redis-cli';

interface ClusterNode {
  readonly port: number;
  stop(): Promise<void>;
}

/** A real Redis Cluster on 127.0.0.1: `masters` redis-server processes, no replicas, all 16384 slots. */
export interface LocalRedisCluster {
  readonly nodes: readonly ClusterNode[];
  /** `host:port,host:port,...`, the value of REDIS_NODES */
  readonly seeds: string;
  /** which node serves a hash slot (its port) */
  portOfSlot(slot: number): number;
  /** a plain cluster client for checking what the service wrote */
  client(): Cluster;
  stop(): Promise<void>;
}

export interface StartClusterOptions {
  readonly masters?: number;
  /** TLS only (no plaintext port), the cluster bus and replication included: ElastiCache in-transit encryption */
  readonly tls?: TestCertificates;
  /** requirepass/masterauth: ElastiCache's auth token */
  readonly password?: string;
}

interface SlotRange {
  readonly from: number;
  readonly to: number;
  readonly port: number;
}

/**
 * A TLS node is started by hand: startRedis() checks readiness with a plaintext PING, which a TLS-only
 * node with a password cannot answer.
 */
async function startSecureNode(
  certs: TestCertificates | undefined,
  password: string | undefined,
  clusterArgs: string[],
  connect: RedisOptions,
): Promise<ClusterNode> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'flash-sale-cluster-'));
  const args = [
    '--bind',
    '127.0.0.1',
    '--dir',
    dir,
    '--save',
    '',
    '--appendonly',
    'no',
    '--maxmemory-policy',
    'noeviction',
    ...(certs
      ? [
          '--port',
          '0',
          '--tls-port',
          String(port),
          '--tls-cert-file',
          certs.cert,
          '--tls-key-file',
          certs.key,
          '--tls-ca-cert-file',
          certs.ca,
          '--tls-auth-clients',
          'no',
          '--tls-cluster',
          'yes',
          '--tls-replication',
          'yes',
        ]
      : ['--port', String(port)]),
    ...(password ? ['--requirepass', password, '--masterauth', password] : []),
    ...clusterArgs,
  ];
  const child = spawn(REDIS_SERVER_BINARY, args, { stdio: 'ignore' });
  const exited = once(child, 'exit');
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 10_000;
  for (;;) {
    const pong = await withRedis(port, (redis) => redis.ping(), connect).catch(() => '');
    if (pong === 'PONG') return { port, stop };
    if (Date.now() > deadline || child.exitCode !== null) {
      await stop();
      throw new Error(`cluster node on ${port} did not start`);
    }
    await sleep(100);
  }
}

/**
 * Starts the nodes with `--cluster-enabled yes`, joins them with `redis-cli --cluster create`, and waits
 * until every node reports `cluster_state:ok`. Every process and directory is removed by stop(), which
 * is also called when the start itself fails half-way.
 */
export async function startRedisCluster(options: StartClusterOptions = {}): Promise<LocalRedisCluster> {
  const masters = options.masters ?? 3;
  const connect: RedisOptions = {
    ...(options.tls ? { tls: { ca: readFileSync(options.tls.ca) } } : {}),
    ...(options.password ? { password: options.password } : {}),
  };
  const clusterArgs = [
    '--cluster-enabled',
    'yes',
    '--cluster-config-file',
    'nodes.conf',
    '--cluster-node-timeout',
    '2000',
  ];
  const nodes: ClusterNode[] = [];
  const stop = async (): Promise<void> => {
    await Promise.all(nodes.map((node) => node.stop()));
  };
  try {
    for (let i = 0; i < masters; i += 1) {
      nodes.push(
        options.tls || options.password
          ? await startSecureNode(options.tls, options.password, clusterArgs, connect)
          : await startRedis({ args: clusterArgs }),
      );
    }
    await run(
      REDIS_CLI_BINARY,
      [
        ...(options.tls ? ['--tls', '--cacert', options.tls.ca] : []),
        ...(options.password ? ['-a', options.password, '--no-auth-warning'] : []),
        '--cluster',
        'create',
        ...nodes.map((node) => `127.0.0.1:${node.port}`),
        '--cluster-replicas',
        '0',
        '--cluster-yes',
      ],
      { timeout: 30_000 },
    );
    const deadline = Date.now() + 20_000;
    for (;;) {
      const states = await Promise.all(
        nodes.map((node) =>
          withRedis(
            node.port,
            async (redis) => /cluster_state:(\w+)/.exec(await redis.cluster('INFO'))?.[1],
            connect,
          ),
        ),
      );
      if (states.every((state) => state === 'ok')) break;
      if (Date.now() > deadline) throw new Error(`cluster never became ok: ${states.join(', ')}`);
      await sleep(100);
    }
  } catch (error) {
    await stop();
    throw error;
  }
  const first = nodes[0];
  if (!first) throw new Error('a cluster needs at least one node');
  const ranges: SlotRange[] = await withRedis(
    first.port,
    async (redis) =>
      (await redis.cluster('SLOTS')).map(([from, to, master]) => {
        if (!master) throw new Error(`slots ${from}-${to} have no master`);
        return { from, to, port: master[1] };
      }),
    connect,
  );
  return {
    nodes,
    seeds: nodes.map((node) => `127.0.0.1:${node.port}`).join(','),
    portOfSlot: (slot) => {
      const range = ranges.find(({ from, to }) => slot >= from && slot <= to);
      if (!range) throw new Error(`slot ${slot} is not served`);
      return range.port;
    },
    client: () =>
      new Cluster(
        nodes.map((node) => ({ host: '127.0.0.1', port: node.port })),
        { redisOptions: { ...connect, maxRetriesPerRequest: 1 } },
      ),
    stop,
  };
}
