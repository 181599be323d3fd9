import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort } from '../local/free-port';

/** A server under test: its own OS process, so that it never shares a core's time with the load. */
export interface ServerProcess {
  readonly name: string;
  readonly url: string;
  /** CPU time the process has used so far, in ms (user + system); undefined where /proc is missing */
  cpuMs(): number | undefined;
  /** the last lines it printed, for the error message when it dies */
  readonly output: string[];
  readonly pid: number | undefined;
  stop(): Promise<void>;
  /** SIGKILL, synchronous: the last resort when the bench itself must exit at once */
  readonly kill: () => void;
}

/**
 * The repository root, whether this file runs compiled (dist/attack/bench) or from source (attack/bench):
 * the servers always run from dist, compiled, never through ts-node.
 */
export function repositoryRoot(): string {
  const up = __dirname.split(/[\\/]/).includes('dist') ? ['..', '..', '..'] : ['..', '..'];
  return join(__dirname, ...up);
}

export function builtEntry(relative: string): string {
  const file = join(repositoryRoot(), 'dist', relative);
  if (!existsSync(file)) throw new Error(`${file} is missing: run \`npm run build\` (npm run bench does)`);
  return file;
}

/**
 * The service as production runs it, except for the fleet-wide rate limits: all of a bench's load comes
 * from one address, which production's per-address limit would answer 429 after 100 requests a minute.
 * What the limits cost a purchase is in docs/operations.md, "Admission control".
 */
export function benchServiceEnv(redisUrl: string, adminToken: string): Record<string, string> {
  return {
    NODE_ENV: 'production',
    REDIS_URL: redisUrl,
    ADMIN_TOKEN: adminToken,
    SHUTDOWN_DRAIN_MS: '0',
    DEFAULT_SKU: 'bench-default',
    RATE_LIMIT_PER_USER: '0',
    RATE_LIMIT_PER_IP: '0',
  };
}

const KEEP_LINES = 40;

export async function startServer(
  name: string,
  entry: string,
  env: Record<string, string>,
  options: { nodeFlags: readonly string[]; readyPath: string; readyStatus: number },
): Promise<ServerProcess> {
  const port = await freePort();
  const child: ChildProcess = spawn(process.execPath, [...options.nodeFlags, entry], {
    cwd: repositoryRoot(),
    env: { PATH: process.env.PATH ?? '', ...env, PORT: String(port) },
    stdio: ['ignore', 'pipe', 'pipe'],
    // its own process group: a Ctrl-C in the terminal reaches the whole foreground group, and the bench,
    // which still has to read Redis's figures and print the table, stops its servers itself
    detached: true,
  });
  const output: string[] = [];
  const keep = (chunk: Buffer): void => {
    output.push(...chunk.toString().split('\n').filter(Boolean));
    output.splice(0, Math.max(0, output.length - KEEP_LINES));
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = once(child, 'exit');
  const url = `http://127.0.0.1:${port}`;

  const deadline = Date.now() + 20_000;
  for (;;) {
    if (child.exitCode !== null) {
      throw new Error(`${name} exited with ${child.exitCode} before it was ready:\n${output.join('\n')}`);
    }
    const status = await fetch(`${url}${options.readyPath}`, {
      method: options.readyPath === '/purchase/safe' ? 'POST' : 'GET',
    }).then(
      (res) => res.status,
      () => 0,
    );
    if (status === options.readyStatus) break;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`${name} was not ready on ${url} within 20 s:\n${output.join('\n')}`);
    }
    await sleep(100);
  }

  let stopping: Promise<void> | undefined;
  return {
    name,
    url,
    cpuMs: () => (child.pid === undefined ? undefined : processCpuMs(child.pid)),
    output,
    pid: child.pid,
    kill: () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    },
    stop: () => {
      stopping ??= (async () => {
        if (child.exitCode !== null || child.signalCode !== null) return;
        child.kill('SIGTERM');
        const killer = setTimeout(() => child.kill('SIGKILL'), 10_000);
        await exited;
        clearTimeout(killer);
      })();
      return stopping;
    },
  };
}

/** USER_HZ: the unit of /proc/<pid>/stat times; 100 on every Linux that matters */
const TICKS_PER_SECOND = 100;

/** utime + stime of a process, from /proc/<pid>/stat (Linux) */
export function processCpuMs(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // the command name (field 2) may hold spaces: count fields from after its closing parenthesis
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]);
    return Number.isFinite(ticks) ? (ticks * 1000) / TICKS_PER_SECOND : undefined;
  } catch {
    return undefined;
  }
}
