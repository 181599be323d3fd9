import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import autocannon from 'autocannon';
import { Pool } from 'pg';
import { migrate } from '../../app/postgres/migrations';
import { UsageError, formatHelp, parseOptions } from '../cli-options';
import type { OptionSpec } from '../cli-options';
import { startPostgres } from '../local/postgres-server';
import type { LocalPostgres } from '../local/postgres-server';
import { startRedis } from '../local/redis-server';
import type { LocalRedis } from '../local/redis-server';
import { median } from './report';
import { benchServiceEnv, builtEntry, startServer } from './servers';
import type { ServerProcess } from './servers';

/**
 * `npm run bench:export`: can the order pipeline keep up with a sale? In each round, the safe purchase
 * rate of one instance, measured with autocannon; then the export rate of one order worker draining the
 * orders that storm left in Redis into PostgreSQL; and the ratio of the two, against the target of 2×
 * (a backlog then shrinks while a sale goes on). Last, one storm with the worker running beside it: the
 * backlog left when the storm ends, and how long it takes to drain.
 *
 * Private Redis and PostgreSQL, PostgreSQL with its default durability (fsync on): figures a deployment
 * can compare with. Everything compiled, each server in its own process; the load comes from this one.
 */
const EXPORT_BENCH_OPTIONS: readonly OptionSpec[] = [
  {
    name: 'rounds',
    type: 'integer',
    default: 3,
    min: 1,
    max: 100,
    help: 'rounds of (purchase storm, then export of its orders)',
  },
  { name: 'duration', type: 'integer', default: 8, min: 1, max: 600, help: 'seconds of each purchase storm' },
  {
    name: 'connections',
    type: 'integer',
    default: 100,
    min: 1,
    max: 10_000,
    help: 'autocannon connections of each storm',
  },
  { name: 'json', type: 'string', placeholder: 'FILE', help: 'also write every measurement as JSON' },
  { name: 'help', aliases: ['h'], type: 'flag', help: 'show this help' },
];

function exportBenchHelp(): string {
  return formatHelp('Usage: npm run bench:export -- [options]', EXPORT_BENCH_OPTIONS);
}

export interface ExportBenchOptions {
  readonly rounds: number;
  readonly duration: number;
  readonly connections: number;
  readonly json: string | undefined;
  readonly help: boolean;
}

/** Parses the command line with the harness's parser; throws UsageError naming the option. */
export function parseExportBenchArgs(argv: readonly string[]): ExportBenchOptions {
  const values = parseOptions(EXPORT_BENCH_OPTIONS, argv);
  return {
    rounds: values.rounds as number,
    duration: values.duration as number,
    connections: values.connections as number,
    json: values.json as string | undefined,
    help: values.help === true,
  };
}

interface Round {
  readonly round: number;
  readonly purchases: number;
  readonly purchasesPerSecond: number;
  readonly purchaseErrors: number;
  readonly exportSeconds: number;
  readonly exportPerSecond: number;
  readonly ratio: number;
}

interface Concurrent {
  readonly purchases: number;
  readonly purchasesPerSecond: number;
  /** orders not yet in PostgreSQL when the storm ended */
  readonly backlogAtEnd: number;
  readonly drainedSecondsAfterEnd: number;
}

const log = (line: string): void => {
  process.stderr.write(`${line}\n`);
};

function storm(url: string, sku: string, connections: number, seconds: number): Promise<autocannon.Result> {
  return new Promise((resolve, reject) => {
    autocannon(
      {
        url: `${url}/purchase/safe`,
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ sku, quantity: 1 }),
        connections,
        duration: seconds,
        timeout: 10,
      },
      (error: Error | null, result: autocannon.Result) => {
        if (error) reject(error);
        else resolve(result);
      },
    );
  });
}

const ok = (result: autocannon.Result): number => result.statusCodeStats?.['200']?.count ?? 0;

async function rows(pool: Pool, sku: string): Promise<number> {
  const { rows: found } = await pool.query<{ n: string }>('SELECT count(*) AS n FROM orders WHERE sku = $1', [
    sku,
  ]);
  return Number(found[0]?.n ?? 0);
}

/**
 * Polls until PostgreSQL holds `count` orders of `sku`. Returns the seconds from `since`
 * (performance.now()) to the last one, and the export rate from the first row seen to the last: the
 * worker's start-up (process, connections) is not part of its rate.
 */
async function drained(
  pool: Pool,
  sku: string,
  count: number,
  since: number,
): Promise<{ seconds: number; perSecond: number }> {
  const deadline = Date.now() + 600_000;
  let first: { at: number; rows: number } | undefined;
  for (;;) {
    const found = await rows(pool, sku);
    const now = performance.now();
    if (found > 0 && first === undefined) first = { at: now, rows: found };
    if (found >= count) {
      const span = first && now > first.at ? (now - first.at) / 1000 : (now - since) / 1000;
      const exported = first && now > first.at ? count - first.rows : count;
      return { seconds: (now - since) / 1000, perSecond: exported / span };
    }
    if (Date.now() > deadline)
      throw new Error(`the worker did not export ${count} orders of ${sku} in 10 minutes`);
    await sleep(10);
  }
}

async function run(options: ExportBenchOptions): Promise<void> {
  const mainEntry = builtEntry('app/main.js');
  const workerEntry = builtEntry('app/worker.js');
  const adminToken = randomBytes(24).toString('hex');
  const loadStart = loadavg();
  let redis: LocalRedis | undefined;
  let postgres: LocalPostgres | undefined;
  let pool: Pool | undefined;
  const servers: ServerProcess[] = [];
  try {
    [redis, postgres] = await Promise.all([
      startRedis({ ownProcessGroup: true }),
      startPostgres({ ownProcessGroup: true }),
    ]);
    pool = new Pool({ connectionString: postgres.url, max: 2 });
    await migrate(pool);
    const service = await startServer(
      'service',
      mainEntry,
      { ...benchServiceEnv(redis.url, adminToken), LOG_LEVEL: 'warn' },
      { nodeFlags: [], readyPath: '/health', readyStatus: 200 },
    );
    servers.push(service);
    const workerEnv = {
      NODE_ENV: 'production',
      LOG_LEVEL: 'warn',
      REDIS_URL: redis.url,
      DATABASE_URL: postgres.url,
    };
    const startWorker = (): Promise<ServerProcess> =>
      startServer('order worker', workerEntry, workerEnv, {
        nodeFlags: [],
        readyPath: '/health/live',
        readyStatus: 200,
      });

    const cpu = cpus();
    log(
      `machine: ${cpu[0]?.model ?? 'unknown'}, ${cpu.length} cores, ${Math.round(totalmem() / 2 ** 30)} GiB, node ${process.version}; load average ${loadStart.map((l) => l.toFixed(2)).join(' ')}`,
    );

    const restock = async (sku: string): Promise<void> => {
      const res = await fetch(`${service.url}/stock/reset?sku=${sku}&amount=100000000`, {
        method: 'POST',
        headers: { authorization: `Bearer ${adminToken}` },
      });
      if (res.status !== 200) throw new Error(`restocking ${sku} answered ${res.status}`);
    };

    // warm the service up (JIT, connections), unmeasured
    await restock('bench-export-warmup');
    await storm(service.url, 'bench-export-warmup', options.connections, 2);

    const rounds: Round[] = [];
    for (let round = 1; round <= options.rounds; round += 1) {
      const sku = `bench-export-${round}`;
      await restock(sku);
      const result = await storm(service.url, sku, options.connections, options.duration);
      const purchases = ok(result);
      const started = performance.now();
      const worker = await startWorker();
      const { seconds: exportSeconds, perSecond: exportPerSecond } = await drained(
        pool,
        sku,
        purchases,
        started,
      );
      await worker.stop();
      const purchasesPerSecond = purchases / result.duration;
      const measured: Round = {
        round,
        purchases,
        purchasesPerSecond,
        purchaseErrors: result.errors + result.non2xx,
        exportSeconds,
        exportPerSecond,
        ratio: exportPerSecond / purchasesPerSecond,
      };
      rounds.push(measured);
      log(
        `round ${round}: purchases ${purchasesPerSecond.toFixed(0)}/s (${purchases} in ${result.duration} s), export ${exportPerSecond.toFixed(0)} orders/s (all in PostgreSQL ${exportSeconds.toFixed(2)} s after the worker was started): ${measured.ratio.toFixed(2)}×`,
      );
    }

    // the sale with the worker beside it, as it runs in a deployment: does the backlog stay small?
    const sku = 'bench-export-concurrent';
    await restock(sku);
    const worker = await startWorker();
    servers.push(worker);
    const result = await storm(service.url, sku, options.connections, options.duration);
    const endedAt = performance.now();
    const purchases = ok(result);
    const backlogAtEnd = purchases - (await rows(pool, sku));
    const concurrent: Concurrent = {
      purchases,
      purchasesPerSecond: purchases / result.duration,
      backlogAtEnd,
      drainedSecondsAfterEnd: (await drained(pool, sku, purchases, endedAt)).seconds,
    };
    const loadEnd = loadavg();

    const ratios = rounds.map((r) => r.ratio);
    process.stdout.write(
      [
        '',
        `npm run bench:export -- --rounds ${options.rounds} --duration ${options.duration} --connections ${options.connections}`,
        `load average at start ${loadStart.map((l) => l.toFixed(2)).join(' ')}, at end ${loadEnd.map((l) => l.toFixed(2)).join(' ')}`,
        '',
        '| round | purchases/s (one instance) | orders exported/s (one worker) | export ÷ purchases |',
        '|------:|---------------------------:|-------------------------------:|-------------------:|',
        ...rounds.map(
          (r) =>
            `| ${r.round} | ${r.purchasesPerSecond.toFixed(0)} | ${r.exportPerSecond.toFixed(0)} | ${r.ratio.toFixed(2)}× |`,
        ),
        `| median | ${median(rounds.map((r) => r.purchasesPerSecond)).toFixed(0)} | ${median(rounds.map((r) => r.exportPerSecond)).toFixed(0)} | ${median(ratios).toFixed(2)}× (${Math.min(...ratios).toFixed(2)}–${Math.max(...ratios).toFixed(2)}) |`,
        '',
        `target: export ≥ 2× the purchase rate: ${median(ratios) >= 2 ? 'met' : 'NOT met'}`,
        `with the worker running during a ${options.duration} s storm: ${concurrent.purchasesPerSecond.toFixed(0)} purchases/s, ${concurrent.backlogAtEnd} of ${concurrent.purchases} orders not yet in PostgreSQL when it ended, all in ${concurrent.drainedSecondsAfterEnd.toFixed(2)} s later`,
        '',
      ].join('\n'),
    );
    if (options.json) {
      writeFileSync(
        options.json,
        `${JSON.stringify({ options, loadAverage: { start: loadStart, end: loadEnd }, rounds, concurrent }, null, 2)}\n`,
      );
      log(`wrote ${options.json}`);
    }
  } finally {
    await Promise.all(servers.map((server) => server.stop()));
    await pool?.end();
    await Promise.all([redis?.stop(), postgres?.stop()]);
  }
}

if (require.main === module) {
  let options: ExportBenchOptions;
  try {
    options = parseExportBenchArgs(process.argv.slice(2));
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(`bench:export: ${error.message}\nRun with --help for the options.\n`);
    process.exit(2);
  }
  if (options.help) {
    process.stdout.write(exportBenchHelp());
    process.exit(0);
  }
  run(options).then(
    () => process.exit(0),
    (error: unknown) => {
      process.stderr.write(
        `bench:export: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
      );
      process.exit(1);
    },
  );
}
