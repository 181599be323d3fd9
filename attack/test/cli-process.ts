import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { join } from 'node:path';

export const ROOT = join(__dirname, '..', '..');

export interface CliRun {
  readonly child: ChildProcess;
  /** everything written so far */
  stdout(): string;
  stderr(): string;
  /** resolves with the exit code (null when killed by a signal) */
  readonly exited: Promise<number | null>;
}

/**
 * Runs one of the CLIs as `npm run` would (ts-node, transpile only) in its own process, so that exit
 * codes and the cleanup on exit are the real ones.
 */
export function runCli(
  script: 'attack' | 'demo',
  args: readonly string[],
  env: Record<string, string>,
): CliRun {
  const child = spawn(
    process.execPath,
    ['-r', 'ts-node/register/transpile-only', join(ROOT, 'attack', `${script}.ts`), ...args],
    { cwd: ROOT, env: { ...process.env, NO_COLOR: '1', ...env }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  let err = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => {
    child.once('close', (code) => {
      resolve(code);
    });
  });
  return { child, stdout: () => out, stderr: () => err, exited };
}
