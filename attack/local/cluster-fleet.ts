import cluster from 'node:cluster';
import type { Worker } from 'node:cluster';
import { once } from 'node:events';
import type { Writable } from 'node:stream';
import { extname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { WorkerMessage } from './fleet-worker';
import { freePort } from './free-port';

/**
 * N stateless instances of the service behind one port, the way a load balancer spreads traffic over a
 * fleet: node:cluster workers sharing one listening socket, each keep-alive connection landing on one
 * instance. This process is their primary; it runs in a process of its own (fleet-primary.ts), never
 * beside a load generator: see fleet.ts.
 */
export interface ClusterFleet {
  readonly url: string;
  readonly port: number;
  readonly instanceIds: readonly string[];
  /** SIGTERM to every worker (graceful: finish in-flight requests, close Redis), SIGKILL after a while */
  stop(): Promise<void>;
}

export interface ClusterFleetOptions {
  readonly instances: number;
  /**
   * environment of every instance on top of this process's: REDIS_URL, ADMIN_TOKEN, UNSAFE_DELAY_MS...
   * (fleet.ts has already left the user's REDIS_* variables out of this process's when they do not belong)
   */
  readonly env: Record<string, string>;
  readonly port?: number;
  /** where the instances' log lines go; kept in memory (the last lines) otherwise */
  readonly log?: Writable;
  readonly startTimeoutMs?: number;
}

const KEEP_LOG_LINES = 40;
const STOP_TIMEOUT_MS = 15_000;

/**
 * A process of ours runs the way this file runs: compiled JavaScript after `npm run build`, TypeScript
 * through ts-node (transpile only, for start-up time) under `npm run demo` and jest. `name` is relative
 * to this folder.
 */
export function entryPoint(name: string): { exec: string; execArgv: string[] } {
  const extension = extname(__filename);
  return {
    exec: join(__dirname, `${name}${extension}`),
    execArgv: extension === '.ts' ? ['-r', 'ts-node/register/transpile-only'] : [],
  };
}

function isWorkerMessage(message: unknown): message is WorkerMessage {
  return typeof message === 'object' && message !== null && 'type' in message;
}

async function waitForHealth(url: string, deadline: number): Promise<void> {
  for (;;) {
    const status = await fetch(`${url}/health`, { signal: AbortSignal.timeout(2000) }).then(
      (res) => res.status,
      () => 0,
    );
    if (status === 200) return;
    if (Date.now() > deadline) throw new Error(`the fleet on ${url} never answered /health with 200`);
    await sleep(100);
  }
}

async function stopWorkers(workers: readonly Worker[]): Promise<void> {
  await Promise.all(
    workers.map(async (worker) => {
      const proc = worker.process;
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      const exited = once(worker, 'exit');
      proc.kill('SIGTERM');
      const timer = setTimeout(() => proc.kill('SIGKILL'), STOP_TIMEOUT_MS);
      await exited;
      clearTimeout(timer);
    }),
  );
}

export async function startClusterFleet(options: ClusterFleetOptions): Promise<ClusterFleet> {
  if (!cluster.isPrimary) throw new Error('startClusterFleet must run in a cluster primary');
  const port = options.port ?? (await freePort());
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + (options.startTimeoutMs ?? 60_000);
  const recent: string[] = [];
  const record = (chunk: Buffer): void => {
    if (options.log) options.log.write(chunk);
    else recent.push(...chunk.toString().split('\n').filter(Boolean));
    recent.splice(0, Math.max(0, recent.length - KEEP_LOG_LINES));
  };

  // silent: the instances' JSON logs go to `log`, not into the presenter's terminal.
  // The workers accept from the shared socket themselves and the kernel spreads the connections. The
  // default round-robin has the primary accept each connection and hand it over IPC, one worker reply at
  // a time: measured with 1000 connections opened at once, ~350 of them waited more than 10 s for that
  // handoff and timed out. A load balancer would not hold a connection back like that.
  cluster.schedulingPolicy = cluster.SCHED_NONE;
  cluster.setupPrimary({ ...entryPoint('fleet-worker'), args: [], silent: true });
  const workers: Worker[] = [];
  const ready: Promise<string>[] = [];
  for (let i = 1; i <= options.instances; i += 1) {
    const worker = cluster.fork({ ...options.env, PORT: String(port), INSTANCE_ID: `instance-${i}` });
    worker.process.stdout?.on('data', record);
    worker.process.stderr?.on('data', record);
    workers.push(worker);
    ready.push(
      new Promise<string>((resolve, reject) => {
        worker.on('message', (message: unknown) => {
          if (!isWorkerMessage(message)) return;
          if (message.type === 'ready') resolve(message.instanceId);
          else reject(new Error(`instance-${i} failed to start: ${message.message}`));
        });
        worker.once('exit', (code) => {
          reject(new Error(`instance-${i} exited with code ${String(code)} while starting`));
        });
      }),
    );
  }

  try {
    let timer: NodeJS.Timeout | undefined;
    const giveUp = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        reject(new Error(`the fleet did not become ready in ${options.startTimeoutMs ?? 60_000} ms`));
      }, deadline - Date.now());
    });
    const instanceIds = await Promise.race([Promise.all(ready), giveUp]).finally(() => {
      clearTimeout(timer);
    });
    await waitForHealth(url, deadline);
    let stopping: Promise<void> | undefined;
    return {
      url,
      port,
      instanceIds,
      stop: () => (stopping ??= stopWorkers(workers)),
    };
  } catch (error) {
    await stopWorkers(workers);
    const lines = recent.length > 0 ? `\n${recent.join('\n')}` : '';
    throw new Error(`${error instanceof Error ? error.message : String(error)}${lines}`);
  }
}
