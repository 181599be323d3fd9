import { Writable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { createLogger } from '../../app/observability/logger';
import { ExportMetrics } from '../../app/observability/export-metrics';
import { startWorker } from '../../app/pipeline/start-worker';
import type { RunningWorker } from '../../app/pipeline/start-worker';
import { loadWorkerConfig } from '../../app/pipeline/worker-config';
import { main as verifyMain } from '../../app/verify';
import { testDatabaseUrl } from './database';
import { spawnEntry } from './app-process';
import type { AppProcess } from './app-process';
import { testRedisUrl } from './fixtures';

/** Worker settings that make a test's pipeline quick: short waits, nothing kept after export. */
export const QUICK_WORKER_ENV = {
  WORKER_IDLE_WAIT_MS: '50',
  WORKER_BACKLOG_EVERY_MS: '200',
  WORKER_CLAIM_IDLE_MS: '1000',
  REDIS_ORDER_RETENTION_MS: '0',
} as const;

/** One order worker in this process, on a free port. */
export async function startTestWorker(env: Record<string, string> = {}): Promise<RunningWorker> {
  const config = loadWorkerConfig({
    NODE_ENV: 'test',
    PORT: '0',
    LOG_LEVEL: 'silent',
    REDIS_URL: testRedisUrl(),
    DATABASE_URL: testDatabaseUrl(),
    ...QUICK_WORKER_ENV,
    ...env,
  });
  return startWorker(config, {
    logger: createLogger('silent', config.instanceId),
    metrics: new ExportMetrics(false),
  });
}

export interface VerifyRun {
  readonly code: number;
  readonly out: string;
  readonly err: string;
}

function collector(): { stream: Writable; text: () => string } {
  const chunks: string[] = [];
  return {
    stream: new Writable({
      write(chunk: Buffer | string, _encoding, callback) {
        chunks.push(chunk.toString());
        callback();
      },
    }),
    text: () => chunks.join(''),
  };
}

/** `npm run verify -- <args>`, in this process, against the test Redis and PostgreSQL unless `env` says otherwise */
export async function verify(args: readonly string[], env: Record<string, string> = {}): Promise<VerifyRun> {
  const out = collector();
  const err = collector();
  const code = await verifyMain(
    args,
    { REDIS_URL: testRedisUrl(), DATABASE_URL: testDatabaseUrl(), ...env },
    out.stream,
    err.stream,
  );
  return { code, out: out.text(), err: err.text() };
}

/** One order worker as its own OS process, the way an instance runs it. */
export type WorkerProcess = AppProcess;

export function spawnWorker(env: Record<string, string>): Promise<WorkerProcess> {
  return spawnEntry('worker', { ...QUICK_WORKER_ENV, ...env }, 'order worker started');
}

/** Polls until `check` resolves true, or fails after `timeoutMs` saying what it waited for. */
export async function eventually(
  check: () => Promise<boolean>,
  timeoutMs: number,
  what: string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(50);
  }
}
