import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { bootScript, DB_CA_IN_CONTAINER } from '../lib/boot-script';
import { shutdownTiming, TARGET_HEALTH_CHECK } from '../lib/graceful-shutdown';
import { IMAGE_CONTEXT, REPO_ROOT } from '../lib/service-image';
import { loadConfig } from '../../app/config';
import { SAMPLE_DATABASE_URL } from './synth';

describe('the target group health check (every 5 s, unhealthy after 2 failures)', () => {
  const timing = shutdownTiming(TARGET_HEALTH_CHECK);

  it('when the service drains, then /health stays 503 longer than the ALB needs to notice', () => {
    const detectionMs = TARGET_HEALTH_CHECK.intervalSeconds * TARGET_HEALTH_CHECK.unhealthyThreshold * 1000;
    expect(timing.drainMs).toBeGreaterThan(detectionMs);
  });

  it('when a target is deregistered, then the delay covers drain plus the in-flight timeout', () => {
    expect(timing.deregistrationDelaySeconds * 1000).toBeGreaterThanOrEqual(
      timing.drainMs + timing.timeoutMs,
    );
    expect(timing).toEqual({
      drainMs: 12_000,
      timeoutMs: 10_000,
      deregistrationDelaySeconds: 22,
      dockerStopTimeoutSeconds: 27,
    });
  });

  it('when Docker stops the container, then it waits longer than the graceful stop before SIGKILL', () => {
    expect(timing.dockerStopTimeoutSeconds).toBeGreaterThan(timing.deregistrationDelaySeconds);
  });

  it('when the health check times out, then it does so within one interval, as the ALB requires', () => {
    expect(TARGET_HEALTH_CHECK.timeoutSeconds).toBeLessThan(TARGET_HEALTH_CHECK.intervalSeconds);
  });
});

describe('the boot script rendered with sample values', () => {
  const script = [
    '#!/bin/bash',
    ...bootScript({
      region: 'us-east-1',
      imageUri: '123456789012.dkr.ecr.us-east-1.amazonaws.com/repo:tag',
      logGroupName: 'FlashSale-FleetContainerLogs',
      servicePort: 3000,
      adminTokenSecretArn: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:admin-AbCdEf',
      redisAuthTokenSecretArn: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:auth-AbCdEf',
      redisConnectionSecretArn: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:conn-AbCdEf',
      redisEndpoint: 'master.flash-sale.abc123.use1.cache.amazonaws.com:6379',
      databaseSecretArn: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:db-AbCdEf',
      databaseEndpoint: 'flashsale.abc123.us-east-1.rds.amazonaws.com:5432',
      databaseName: 'flashsale',
      unsafeEndpoint: false,
      waitReplicas: 0,
      shutdown: shutdownTiming(),
      healthyWithinSeconds: 600,
    }),
  ].join('\n');

  it('when bash parses it, then there is no syntax error', () => {
    const result = spawnSync('bash', ['-n'], { input: script, encoding: 'utf8' });
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
  });

  it('when it runs, then it stops at the first failing command and never traces (tokens would reach the log)', () => {
    expect(script.split('\n')[1]).toBe('set -euo pipefail');
    expect(script).not.toMatch(/set -\w*x/);
  });

  it('when it waits for the service, then it gives up after the boot deadline with a failing exit code', () => {
    expect(script).toContain('for attempt in $(seq 1 120); do');
    expect(script.trimEnd().endsWith('exit 1')).toBe(true);
  });

  /** Runs the script's retry function on a command; returns the exit status, stderr and the seconds slept. */
  const runRetry = (attempts: number, command: string) => {
    const retry = script.slice(
      script.indexOf('retry() {'),
      script.indexOf('\n}\n', script.indexOf('retry() {')) + 3,
    );
    const result = spawnSync(
      'bash',
      [
        '-c',
        [
          'set -euo pipefail',
          // the waits are recorded, not slept
          'sleep() { echo "slept $1" >&2; }',
          retry,
          `retry ${attempts} 'the thing' ${command}`,
        ].join('\n'),
      ],
      { encoding: 'utf8' },
    );
    const slept = [...result.stderr.matchAll(/^slept (\d+)$/gm)].map((m) => Number(m[1]));
    return { status: result.status, stderr: result.stderr, slept };
  };

  it('when a retried command keeps failing, then each attempt is logged, the waits back off, and the boot fails', () => {
    const run = runRetry(5, 'false');
    expect(run.status).not.toBe(0);
    expect(run.stderr).toContain('the thing: attempt 1 of 5');
    expect(run.stderr).toContain('the thing: attempt 5 of 5');
    expect(run.stderr).toContain('the thing: failed 5 times, giving up');
    expect(run.slept).toEqual([5, 10, 20, 30]);
  });

  it('when a retried command succeeds, then retry stops there and succeeds', () => {
    const run = runRetry(5, 'true');
    expect(run.status).toBe(0);
    expect(run.stderr).toContain('the thing: attempt 1 of 5');
    expect(run.stderr).not.toContain('attempt 2');
    expect(run.slept).toEqual([]);
  });

  it('when the CA bundle and the migrations are fetched and run, then each is retried a bounded number of times', () => {
    expect(script).toContain("retry 5 'download the RDS CA bundle' fetch_rds_ca");
    expect(script).toContain("retry 6 'database migrations' docker run --rm");
  });

  /** Runs the script's DATABASE_URL line (jq, as on the instance) on a secret: the URL, or the failure. */
  const databaseUrlFrom = (secret: Record<string, unknown>) => {
    const line = script.split('\n').find((l) => l.startsWith('DATABASE_URL=$(jq ')) ?? 'missing';
    return spawnSync(
      'bash',
      [
        '-c',
        `set -euo pipefail; DATABASE_SECRET=$1; ${line}; printf '%s' "$DATABASE_URL"`,
        'bash',
        JSON.stringify(secret),
      ],
      { encoding: 'utf8' },
    );
  };

  it('when jq builds DATABASE_URL from the RDS secret, then user and password are URL-encoded and TLS is verified', () => {
    // every character RDS's generated passwords may hold that means something in a URL
    const password = 'a,b=c^d.e-f_g;h';
    const result = databaseUrlFrom({
      username: 'flash sale',
      password,
      engine: 'postgres',
      host: 'flashsale.abc123.us-east-1.rds.amazonaws.com',
      port: 5432,
      dbInstanceIdentifier: 'flashsale',
    });
    expect(result.stderr).toBe('');
    const url = new URL(result.stdout);
    expect(url.protocol).toBe('postgres:');
    expect(decodeURIComponent(url.username)).toBe('flash sale');
    expect(decodeURIComponent(url.password)).toBe(password);
    expect(url.host).toBe('flashsale.abc123.us-east-1.rds.amazonaws.com:5432');
    expect(url.pathname).toBe('/flashsale');
    expect(url.searchParams.get('sslmode')).toBe('verify-full');
    expect(url.searchParams.get('sslrootcert')).toBe(DB_CA_IN_CONTAINER);
    expect(loadConfig({ DATABASE_URL: result.stdout }).database?.url).toBe(result.stdout);
  });

  it('when jq builds DATABASE_URL, then it has the form the stack tests feed the service', () => {
    const sample = new URL(SAMPLE_DATABASE_URL);
    const result = databaseUrlFrom({
      username: decodeURIComponent(sample.username),
      password: decodeURIComponent(sample.password),
      host: sample.hostname,
      port: Number(sample.port),
    });
    expect(result.stdout).toBe(SAMPLE_DATABASE_URL);
  });

  it('when the secret has no host yet, then the boot stops, and the error does not show the password', () => {
    const result = databaseUrlFrom({ username: 'flashsale', password: 'do-not-print-me' });
    expect(result.status).not.toBe(0);
    // (the secret lacks both: jq names whichever part of the URL it evaluates first)
    expect(result.stderr).toMatch(/the database secret has no (host|port)/);
    expect(result.stderr).not.toContain('do-not-print-me');
  });
});

describe('the repository Dockerfile', () => {
  const dockerfile = fs.readFileSync(path.join(REPO_ROOT, 'Dockerfile'), 'utf8');

  it('when it copies from the build context, then every source is in the image asset context', () => {
    const sources = dockerfile
      .split('\n')
      .filter((line) => /^COPY\s/.test(line) && !line.includes('--from='))
      .flatMap((line) => line.trim().split(/\s+/).slice(1, -1))
      .filter((word) => !word.startsWith('--'))
      .map((source) => source.replace(/^\.\//, '').replace(/\/$/, ''));
    expect(sources.length).toBeGreaterThan(0);
    for (const source of sources) expect(IMAGE_CONTEXT).toContain(source);
  });

  it('when it runs, then it listens on PORT 3000, the port the target group sends to', () => {
    expect(dockerfile).toMatch(/ENV .*PORT=3000/);
    expect(dockerfile).toMatch(/HEALTHCHECK .*\/health\/live/s);
  });
});
