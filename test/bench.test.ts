import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { loadConfig } from '../app/config';
import { parseExportBenchArgs } from '../attack/bench/export-bench';
import { parseBenchArgs } from '../attack/bench/options';
import { benchServiceEnv } from '../attack/bench/servers';
import { formatSummary, median, summarize } from '../attack/bench/report';
import type { Measurement, ScenarioName } from '../attack/bench/report';

/** The bench's own logic: its command line, and how rounds become medians and paired ratios. */
describe('npm run bench', () => {
  it('when no option is given, then it runs 5 rounds of 8 s at 100 connections and a 1,000-connection pass', () => {
    expect(parseBenchArgs([])).toEqual({
      rounds: 5,
      duration: 8,
      warmup: 2,
      connections: 100,
      bigConnections: 1000,
      json: undefined,
      cpuProf: undefined,
      help: false,
    });
  });

  it('when options are given, long or short, then they are read, and a bad value names the option', () => {
    expect(parseBenchArgs(['-r', '3', '--duration', '5', '--json', 'out.json'])).toMatchObject({
      rounds: 3,
      duration: 5,
      json: 'out.json',
    });
    expect(() => parseBenchArgs(['--rounds', '0'])).toThrow(/--rounds/);
    expect(() => parseBenchArgs(['--duration', 'ten'])).toThrow(/--duration/);
    // digits only: Number() would read these as 0, 0, 16 and 2
    expect(() => parseBenchArgs(['--warmup='])).toThrow(/--warmup/);
    expect(() => parseBenchArgs(['--warmup', ' '])).toThrow(/--warmup/);
    expect(() => parseBenchArgs(['--rounds', '0x10'])).toThrow(/--rounds/);
    expect(() => parseBenchArgs(['--rounds', '2e0'])).toThrow(/--rounds/);
    expect(() => parseBenchArgs(['--nope'])).toThrow();
  });

  it('when the service is started, then it runs as in production but admits every request of the one address the load comes from', () => {
    const config = loadConfig(benchServiceEnv('redis://127.0.0.1:1', 'a'.repeat(32)));
    expect(config.env).toBe('production');
    // production's per-address limit would answer 429 after 100 requests a minute: the bench would measure that
    expect(config.admission).toMatchObject({ perUser: 0, perIp: 0 });
  });

  const m = (scenario: ScenarioName, round: number, rps: number): Measurement => ({
    scenario,
    round,
    connections: 100,
    seconds: 1,
    responses: rps,
    rps,
    p50Ms: 10,
    p99Ms: round * 10,
    maxMs: 100,
    errors: 0,
    statuses: {},
    serverCpuUsPerResponse: 100,
    redisCommandsPerResponse: 1,
    redisScriptsPerResponse: 1,
    load1: 1,
  });

  it('when rounds are summed up, then rates and latencies are medians and ratios are medians of same-round ratios', () => {
    const summary = summarize([
      m('bare', 1, 1000),
      m('safe', 1, 900),
      m('sold-out', 1, 1200),
      // a busy round: everything slower, the ratios barely move
      m('bare', 2, 500),
      m('safe', 2, 460),
      m('sold-out', 2, 600),
      m('bare', 3, 1100),
      m('safe', 3, 1000),
      m('sold-out', 3, 1300),
    ]);
    const safe = summary.scenarios.find((s) => s.scenario === 'safe');
    expect(safe).toMatchObject({ rounds: 3, rps: 900, p99Ms: 20 });
    expect(safe?.ratioToBare).toBeCloseTo(0.909, 3);
    expect(safe?.ratioToBareRange).toEqual([0.9, 0.92]);
    expect(summary.soldOutToSafe).toBeCloseTo(1.3, 2);
    expect(formatSummary(summary, 100)).toContain('| safe ');
    expect(median([3, 1, 2, 10])).toBe(2.5);
  });
});

describe('npm run bench:export', () => {
  it('when no option is given, then it runs 3 rounds of 8 s storms at 100 connections', () => {
    expect(parseExportBenchArgs([])).toEqual({
      rounds: 3,
      duration: 8,
      connections: 100,
      json: undefined,
      help: false,
    });
  });

  it('when a value is not a whole number in range, then it names the option', () => {
    expect(parseExportBenchArgs(['--rounds', '5', '--json', 'x.json'])).toMatchObject({
      rounds: 5,
      json: 'x.json',
    });
    expect(() => parseExportBenchArgs(['--rounds', '0'])).toThrow(/--rounds/);
    expect(() => parseExportBenchArgs(['--duration', '1e1'])).toThrow(/--duration/);
    expect(() => parseExportBenchArgs(['--connections', ''])).toThrow(/--connections/);
    expect(() => parseExportBenchArgs(['--nope'])).toThrow();
  });

  it('when asked for --help, then it answers from the sources, without building', () => {
    const result = spawnSync('npm', ['run', 'bench', '--', '--help'], {
      cwd: join(__dirname, '..'),
      encoding: 'utf8',
    });
    expect(result.status).toBe(0);
    expect(result.stdout).toContain('Usage: npm run bench -- [options]');
    // npm prints a banner for every script it runs: the build's would be there
    expect(result.stdout).not.toContain('flash-sale@0.1.0 build');
  });
});
