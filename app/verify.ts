import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import type { SkuReport } from './domain/reconcile';
import { commonEnvShape } from './env/common-env';
import { requiredDatabaseEnvShape, toDatabaseSettings } from './env/database-env';
import { ConfigError, parseEnv } from './env/parse-env';
import { checkRedisEnv, redisEnvShape, toRedisSettings } from './env/redis-env';
import { verifyOrders } from './pipeline/verify-orders';
import type { VerifyResult } from './pipeline/verify-orders';
import { isDatabaseUnavailable, messageOf } from './postgres/errors';
import { PostgresOrderArchive } from './postgres/order-archive';
import { createPool } from './postgres/pool';
import { createRedisClient } from './redis/client';
import { wholeNumber } from './whole-number';
import { RedisOrderLogReader } from './redis/order-log-reader';

/**
 * `npm run verify`: proves that Redis and PostgreSQL agree. For each SKU: the sale adds up in Redis
 * (stocked = remaining + Σ quantities), every order Redis logged is in PostgreSQL once and the same,
 * PostgreSQL holds no order Redis never logged, and nobody holds more than the per-user limit.
 * Exit 0: everything holds; 1: a drift (each one named); 2: it could not check (the reason).
 */
export const EXIT = { ok: 0, drift: 1, cannotRun: 2 } as const;

const OPTIONS = {
  sku: { type: 'string', multiple: true, short: 's' },
  json: { type: 'string' },
  'wait-ms': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

export const HELP = `npm run verify -- [options]

Checks that Redis and PostgreSQL agree on every order (env REDIS_URL, DATABASE_URL, as the service).

  -s, --sku SKU     check this SKU only (repeat for more); default: every SKU of the catalogue
      --wait-ms N   wait up to N ms for orders still on their way to PostgreSQL (default 10000)
      --json FILE   also write the result as JSON
  -h, --help        this text

Exit: 0 everything holds, 1 a drift (named below the table), 2 could not check.
`;

export interface VerifyArgs {
  readonly skus: string[];
  readonly json: string | undefined;
  readonly waitMs: number;
  readonly help: boolean;
}

export class UsageError extends Error {}

const WAIT_MS = wholeNumber(0, 3_600_000);

export function parseVerifyArgs(argv: readonly string[]): VerifyArgs {
  let parsed;
  try {
    parsed = parseArgs({ args: [...argv], options: OPTIONS, strict: true, allowPositionals: false });
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
  const wait = WAIT_MS.safeParse(parsed.values['wait-ms'] ?? '10000');
  if (!wait.success) {
    throw new UsageError(`--wait-ms must be a whole number of ms, not "${parsed.values['wait-ms'] ?? ''}"`);
  }
  return {
    skus: parsed.values.sku ?? [],
    json: parsed.values.json,
    waitMs: wait.data,
    help: parsed.values.help ?? false,
  };
}

const envSchema = z
  .object({ ...commonEnvShape, ...redisEnvShape, ...requiredDatabaseEnvShape })
  .superRefine(checkRedisEnv);

const saleStart = (sale: number): string => (sale > 0 ? new Date(sale).toISOString() : '-');

export function formatTable(result: VerifyResult): string {
  const header = [
    'sku',
    'sale started',
    'stocked',
    'remaining',
    'sold',
    'orders',
    'in PostgreSQL',
    'backlog',
    'result',
  ];
  const rows = result.reports.map((r: SkuReport) => [
    r.sku,
    saleStart(r.sale),
    String(r.stocked),
    String(r.remaining),
    String(r.sold),
    String(r.orders),
    String(r.inPostgres),
    String(r.backlog),
    r.findings.length === 0 ? 'ok' : `DRIFT (${r.findings.length})`,
  ]);
  const widths = header.map((title, i) =>
    Math.max(title.length, ...rows.map((row) => (row[i] ?? '').length)),
  );
  const line = (cells: string[]): string =>
    cells
      .map((cell, i) => (i < 2 ? cell.padEnd(widths[i] ?? 0) : cell.padStart(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  const findings = result.reports.flatMap((r) =>
    r.findings.map((f) => `  ${r.sku}: ${f.kind}${f.orderId ? ` ${f.orderId}` : ''}: ${f.detail}`),
  );
  return [line(header), ...rows.map(line), ...(findings.length > 0 ? ['', 'drift:', ...findings] : [])].join(
    '\n',
  );
}

export function summary(result: VerifyResult): string {
  const drifting = result.reports.filter((r) => r.findings.length > 0);
  const orders = result.reports.reduce((sum, r) => sum + r.orders, 0);
  const backlog = result.reports.reduce((sum, r) => sum + r.backlog, 0);
  const waiting =
    backlog > 0 ? `; ${backlog} orders still on their way to PostgreSQL after ${result.waitedMs} ms` : '';
  if (drifting.length > 0) {
    const count = drifting.reduce((sum, r) => sum + r.findings.length, 0);
    return `verify: DRIFT: ${count} finding(s) in ${drifting.length} of ${result.reports.length} SKU(s)${waiting}`;
  }
  if (result.reports.length === 0) return 'verify: ok: the catalogue in Redis is empty, nothing to check';
  return `verify: ok: ${result.reports.length} SKU(s), ${orders} orders in their current sales, Redis and PostgreSQL agree${waiting}`;
}

export async function main(
  argv: readonly string[],
  env: NodeJS.ProcessEnv,
  out: NodeJS.WritableStream,
  err: NodeJS.WritableStream,
): Promise<number> {
  let args: VerifyArgs;
  let settings;
  try {
    args = parseVerifyArgs(argv);
    if (args.help) {
      out.write(HELP);
      return EXIT.ok;
    }
    settings = parseEnv(envSchema, env);
  } catch (error) {
    if (error instanceof UsageError || error instanceof ConfigError) {
      err.write(`verify: ${error.message}\n`);
      return EXIT.cannotRun;
    }
    throw error;
  }
  const database = toDatabaseSettings(settings);
  const redis = createRedisClient(toRedisSettings(settings), { commandTimeout: 10_000 });
  redis.on('error', () => undefined);
  const pool = createPool(database, 'flash-sale verify');
  try {
    try {
      await redis.connect();
    } catch (error) {
      err.write(`verify: cannot reach Redis (${messageOf(error)})\n`);
      return EXIT.cannotRun;
    }
    let result: VerifyResult;
    try {
      // PostgreSQL is asked first, so that a catalogue with nothing to compare cannot hide its absence
      await pool.query('SELECT 1 FROM orders LIMIT 1');
      result = await verifyOrders(new RedisOrderLogReader(redis), new PostgresOrderArchive(pool), {
        skus: args.skus,
        waitMs: args.waitMs,
      });
    } catch (error) {
      const message = messageOf(error);
      if ((error as { code?: unknown }).code === '42P01') {
        err.write('verify: PostgreSQL has no orders table: run `npm run migrate` first\n');
      } else if (isDatabaseUnavailable(error)) {
        err.write(`verify: cannot reach PostgreSQL (${message})\n`);
      } else {
        err.write(`verify: cannot check (${message})\n`);
      }
      return EXIT.cannotRun;
    }
    if (result.unknown.length > 0) {
      err.write(`verify: no such SKU in Redis: ${result.unknown.join(', ')}\n`);
      return EXIT.cannotRun;
    }
    out.write(`${formatTable(result)}\n\n${summary(result)}\n`);
    const ok = result.reports.every((r) => r.findings.length === 0);
    if (args.json) {
      writeFileSync(
        args.json,
        `${JSON.stringify({ ok, checkedAt: new Date().toISOString(), waitedMs: result.waitedMs, skus: result.reports }, null, 2)}\n`,
      );
    }
    return ok ? EXIT.ok : EXIT.drift;
  } finally {
    redis.disconnect();
    await pool.end().catch(() => undefined);
  }
}

if (require.main === module) {
  void main(process.argv.slice(2), process.env, process.stdout, process.stderr).then((code) => {
    process.exitCode = code;
  });
}
