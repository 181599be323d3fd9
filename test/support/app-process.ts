import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';

const ROOT = join(__dirname, '..', '..');

/** One process of ours (the service, the order worker), on its own, the way a fleet runs it. */
export interface AppProcess {
  readonly url: string;
  readonly port: number;
  readonly child: ChildProcess;
  /** every log line it printed, parsed */
  readonly logs: Record<string, unknown>[];
  /** SIGTERM, then wait for the exit code */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/**
 * How long the process may take to log that it listens: ts-node compiles it first, which on a busy
 * 2-core machine has taken more than 5 s. What a test waits for is health; this only bounds a hang.
 */
const LISTENING_WITHIN_MS = 30_000;

/**
 * Starts `app/<entry>.ts` with ts-node (transpile only) and waits for the log line `readyMessage` that
 * carries its port, so PORT=0 works. A process that never gets there is killed: it must not outlive the
 * test that started it.
 */
export async function spawnEntry(
  entry: 'main' | 'worker',
  env: Record<string, string>,
  readyMessage: string,
): Promise<AppProcess> {
  const child = spawn(
    process.execPath,
    ['-r', 'ts-node/register/transpile-only', join(ROOT, 'app', `${entry}.ts`)],
    {
      cwd: ROOT,
      env: { ...process.env, NODE_ENV: 'test', PORT: '0', LOG_LEVEL: 'info', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const logs: Record<string, unknown>[] = [];
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const exited = once(child, 'exit').then(([code]) => code as number | null);
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => {
      reject(new Error(`app/${entry}.ts did not start in ${LISTENING_WITHIN_MS} ms: ${stderr}`));
    }, LISTENING_WITHIN_MS);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`app/${entry}.ts exited with ${String(code)} before listening: ${stderr}`));
    });
    createInterface({ input: child.stdout }).on('line', (line) => {
      try {
        const logged = JSON.parse(line) as Record<string, unknown>;
        logs.push(logged);
        if (logged.msg === readyMessage && typeof logged.port === 'number') {
          clearTimeout(timer);
          resolve(logged.port);
        }
      } catch {
        // not a log line
      }
    });
  }).catch((error: unknown) => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    throw error;
  });
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    child,
    logs,
    stop: async (signal = 'SIGTERM') => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}

/** Starts app/main.ts on a free port and waits until /health is 200 (for at most `healthyWithinMs`). */
export async function spawnApp(env: Record<string, string>, healthyWithinMs = 30_000): Promise<AppProcess> {
  const app = await spawnEntry('main', env, 'listening');
  const deadline = Date.now() + healthyWithinMs;
  for (;;) {
    const status = await fetch(`${app.url}/health`).then(
      (res) => res.status,
      () => 0,
    );
    if (status === 200) return app;
    if (Date.now() > deadline) {
      await app.stop('SIGKILL');
      throw new Error(`app on ${app.url} never became healthy`);
    }
    await sleep(100);
  }
}
