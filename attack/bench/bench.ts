import { writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { randomBytes } from 'node:crypto';
import autocannon from 'autocannon';
import { Redis } from 'ioredis';
import { startRedis } from '../local/redis-server';
import type { LocalRedis } from '../local/redis-server';
import { interruptOnSigint } from '../run-session';
import { UsageError } from '../cli-options';
import { benchHelp, parseBenchArgs } from './options';
import type { BenchOptions } from './options';
import { formatSummary, SCENARIOS, summarize } from './report';
import type { Measurement, ScenarioName } from './report';
import { benchServiceEnv, builtEntry, startServer } from './servers';
import type { ServerProcess } from './servers';

/**
 * `npm run bench`: the bare Express route (the ceiling), the safe purchase with the full middleware
 * stack, the unsafe purchase, and purchases of a sold-out SKU, alternating within each round, against
 * one private Redis. The servers run compiled, each in its own process; the load comes from this one.
 */

/** large enough that no safe or unsafe round can sell out: every answer must be a 200 */
const PLENTY = 100_000_000;
const SKU = { safe: 'bench-safe', unsafe: 'bench-unsafe', soldOut: 'bench-sold-out' } as const;

interface Scenario {
  readonly name: ScenarioName;
  readonly target: 'bare' | 'app';
  readonly path: string;
  readonly sku: string;
  /** the only status a correct answer may have here */
  readonly expected: number;
  /** stock this scenario's SKU is reset to before each of its measurements (none: left as it is) */
  readonly restockTo?: number;
}

const SCENARIO: Record<ScenarioName, Scenario> = {
  bare: { name: 'bare', target: 'bare', path: '/purchase/safe', sku: 'bench-bare', expected: 200 },
  safe: {
    name: 'safe',
    target: 'app',
    path: '/purchase/safe',
    sku: SKU.safe,
    expected: 200,
    restockTo: PLENTY,
  },
  unsafe: {
    name: 'unsafe',
    target: 'app',
    path: '/purchase/unsafe',
    sku: SKU.unsafe,
    expected: 200,
    restockTo: PLENTY,
  },
  'sold-out': { name: 'sold-out', target: 'app', path: '/purchase/safe', sku: SKU.soldOut, expected: 409 },
};

interface Context {
  readonly options: BenchOptions;
  readonly redis: Redis;
  readonly servers: Record<'bare' | 'app', ServerProcess>;
  readonly adminToken: string;
}

let current: autocannon.Instance | undefined;
let interrupted = false;
/** read through a call: a signal handler sets it, which control-flow analysis cannot see */
const stopRequested = (): boolean => interrupted;
/** what a forced exit (a second Ctrl-C) must not leave running: the servers and Redis are their own groups */
const killOnForcedExit = new Set<() => void>();

const log = (line: string): void => {
  process.stderr.write(`${line}\n`);
};

interface RedisCalls {
  /** every command Redis ran (those inside scripts included) but our INFO */
  readonly commands: number;
  /** scripts run: EVALSHA and EVAL, i.e. purchase round trips */
  readonly scripts: number;
}

async function redisCalls(redis: Redis): Promise<RedisCalls> {
  const info = await redis.info('commandstats');
  let commands = 0;
  let scripts = 0;
  for (const match of info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) {
    const calls = Number(match[2]);
    if (match[1] !== 'info') commands += calls;
    if (match[1] === 'evalsha' || match[1] === 'eval') scripts += calls;
  }
  return { commands, scripts };
}

async function restock(ctx: Context, sku: string, amount: number): Promise<void> {
  const res = await fetch(`${ctx.servers.app.url}/stock/reset?sku=${sku}&amount=${amount}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${ctx.adminToken}` },
  });
  if (res.status !== 200) throw new Error(`restocking ${sku} answered ${res.status}: ${await res.text()}`);
}

function fire(url: string, connections: number, seconds: number, body: string): Promise<autocannon.Result> {
  return new Promise((resolve, reject) => {
    current = autocannon(
      {
        url,
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
        connections,
        duration: seconds,
        timeout: 10,
      },
      (error: Error | null, result: autocannon.Result) => {
        current = undefined;
        if (error) reject(error);
        else resolve(result);
      },
    );
  });
}

async function measure(
  ctx: Context,
  scenario: Scenario,
  round: number,
  connections: number,
  seconds: number,
): Promise<Measurement> {
  if (scenario.restockTo !== undefined) await restock(ctx, scenario.sku, scenario.restockTo);
  const load1 = loadavg()[0] ?? 0;
  const server = ctx.servers[scenario.target];
  const before = await redisCalls(ctx.redis);
  const cpuBefore = server.cpuMs();
  const result = await fire(
    `${ctx.servers[scenario.target].url}${scenario.path}`,
    connections,
    seconds,
    JSON.stringify({ sku: scenario.sku, quantity: 1 }),
  );
  const cpuAfter = server.cpuMs();
  const after = await redisCalls(ctx.redis);
  const statuses: Record<string, number> = {};
  for (const [status, stat] of Object.entries(result.statusCodeStats ?? {})) {
    statuses[status] = stat.count ?? 0;
  }
  const responses = Object.values(statuses).reduce((sum, n) => sum + n, 0);
  const unexpected = responses - (statuses[String(scenario.expected)] ?? 0);
  return {
    scenario: scenario.name,
    round,
    connections,
    seconds: result.duration,
    responses,
    rps: responses / result.duration,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    maxMs: result.latency.max,
    errors: result.errors + unexpected,
    statuses,
    redisCommandsPerResponse: responses > 0 ? (after.commands - before.commands) / responses : 0,
    serverCpuUsPerResponse:
      cpuBefore === undefined || cpuAfter === undefined || responses === 0
        ? undefined
        : ((cpuAfter - cpuBefore) * 1000) / responses,
    redisScriptsPerResponse: responses > 0 ? (after.scripts - before.scripts) / responses : 0,
    load1,
  };
}

function describe(m: Measurement): string {
  const where = m.round > 0 ? `round ${m.round}` : `${m.connections} conns`;
  return `${where.padEnd(10)} ${m.scenario.padEnd(9)} ${m.rps.toFixed(0).padStart(6)} req/s  p50 ${m.p50Ms.toFixed(1)} ms  p99 ${m.p99Ms.toFixed(1)} ms  errors ${m.errors}  cpu ${m.serverCpuUsPerResponse?.toFixed(0) ?? '-'} µs/req  redis scripts/req ${m.redisScriptsPerResponse.toFixed(2)} cmds/req ${m.redisCommandsPerResponse.toFixed(2)}  load ${m.load1.toFixed(2)}`;
}

function machine(): Record<string, string | number> {
  const cpu = cpus();
  return {
    cpu: cpu[0]?.model ?? 'unknown',
    cores: cpu.length,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
  };
}

async function run(options: BenchOptions): Promise<number> {
  const appEntry = builtEntry('app/main.js');
  const bareEntry = builtEntry('attack/bench/bare-server.js');
  const loadStart = loadavg();
  const started = new Date();
  const measurements: Measurement[] = [];
  const adminToken = randomBytes(24).toString('hex');
  const nodeFlags: string[] = [];
  if (options.cpuProf) log(`profiling the service into ${options.cpuProf}: figures are not comparable`);

  let localRedis: LocalRedis | undefined;
  let redis: Redis | undefined;
  const started_: ServerProcess[] = [];
  try {
    // its own process group, as the servers: Ctrl-C in the terminal must not stop it under the bench
    localRedis = await startRedis({ ownProcessGroup: true });
    killOnForcedExit.add(localRedis.kill);
    redis = new Redis(localRedis.url, { maxRetriesPerRequest: 1 });
    const redisVersion = /redis_version:(\S+)/.exec(await redis.info('server'))?.[1] ?? 'unknown';
    const app = await startServer(
      'service',
      appEntry,
      {
        ...benchServiceEnv(localRedis.url, adminToken),
        LOG_LEVEL: 'info',
        UNSAFE_ENDPOINT: 'on',
        UNSAFE_DELAY_MS: '0',
      },
      {
        nodeFlags: options.cpuProf
          ? [...nodeFlags, '--cpu-prof', `--cpu-prof-dir=${options.cpuProf}`]
          : nodeFlags,
        readyPath: '/health',
        readyStatus: 200,
      },
    );
    started_.push(app);
    killOnForcedExit.add(app.kill);
    const bare = await startServer(
      'bare route',
      bareEntry,
      {},
      { nodeFlags, readyPath: '/purchase/safe', readyStatus: 200 },
    );
    started_.push(bare);
    killOnForcedExit.add(bare.kill);
    const ctx: Context = { options, redis, servers: { app, bare }, adminToken };
    await restock(ctx, SKU.soldOut, 0);

    log(
      `machine: ${Object.values(machine()).join(', ')}; redis ${redisVersion}; load average ${loadStart.map((l) => l.toFixed(2)).join(' ')}`,
    );
    const seconds =
      (options.warmup + options.rounds * options.duration) * SCENARIOS.length +
      (options.bigConnections > 0 ? 3 * options.duration : 0);
    log(
      `about ${Math.ceil(seconds / 60)} min: ${options.rounds} rounds × ${SCENARIOS.length} scenarios × ${options.duration} s`,
    );

    if (options.warmup > 0) {
      for (const name of SCENARIOS) {
        if (stopRequested()) break;
        await measure(ctx, SCENARIO[name], -1, options.connections, options.warmup);
      }
    }
    for (let round = 1; round <= options.rounds && !stopRequested(); round += 1) {
      for (const name of SCENARIOS) {
        if (stopRequested()) break;
        const m = await measure(ctx, SCENARIO[name], round, options.connections, options.duration);
        measurements.push(m);
        log(describe(m));
      }
    }
    if (options.bigConnections > 0) {
      for (const name of ['bare', 'safe', 'sold-out'] as const) {
        if (stopRequested()) break;
        const m = await measure(ctx, SCENARIO[name], 0, options.bigConnections, options.duration);
        measurements.push(m);
        log(describe(m));
      }
    }
    const summary = summarize(measurements.filter((m) => m.round >= 0));
    const loadEnd = loadavg();
    const text = formatSummary(summary, options.connections);
    process.stdout.write(
      [
        '',
        `npm run bench -- --rounds ${options.rounds} --duration ${options.duration} --connections ${options.connections} --big-connections ${options.bigConnections}${interrupted ? '   (interrupted)' : ''}`,
        `machine: ${Object.values(machine()).join(', ')}; redis ${redisVersion}`,
        `load average at start ${loadStart.map((l) => l.toFixed(2)).join(' ')}, at end ${loadEnd.map((l) => l.toFixed(2)).join(' ')}`,
        `medians of ${options.rounds} rounds of ${options.duration} s; × bare = median of the per-round ratios (min–max)`,
        '',
        text,
        '',
      ].join('\n'),
    );
    if (options.json) {
      writeFileSync(
        options.json,
        `${JSON.stringify(
          {
            startedAt: started.toISOString(),
            options,
            interrupted,
            machine: { ...machine(), redis: redisVersion },
            loadAverage: { start: loadStart, end: loadEnd },
            summary,
            measurements,
          },
          null,
          2,
        )}\n`,
      );
      log(`wrote ${options.json}`);
    }
    const wrong = measurements.reduce((sum, m) => sum + m.errors, 0);
    if (wrong > 0) {
      // a scenario answered otherwise than it must measures something else: its figures are not the bench's
      process.stderr.write(
        `bench: ${wrong} answers were errors or not the status their scenario expects (see the errors column); these figures do not measure the service\n`,
      );
      return 1;
    }
    return 0;
  } finally {
    await Promise.all(started_.map((s) => s.stop()));
    redis?.disconnect();
    await localRedis?.stop();
  }
}

if (require.main === module) {
  let options: BenchOptions;
  try {
    options = parseBenchArgs(process.argv.slice(2));
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(`bench: ${error.message}\nRun with --help for the options.\n`);
    process.exit(2);
  }
  if (options.help) {
    process.stdout.write(benchHelp());
    process.exit(0);
  }
  // Ctrl-C stops the measurement under way; what was measured so far is still printed. The same handler
  // as the attack's: one Ctrl-C that npm forwards a second time is still one.
  const interrupt = interruptOnSigint(
    { stdout: process.stdout, stderr: process.stderr, env: process.env },
    'finishing with what was measured',
    () => {
      for (const kill of killOnForcedExit) kill();
    },
  );
  interrupt.signal.addEventListener('abort', () => {
    interrupted = true;
    current?.stop();
  });
  run(options).then(
    (code) => process.exit(code),
    (error: unknown) => {
      process.stderr.write(
        `bench: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
      );
      process.exit(1);
    },
  );
}
