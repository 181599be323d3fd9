import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort } from './free-port';
import { REDIS_SERVER_BINARY, startRedis, waitForPing } from './redis-server';
import type { LocalRedis } from './redis-server';
import { stoppable } from './server-process';
import { withRedis } from './with-redis';

export const SENTINEL_MASTER_NAME = 'mymaster';

/**
 * The local stand-in for a Multi-AZ replication group: a primary, one replica and three sentinels
 * (quorum 2) on 127.0.0.1, with failure detection in about a second.
 */
export interface LocalSentinelGroup {
  readonly primary: LocalRedis;
  readonly replica: LocalRedis;
  readonly sentinelPorts: readonly number[];
  /** `127.0.0.1:port,...` of the sentinels, the value of REDIS_NODES */
  readonly sentinelNodes: string;
  /** the port the sentinels name as primary now */
  primaryPort(): Promise<number>;
  /** resolves once the sentinels name another primary than `formerPort`, and it answers as one */
  waitForFailover(formerPort: number, timeoutMs?: number): Promise<number>;
  /** each sentinel's latest events (+sdown, +switch-master, +convert-to-slave...), to explain a failure */
  events(last?: number): string[][];
  /**
   * the replica stops receiving from the primary (REPLICAOF a dead port: a broken link between zones), so
   * that the primary acknowledges writes only it holds; on one machine the replica is otherwise behind by
   * well under a millisecond
   */
  cutReplication(): Promise<void>;
  /**
   * the killed primary back on its port, empty (nothing is persisted), as a replica of `newPort`, as a
   * replaced node would come back: what WAIT needs to count after a failover. Priority 0: Sentinel must
   * never promote it (on a loaded machine one sentinel once saw the new primary down a second after the
   * failover and promoted this node before it had synced, which emptied both). Stopped with the group.
   */
  reviveFormerPrimary(newPort: number): Promise<LocalRedis>;
  stop(): Promise<void>;
}

interface LocalSentinel {
  readonly port: number;
  readonly process: ChildProcess;
  /** its latest `last` event lines */
  events(last: number): string[];
  stop(): Promise<void>;
}

async function startSentinel(primaryPort: number): Promise<LocalSentinel> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'flash-sale-sentinel-'));
  const conf = join(dir, 'sentinel.conf');
  // The sentinel rewrites its own file as it learns the topology, so each gets a writable copy.
  writeFileSync(
    conf,
    [
      `port ${port}`,
      'bind 127.0.0.1',
      `dir ${dir}`,
      `logfile ${join(dir, 'sentinel.log')}`,
      `sentinel monitor ${SENTINEL_MASTER_NAME} 127.0.0.1 ${primaryPort} 2`,
      `sentinel down-after-milliseconds ${SENTINEL_MASTER_NAME} 1000`,
      `sentinel failover-timeout ${SENTINEL_MASTER_NAME} 5000`,
      `sentinel parallel-syncs ${SENTINEL_MASTER_NAME} 1`,
      '',
    ].join('\n'),
  );
  const child = spawn(REDIS_SERVER_BINARY, [conf, '--sentinel'], { stdio: 'ignore' });
  // SIGKILL, even to stop: a sentinel keeps nothing worth a clean shutdown
  const server = stoppable(child, once(child, 'exit'), 'SIGKILL', () => {
    rmSync(dir, { recursive: true, force: true });
  });
  const stop = (): Promise<void> => server.stop();
  try {
    await waitForPing(port);
  } catch (error) {
    await stop();
    throw error;
  }
  const events = (last: number): string[] => {
    try {
      const lines = readFileSync(join(dir, 'sentinel.log'), 'utf8').split('\n');
      // event lines read "<pid>:X <date> <time> # +switch-master mymaster ..."
      return lines.filter((line) => / [+-][a-z]/.test(line)).slice(-last);
    } catch (error) {
      return [String(error)];
    }
  };
  return { port, process: child, events, stop };
}

/**
 * Starts the group and waits until every sentinel knows the replica and the two other sentinels
 * (`SENTINEL CKQUORUM` passes), so that a failover can be authorised as soon as the primary dies, and
 * until the replica has finished its first sync.
 */
/** true once the replica on `port` has its link to the primary up, i.e. its first sync is done */
export async function isReplicaSynced(port: number): Promise<boolean> {
  return withRedis(port, (redis) => redis.info('replication'))
    .then((info) => /^master_link_status:up\r?$/m.test(info))
    .catch(() => false);
}

export async function startSentinelGroup(): Promise<LocalSentinelGroup> {
  const stops: (() => Promise<void>)[] = [];
  const stop = async (): Promise<void> => {
    await Promise.all(stops.map((stopOne) => stopOne()));
  };
  try {
    const primary = await startRedis();
    stops.push(() => primary.stop());
    const replica = await startRedis({ args: ['--replicaof', '127.0.0.1', String(primary.port)] });
    stops.push(() => replica.stop());
    const sentinels: LocalSentinel[] = [];
    for (let i = 0; i < 3; i += 1) {
      const sentinel = await startSentinel(primary.port);
      stops.push(() => sentinel.stop());
      sentinels.push(sentinel);
    }
    const sentinelPorts = sentinels.map((sentinel) => sentinel.port);
    const deadline = Date.now() + 30_000;
    for (;;) {
      const ready = await Promise.all(
        sentinelPorts.map((port) =>
          withRedis(port, async (redis) => {
            const replicas = (await redis.call('SENTINEL', 'REPLICAS', SENTINEL_MASTER_NAME)) as string[][];
            const others = (await redis.call('SENTINEL', 'SENTINELS', SENTINEL_MASTER_NAME)) as unknown[];
            await redis.call('SENTINEL', 'CKQUORUM', SENTINEL_MASTER_NAME);
            const replicaKnown = replicas.some((fields) => {
              const flags = fields[fields.indexOf('flags') + 1] ?? '';
              return fields.includes(String(replica.port)) && !flags.includes('down');
            });
            return replicaKnown && others.length === 2;
          }).catch(() => false),
        ),
      );
      // The replica must hold the data before anything can fail over to it. Its first sync starts only
      // after the primary's repl-diskless-sync-delay (5 s by default), and the sentinels will promote a
      // replica that never synced: a primary killed sooner is replaced by an empty one, every SKU gone.
      const synced = await isReplicaSynced(replica.port);
      if (ready.every(Boolean) && synced) break;
      if (Date.now() > deadline) {
        throw new Error(
          `the group was not ready in 30 s: sentinels agreed ${String(ready)}; replica synced ${String(synced)}`,
        );
      }
      await sleep(200);
    }

    const primaryPort = async (): Promise<number> => {
      for (const port of sentinelPorts) {
        try {
          const address = (await withRedis(port, (redis) =>
            redis.call('SENTINEL', 'GET-MASTER-ADDR-BY-NAME', SENTINEL_MASTER_NAME),
          )) as [string, string];
          return Number(address[1]);
        } catch {
          // that sentinel is not answering; ask the next one
        }
      }
      throw new Error('no sentinel answered');
    };

    return {
      primary,
      replica,
      sentinelPorts,
      sentinelNodes: sentinelPorts.map((port) => `127.0.0.1:${port}`).join(','),
      primaryPort,
      events: (last = 30) => sentinels.map((sentinel) => sentinel.events(last)),
      cutReplication: async () => {
        const deadPort = await freePort();
        await withRedis(replica.port, (redis) => redis.call('REPLICAOF', '127.0.0.1', String(deadPort)));
      },
      reviveFormerPrimary: async (newPort) => {
        const revived = await startRedis({
          port: primary.port,
          args: ['--replicaof', '127.0.0.1', String(newPort), '--replica-priority', '0'],
        });
        stops.push(() => revived.stop());
        return revived;
      },
      waitForFailover: async (formerPort, timeoutMs = 30_000) => {
        const until = Date.now() + timeoutMs;
        for (;;) {
          const port = await primaryPort();
          if (port !== formerPort) {
            const role = await withRedis(port, (redis) => redis.call('ROLE') as Promise<[string]>).catch(
              () => ['unreachable'],
            );
            if (role[0] === 'master') return port;
          }
          if (Date.now() > until) throw new Error(`no failover from ${formerPort} in ${timeoutMs} ms`);
          await sleep(100);
        }
      },
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
