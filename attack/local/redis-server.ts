import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort } from './free-port';
import { stoppable } from './server-process';
import { withRedis } from './with-redis';

/**
 * A private redis-server on a free port of 127.0.0.1, for the tests and the demo: it never touches a
 * Redis someone else runs. Nothing is persisted; its directory is removed when it stops.
 */
export interface LocalRedis {
  readonly port: number;
  readonly url: string;
  readonly process: ChildProcess;
  /** its data directory (`--dir`) */
  readonly dir: string;
  stop(): Promise<void>;
  /**
   * At once and synchronously, for an 'exit' listener, where nothing can be awaited: SIGKILL, and the
   * directory removed if it was made for this server. `stop()` is the clean way.
   */
  readonly kill: () => void;
}

export const REDIS_SERVER_BINARY = process.env.REDIS_SERVER_BIN ?? 'redis-server';

/** true when a redis-server binary can be run here */
export function hasRedisServer(): boolean {
  const probe = spawnSync(REDIS_SERVER_BINARY, ['--version'], { stdio: 'ignore' });
  return probe.status === 0;
}

/** Resolves when something answers +PONG on the port, or rejects after `timeoutMs`. */
export async function waitForPing(port: number, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const socket = createConnection({ host: '127.0.0.1', port });
      socket.setTimeout(500);
      socket.once('connect', () => {
        socket.write('PING\r\n');
      });
      socket.once('data', (data) => {
        socket.destroy();
        resolve(data.toString().startsWith('+PONG'));
      });
      socket.once('error', () => {
        resolve(false);
      });
      socket.once('timeout', () => {
        socket.destroy();
        resolve(false);
      });
    });
    if (ok) return;
    if (Date.now() > deadline)
      throw new Error(`redis-server on port ${port} did not answer PING in ${timeoutMs} ms`);
    await sleep(50);
  }
}

/** The process_id the Redis on 127.0.0.1:`port` reports in INFO server. */
async function processIdOn(port: number): Promise<number> {
  const info = await withRedis(port, (redis) => redis.info('server'));
  return Number(/^process_id:(\d+)/m.exec(info)?.[1]);
}

export interface StartRedisOptions {
  /** a fixed port (e.g. to restart a server where it was); a free one otherwise */
  readonly port?: number;
  /** extra redis-server arguments, e.g. ['--replicaof', '127.0.0.1', '7000'] */
  readonly args?: readonly string[];
  /**
   * a data directory that outlives the server (e.g. with `--appendonly yes`, to restart it with its data);
   * the caller removes it. Without one, a fresh directory is made and removed on stop.
   */
  readonly dir?: string;
  /**
   * its own process group, so that a Ctrl-C in the terminal reaches only the demo, which can then still
   * read the stock back before it stops this server itself
   */
  readonly ownProcessGroup?: boolean;
}

export async function startRedis(options: StartRedisOptions = {}): Promise<LocalRedis> {
  const port = options.port ?? (await freePort());
  const ownDir = options.dir === undefined;
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'flash-sale-redis-'));
  const removeDir = (): void => {
    if (ownDir) rmSync(dir, { recursive: true, force: true });
  };
  const child = spawn(
    REDIS_SERVER_BINARY,
    [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--save',
      '',
      '--appendonly',
      'no',
      '--dir',
      dir,
      // Stock must never be evicted: the same policy as production.
      '--maxmemory-policy',
      'noeviction',
      ...(options.args ?? []),
    ],
    { stdio: ['ignore', 'ignore', 'pipe'], detached: options.ownProcessGroup === true },
  );
  const exited = once(child, 'exit');
  try {
    const exitCode = await Promise.race([
      waitForPing(port).then(() => undefined),
      exited.then(([code]) => String(code)),
    ]);
    // A PONG only says that some Redis holds the port. If another one took it first (a port freed by a
    // killed server is soon handed out again), ours fails to bind and exits, and whoever uses this
    // server would be talking to someone else's, data and all.
    const holder = await processIdOn(port).catch(() => undefined);
    if (holder !== undefined && holder !== child.pid) {
      throw new Error(`port ${port} is held by another redis-server (pid ${holder}), not ours`);
    }
    if (exitCode !== undefined) {
      throw new Error(`redis-server exited with code ${exitCode} before answering`);
    }
  } catch (error) {
    child.kill('SIGKILL');
    removeDir();
    throw error;
  }
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    process: child,
    dir,
    ...stoppable(child, exited, 'SIGTERM', removeDir),
  };
}
