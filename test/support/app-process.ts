import { spawn } from 'node:child_process';
import type { ChildProcess, ChildProcessByStdio } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';

const ROOT = join(__dirname, '..', '..');

/** One instance of the service as its own OS process, the way a fleet runs it. */
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
 * Starts app/main.ts with ts-node (transpile only) on a free port and waits until /health is 200.
 * The port is read from the "listening" log line, so PORT=0 works.
 */
export async function spawnApp(env: Record<string, string>, healthyWithinMs = 30_000): Promise<AppProcess> {
  const child = spawn(
    process.execPath,
    ['-r', 'ts-node/register/transpile-only', join(ROOT, 'app', 'main.ts')],
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
  // An app that never got ready must not outlive the test that started it.
  const startup = waitForHealthy(child, logs, () => stderr, healthyWithinMs);
  const port = await startup.catch((error: unknown) => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    throw error;
  });
  const url = `http://127.0.0.1:${port}`;
  const exited = once(child, 'exit').then(([code]) => code as number | null);
  return {
    url,
    port,
    child,
    logs,
    stop: async (signal = 'SIGTERM') => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}

/**
 * How long the process may take to print "listening": ts-node compiles the app first, which on a busy
 * 2-core machine has taken more than 5 s. What a test waits for is health; this only bounds a hang.
 */
const LISTENING_WITHIN_MS = 30_000;

/**
 * Reads the port from the "listening" log line (so PORT=0 works), then polls /health until 200 for at
 * most `healthyWithinMs`.
 */
async function waitForHealthy(
  child: ChildProcessByStdio<null, Readable, Readable>,
  logs: Record<string, unknown>[],
  stderr: () => string,
  healthyWithinMs: number,
): Promise<number> {
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => {
      reject(new Error(`app did not start in ${LISTENING_WITHIN_MS} ms: ${stderr()}`));
    }, LISTENING_WITHIN_MS);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`app exited with ${String(code)} before listening: ${stderr()}`));
    });
    createInterface({ input: child.stdout }).on('line', (line) => {
      try {
        const entry = JSON.parse(line) as Record<string, unknown>;
        logs.push(entry);
        if (entry.msg === 'listening' && typeof entry.port === 'number') {
          clearTimeout(timer);
          resolve(entry.port);
        }
      } catch {
        // not a log line
      }
    });
  });
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + healthyWithinMs;
  for (;;) {
    const status = await fetch(`${url}/health`).then(
      (res) => res.status,
      () => 0,
    );
    if (status === 200) return port;
    if (Date.now() > deadline) throw new Error(`app on ${url} never became healthy`);
    await sleep(100);
  }
}
