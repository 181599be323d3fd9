import { execFile } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { Cluster, Redis } from 'ioredis';
import { startRedis } from '../../attack/local/redis-server';
import type { LocalRedis, StartRedisOptions } from '../../attack/local/redis-server';

const run = promisify(execFile);

export const REDIS_CLI_BINARY = process.env.REDIS_CLI_BIN ?? 'redis-cli';

/** A real Redis Cluster on 127.0.0.1: `masters` redis-server processes, no replicas, all 16384 slots. */
export interface LocalRedisCluster {
  readonly nodes: readonly LocalRedis[];
  /** `host:port,host:port,...`, the value of REDIS_NODES */
  readonly seeds: string;
  /** which node serves a hash slot (its port) */
  portOfSlot(slot: number): number;
  /** a plain cluster client for checking what the service wrote */
  client(): Cluster;
  stop(): Promise<void>;
}

interface SlotRange {
  readonly from: number;
  readonly to: number;
  readonly port: number;
}

async function readSlotRanges(port: number): Promise<SlotRange[]> {
  const redis = new Redis({ host: '127.0.0.1', port, lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await redis.connect();
    const slots = await redis.cluster('SLOTS');
    return slots.map(([from, to, master]) => {
      if (!master) throw new Error(`slots ${from}-${to} have no master`);
      return { from, to, port: master[1] };
    });
  } finally {
    redis.disconnect();
  }
}

async function clusterState(port: number): Promise<string> {
  const redis = new Redis({ host: '127.0.0.1', port, lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await redis.connect();
    const info = await redis.cluster('INFO');
    return /cluster_state:(\w+)/.exec(info)?.[1] ?? 'unknown';
  } finally {
    redis.disconnect();
  }
}

/**
 * Starts the nodes with `--cluster-enabled yes`, joins them with `redis-cli --cluster create`, and waits
 * until every node reports `cluster_state:ok`. Every process and directory is removed by stop(), which
 * is also called when the start itself fails half-way.
 */
export async function startRedisCluster(
  options: { masters?: number; args?: readonly string[] } = {},
): Promise<LocalRedisCluster> {
  const masters = options.masters ?? 3;
  const nodes: LocalRedis[] = [];
  const stop = async (): Promise<void> => {
    await Promise.all(nodes.map((node) => node.stop()));
  };
  try {
    const nodeOptions: StartRedisOptions = {
      args: [
        '--cluster-enabled',
        'yes',
        '--cluster-config-file',
        'nodes.conf',
        '--cluster-node-timeout',
        '2000',
        ...(options.args ?? []),
      ],
    };
    for (let i = 0; i < masters; i += 1) nodes.push(await startRedis(nodeOptions));
    await run(
      REDIS_CLI_BINARY,
      [
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
      const states = await Promise.all(nodes.map((node) => clusterState(node.port)));
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
  const ranges = await readSlotRanges(first.port);
  const seeds = nodes.map((node) => `127.0.0.1:${node.port}`).join(',');
  return {
    nodes,
    seeds,
    portOfSlot: (slot) => {
      const range = ranges.find(({ from, to }) => slot >= from && slot <= to);
      if (!range) throw new Error(`slot ${slot} is not served`);
      return range.port;
    },
    client: () =>
      new Cluster(
        nodes.map((node) => ({ host: '127.0.0.1', port: node.port })),
        { redisOptions: { maxRetriesPerRequest: 1 } },
      ),
    stop,
  };
}
