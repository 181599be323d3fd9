import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { WARMUP_SKU } from './attack-options';
import type { AttackSettings } from './attack-options';
import type { SessionObserver } from './live/storm-feed';
import { progressLine } from './progress';
import { renderHtmlReport } from './report-html';
import { formatTable, formatVerdict, shouldColor } from './report-table';
import { runAttack } from './run-attack';
import type { RunProgress } from './run-attack';
import { safeHeld } from './run-result';
import type { AttackReport, RunResult, SystemOfRecordCheck } from './run-result';
import { checkReachable, TargetError, unsafeEndpointOn } from './service-client';
import { warmUp } from './warm-up';

export interface Io {
  readonly stdout: NodeJS.WritableStream & { isTTY?: boolean };
  readonly stderr: NodeJS.WritableStream & { isTTY?: boolean };
  readonly env: NodeJS.ProcessEnv;
}

/** 129 and 130: 128 + the signal (SIGHUP, SIGINT), as a shell reports a process it ended */
export const EXIT = { ok: 0, broken: 1, usage: 2, hangUp: 129, interrupted: 130 } as const;

export interface Session {
  readonly report: AttackReport;
  readonly exitCode: number;
}

/** writes a report file, making its folder (reports/) first */
export function writeFile(file: string, content: string): void {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, content);
}

function emptyReport(target: string, settings: AttackSettings, startedAt: string): AttackReport {
  const { sku, stock, requests, connections, users } = settings;
  return { target, sku, stock, requests, connections, users, startedAt, runs: {}, safeHeld: null };
}

/**
 * The modes the target can run: a deployment has the unsafe endpoint off unless asked for, and a run sent at
 * its 404 would measure nothing. With both modes asked for, the unsafe run is skipped with a line saying so;
 * with the unsafe mode alone, there is nothing to run (TargetError).
 */
async function withoutDisabledModes(
  target: string,
  settings: AttackSettings,
  io: Io,
): Promise<AttackSettings> {
  if (!settings.modes.includes('unsafe') || (await unsafeEndpointOn(target))) return settings;
  const why = `${target}/purchase/unsafe is off (404 unsafe_disabled; a deployment turns it on with -c enableUnsafeEndpoint=true)`;
  const modes = settings.modes.filter((mode) => mode !== 'unsafe');
  if (modes.length === 0) throw new TargetError(`${why}: run --mode safe instead`);
  io.stderr.write(`${why}: skipping the unsafe run, running ${modes.join(', ')} only\n`);
  return { ...settings, modes };
}

/**
 * Everything both CLIs do once a target is up: each mode in turn from a fresh reset, then the table,
 * the verdict, the files, and the exit code. Throws TargetError when the target cannot be used.
 * After an abort (Ctrl-C) the run under way stops, the next is skipped, and what was measured is printed.
 */
export async function runSession(
  target: string,
  settings: AttackSettings,
  io: Io,
  options: {
    signal?: AbortSignal;
    fleet?: AttackReport['fleet'];
    /** the order pipeline's verify for the run's SKU, asked after each run, before the next reset */
    checkSystemOfRecord?: (sku: string) => Promise<SystemOfRecordCheck>;
    /** the live page: fed from the same progress as the terminal's line */
    observer?: SessionObserver;
  } = {},
): Promise<Session> {
  await checkReachable(target);
  settings = await withoutDisabledModes(target, settings, io);
  if (settings.warmup > 0 && !options.signal?.aborted) {
    io.stderr.write(`warming up: ${settings.warmup} unmeasured purchases per endpoint on ${WARMUP_SKU}\n`);
    await warmUp(target, settings.modes, settings.warmup, settings.adminToken);
  }
  const startedAt = new Date().toISOString();
  const runs: AttackReport['runs'] = {};
  const progress = progressLine(io.stderr);
  for (const mode of settings.modes) {
    if (options.signal?.aborted) break;
    let last: RunProgress | undefined;
    let run: RunResult;
    try {
      run = await runAttack(
        { ...settings, target, mode },
        {
          signal: options.signal,
          onProgress: (update) => {
            last = update;
            progress.update(update);
            options.observer?.progress(update);
          },
        },
      );
    } finally {
      progress.done(last);
    }
    if (options.checkSystemOfRecord && !run.interrupted && run.targetLost === undefined) {
      io.stderr.write(`waiting for the ${mode} run's orders to reach PostgreSQL, then verify\n`);
      run = { ...run, systemOfRecord: await options.checkSystemOfRecord(settings.sku) };
    }
    runs[mode] = run;
    options.observer?.runFinished(run);
    if (run.targetLost !== undefined) {
      io.stderr.write(
        `the target went away during the ${mode} run (${run.targetLost}); what it measured follows\n`,
      );
      break;
    }
  }

  if (Object.keys(runs).length === 0) {
    io.stderr.write('interrupted before the first run: nothing was measured\n');
    return { report: emptyReport(target, settings, startedAt), exitCode: EXIT.interrupted };
  }

  const report: AttackReport = {
    target,
    sku: settings.sku,
    stock: settings.stock,
    requests: settings.requests,
    connections: settings.connections,
    users: settings.users,
    startedAt,
    runs,
    safeHeld: safeHeld(runs),
    ...(options.fleet ? { fleet: options.fleet } : {}),
  };
  options.observer?.finished(report);
  const style = { color: shouldColor(io.stdout, io.env) };
  io.stdout.write(`\n${formatTable(report, style)}\n${formatVerdict(report, style)}`);
  if (settings.jsonFile !== undefined) {
    writeFile(settings.jsonFile, `${JSON.stringify(report, null, 2)}\n`);
    io.stdout.write(`wrote ${settings.jsonFile}\n`);
  }
  if (settings.reportFile !== undefined) {
    writeFile(settings.reportFile, renderHtmlReport(report));
    io.stdout.write(`wrote ${settings.reportFile}\n`);
  }

  const lost = Object.values(runs).some((run) => run.targetLost !== undefined);
  const exitCode = options.signal?.aborted
    ? EXIT.interrupted
    : lost
      ? EXIT.usage
      : report.safeHeld === false
        ? EXIT.broken
        : EXIT.ok;
  return { report, exitCode };
}

/**
 * One Ctrl-C under `npm run` can arrive twice: the terminal sends SIGINT to the whole foreground process
 * group, npm included, and npm forwards the one it got to its child, which is this process when the script
 * shell execs it (bash does, dash does not). A second signal this soon after the first is that same Ctrl-C;
 * a person pressing again on purpose takes longer.
 */
export const SAME_CTRL_C_MS = 1000;

/**
 * Ctrl-C (or SIGTERM) once: stop the run under way and report what it measured. Again, later than
 * SAME_CTRL_C_MS: leave now. Returns the signal the runs watch, and a function that removes the handlers.
 */
export function interruptOnSigint(
  io: Io,
  cleanupHint: string,
  /** last resort on the second Ctrl-C, synchronous: kill what would otherwise outlive this process */
  onForcedExit: () => void = () => undefined,
): { signal: AbortSignal; dispose(): void } {
  const controller = new AbortController();
  let firstAt: number | undefined;
  const onSigint = (): void => {
    const now = performance.now();
    if (firstAt !== undefined) {
      if (now - firstAt < SAME_CTRL_C_MS) return;
      io.stderr.write('\ninterrupted twice: exiting now\n');
      onForcedExit();
      process.exit(EXIT.interrupted);
    }
    firstAt = now;
    io.stderr.write(`\ninterrupted: ${cleanupHint} (Ctrl-C again to exit at once)\n`);
    controller.abort();
  };
  // SIGTERM (a CI job cancelled, `kill`) deserves the same clean stop as Ctrl-C.
  process.on('SIGINT', onSigint);
  process.on('SIGTERM', onSigint);
  return {
    signal: controller.signal,
    dispose: () => {
      process.off('SIGINT', onSigint);
      process.off('SIGTERM', onSigint);
    },
  };
}
