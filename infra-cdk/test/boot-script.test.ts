import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { BOOT_SCRIPT_FILE, renderScript } from '../lib/boot-script';
import { synthesize } from './synth';
import type { Synthesized } from './synth';

const SCRIPT = fs.readFileSync(BOOT_SCRIPT_FILE, 'utf8');
/** the script's retry function, as the instance runs it */
const RETRY = /^retry\(\) \{\n[\s\S]*?\n\}$/m.exec(SCRIPT)?.[0] ?? '';

/**
 * Runs `retry ATTEMPTS WHAT COMMAND` in bash with a command that fails `failures` times, then succeeds.
 * sleep is replaced by a function that only logs how long it was asked to wait, so no test waits.
 */
function runRetry(attempts: number, failures: number) {
  const counter = fs.mkdtempSync('/tmp/flash-sale-retry-');
  const program = [
    'set -euo pipefail',
    'sleep() { echo "sleep $1" >&2; }',
    RETRY,
    `flaky() { local n; n=$(( $(cat ${counter}/n 2>/dev/null || echo 0) + 1 )); echo "$n" > ${counter}/n; [ "$n" -gt ${failures} ]; }`,
    `retry ${attempts} 'flaky thing' flaky`,
    'echo after',
  ].join('\n');
  try {
    const result = spawnSync('bash', ['-c', program], { encoding: 'utf8' });
    return {
      status: result.status,
      stderr: result.stderr.trim().split('\n'),
      stdout: result.stdout.trim(),
      calls: Number(fs.readFileSync(`${counter}/n`, 'utf8')),
    };
  } finally {
    fs.rmSync(counter, { recursive: true, force: true });
  }
}

describe('the boot script, a shell file (infra-cdk/assets/boot.sh)', () => {
  it('when shellcheck lints it, then it finds nothing', () => {
    const version = spawnSync('shellcheck', ['--version'], { encoding: 'utf8' });
    if (version.error !== undefined || version.status !== 0) {
      throw new Error(
        'shellcheck is not installed: apt-get install shellcheck (Debian/Ubuntu) or brew install shellcheck (macOS)',
      );
    }
    const result = spawnSync('shellcheck', ['--shell=bash', BOOT_SCRIPT_FILE], { encoding: 'utf8' });
    expect(result.stdout).toBe('');
    expect(result.status).toBe(0);
  });

  it('when a command fails twice and then succeeds, then retry logs each attempt, waits 5 then 10 s, and goes on', () => {
    expect(RETRY).not.toBe('');
    const run = runRetry(5, 2);
    expect(run.status).toBe(0);
    expect(run.calls).toBe(3);
    expect(run.stdout).toBe('after');
    expect(run.stderr).toEqual([
      'flaky thing: attempt 1 of 5',
      'flaky thing: attempt 1 failed, next in 5 s',
      'sleep 5',
      'flaky thing: attempt 2 of 5',
      'flaky thing: attempt 2 failed, next in 10 s',
      'sleep 10',
      'flaky thing: attempt 3 of 5',
    ]);
  });

  it('when a command always fails, then retry stops after its attempts, with waits capped at 30 s, and the script exits non-zero', () => {
    const run = runRetry(6, 1_000);
    expect(run.status).not.toBe(0);
    expect(run.calls).toBe(6);
    expect(run.stdout).toBe('');
    expect(run.stderr.filter((line) => line.startsWith('sleep '))).toEqual([
      'sleep 5',
      'sleep 10',
      'sleep 20',
      'sleep 30',
      'sleep 30',
    ]);
    expect(run.stderr.at(-1)).toBe('flaky thing: failed 6 times, giving up');
  });

  it('when rendered, then a placeholder without a value, or a value without a placeholder, is refused', () => {
    expect(renderScript('echo @A@ @B@', { A: '1', B: '2' })).toBe('echo 1 2');
    expect(() => renderScript('echo @A@ @B@', { A: '1' })).toThrow(/no value for @B@/);
    expect(() => renderScript('echo @A@', { A: '1', C: '3' })).toThrow(/no placeholder for C/);
    expect(renderScript('#!/bin/bash\n## why\n# shellcheck disable=SC1000\n# kept\nls', {})).toBe(
      '# kept\nls',
    );
  });
});

describe('the stack with default context', () => {
  let s: Synthesized;
  beforeAll(() => {
    s = synthesize();
  });
  afterAll(() => {
    s.dispose();
  });

  it('when the instances boot, then dnf, IMDS, every secret read, the ECR login and docker pull are retried', () => {
    const lines = s.userData.split('\n');
    const retried = (pattern: RegExp) => lines.filter((line) => pattern.test(line));
    expect(retried(/^retry 5 '[^']+' dnf install -y /)).toHaveLength(2);
    expect(retried(/^INSTANCE_ID=\$\(retry 5 '[^']+' imds instance-id\)$/)).toHaveLength(1);
    expect(retried(/^[A-Z_]+=\$\(retry 5 '[^']+' secret '/)).toHaveLength(4);
    expect(retried(/^retry 5 '[^']+' ecr_login$/)).toHaveLength(1);
    expect(retried(/^retry 5 'docker pull' docker pull "\$IMAGE"$/)).toHaveLength(1);
    // nothing fetched from the network outside a retry
    expect(lines.filter((line) => /^(dnf|docker pull|aws |[A-Z_]+=\$\(secret)/.test(line))).toEqual([]);
  });

  it('when rendered into user data, then no placeholder and no ## line is left', () => {
    expect(s.userData).not.toMatch(/@[A-Z][A-Z0-9_]*@/);
    expect(s.userData).not.toMatch(/^\s*##/m);
  });
});
