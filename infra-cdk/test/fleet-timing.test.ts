import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { bootScript } from '../lib/boot-script';
import { shutdownTiming, TARGET_HEALTH_CHECK } from '../lib/graceful-shutdown';
import { IMAGE_CONTEXT, REPO_ROOT } from '../lib/service-image';

describe('GIVEN the target group health check (every 5 s, unhealthy after 2 failures)', () => {
  const timing = shutdownTiming(TARGET_HEALTH_CHECK);

  it('WHEN the service drains THEN /health stays 503 longer than the ALB needs to notice', () => {
    const detectionMs = TARGET_HEALTH_CHECK.intervalSeconds * TARGET_HEALTH_CHECK.unhealthyThreshold * 1000;
    expect(timing.drainMs).toBeGreaterThan(detectionMs);
  });

  it('WHEN a target is deregistered THEN the delay covers drain plus the in-flight timeout', () => {
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

  it('WHEN Docker stops the container THEN it waits longer than the graceful stop before SIGKILL', () => {
    expect(timing.dockerStopTimeoutSeconds).toBeGreaterThan(timing.deregistrationDelaySeconds);
  });

  it('WHEN the health check times out THEN it does so within one interval, as the ALB requires', () => {
    expect(TARGET_HEALTH_CHECK.timeoutSeconds).toBeLessThan(TARGET_HEALTH_CHECK.intervalSeconds);
  });
});

describe('GIVEN the boot script rendered with sample values', () => {
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
      unsafeEndpoint: false,
      waitReplicas: 0,
      shutdown: shutdownTiming(),
      healthyWithinSeconds: 600,
    }),
  ].join('\n');

  it('WHEN bash parses it THEN there is no syntax error', () => {
    const result = spawnSync('bash', ['-n'], { input: script, encoding: 'utf8' });
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
  });

  it('WHEN it runs THEN it stops at the first failing command and never traces (tokens would reach the log)', () => {
    expect(script.split('\n')[1]).toBe('set -euo pipefail');
    expect(script).not.toMatch(/set -\w*x/);
  });

  it('WHEN it waits for the service THEN it gives up after the boot deadline with a failing exit code', () => {
    expect(script).toContain('for attempt in $(seq 1 120); do');
    expect(script.trimEnd().endsWith('exit 1')).toBe(true);
  });
});

describe('GIVEN the repository Dockerfile', () => {
  const dockerfile = fs.readFileSync(path.join(REPO_ROOT, 'Dockerfile'), 'utf8');

  it('WHEN it copies from the build context THEN every source is in the image asset context', () => {
    const sources = dockerfile
      .split('\n')
      .filter((line) => /^COPY\s/.test(line) && !line.includes('--from='))
      .flatMap((line) => line.trim().split(/\s+/).slice(1, -1))
      .filter((word) => !word.startsWith('--'))
      .map((source) => source.replace(/^\.\//, '').replace(/\/$/, ''));
    expect(sources.length).toBeGreaterThan(0);
    for (const source of sources) expect(IMAGE_CONTEXT).toContain(source);
  });

  it('WHEN it runs THEN it listens on PORT 3000, the port the target group sends to', () => {
    expect(dockerfile).toMatch(/ENV .*PORT=3000/);
    expect(dockerfile).toMatch(/HEALTHCHECK .*\/health\/live/s);
  });
});
