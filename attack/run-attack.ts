import type { IncomingHttpHeaders } from 'node:http';
import autocannon from 'autocannon';
import type { AttackSettings, Mode } from './attack-options';
import { readBackFigures } from './run-result';
import type { RunResult } from './run-result';
import { TargetError, readStock, resetStock } from './service-client';
import type { StockReading } from './service-client';

/** one endpoint's run: the attack's settings for one mode against one target */
export type RunSettings = Pick<
  AttackSettings,
  'sku' | 'stock' | 'requests' | 'connections' | 'users' | 'adminToken' | 'timeoutSeconds'
> & {
  readonly target: string;
  readonly mode: Mode;
};

/** Live counters, for the progress line and the live page. */
export interface RunProgress {
  readonly mode: Mode;
  readonly requests: number;
  readonly answered: number;
  readonly sold: number;
  readonly soldOut: number;
  readonly failed: number;
  readonly elapsedMs: number;
  /** units on sale at the start */
  readonly stock: number;
  /** the stock the latest 200 said was left (`remaining`); null before the first sale */
  readonly stockLeft: number | null;
  /** 200s in the last second */
  readonly salesPerSecond: number;
  /** over the latest answers (RECENT_ANSWERS), so that the figures move with the run */
  readonly latencyMs: { readonly p50: number; readonly p95: number; readonly p99: number };
  /** every answer so far per instance (X-Instance-Id) */
  readonly answersByInstance: Readonly<Record<string, number>>;
}

/** how many of the latest answers the live latency percentiles cover */
const RECENT_ANSWERS = 1000;

export interface RunHooks {
  /** called about ten times a second while the run fires */
  readonly onProgress?: (progress: RunProgress) => void;
  /** the run can be stopped early (Ctrl-C): it then reports what it measured so far */
  readonly signal?: AbortSignal;
}

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return 0;
  const index = Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1);
  return Math.round((sorted[Math.max(0, index)] ?? 0) * 100) / 100;
}

/** A bucket size that gives the sales-over-time chart a few dozen bars, whatever the run's length. */
export function bucketSizeFor(durationMs: number): number {
  const sizes = [10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10_000];
  return sizes.find((size) => durationMs / size <= 60) ?? 60_000;
}

function bucketize(soldAtMs: readonly number[], durationMs: number): RunResult['timeline'] {
  const bucketMs = bucketSizeFor(durationMs);
  const sold = new Array<number>(Math.max(1, Math.ceil(durationMs / bucketMs))).fill(0);
  for (const at of soldAtMs) {
    const index = Math.min(sold.length - 1, Math.floor(at / bucketMs));
    sold[index] = (sold[index] ?? 0) + 1;
  }
  return { bucketMs, sold };
}

/** a response header, whatever its case; 'unknown' when absent */
export function headerValue(headers: Record<string, unknown>, name: string): string {
  for (const [key, value] of Object.entries(headers)) {
    if (key.toLowerCase() === name) return Array.isArray(value) ? String(value[0]) : String(value);
  }
  return 'unknown';
}

/** one member of a JSON answer, when the body is JSON and the member has the type asked for */
export function answerField(body: string, name: string, type: 'string'): string | undefined;
export function answerField(body: string, name: string, type: 'number'): number | undefined;
export function answerField(body: string, name: string, type: 'string' | 'number'): unknown {
  try {
    const value = (JSON.parse(body) as Record<string, unknown>)[name];
    return typeof value === type ? value : undefined;
  } catch {
    return undefined;
  }
}

/** 200s within the last second of `nowMs`, counted from the end of the (ordered) sale times */
function salesInLastSecond(soldAtMs: readonly number[], nowMs: number): number {
  let count = 0;
  for (let i = soldAtMs.length - 1; i >= 0 && (soldAtMs[i] ?? 0) > nowMs - 1000; i -= 1) count += 1;
  return count;
}

const increment = (counts: Record<string, number>, key: string): void => {
  counts[key] = (counts[key] ?? 0) + 1;
};

/**
 * One run against one endpoint: reset the SKU to `stock`, fire `requests` purchases over `connections`
 * keep-alive connections with autocannon, read the stock and the order log back, and compute the figures.
 * Throws TargetError when the reset or the read-back fails (except after an interruption, where the
 * read-back is best effort: in the demo, Ctrl-C reaches Redis too).
 */
export async function runAttack(settings: RunSettings, hooks: RunHooks = {}): Promise<RunResult> {
  await resetStock(settings.target, settings.sku, settings.stock, settings.adminToken);

  const endpoint = `/purchase/${settings.mode}`;
  const statuses: Record<string, number> = {};
  const errors: Record<string, number> = {};
  const soldByInstance: Record<string, number> = {};
  const answersByInstance: Record<string, number> = {};
  const soldAtMs: number[] = [];
  const latencies: number[] = [];
  let sold = 0;
  let stockLeft: number | null = null;
  let soldOut = 0;
  let failed = 0;
  let started = 0;
  // autocannon hands its result over on its next sampling tick (once a second), not at the last answer:
  // the run's duration ends at the last answer (or transport error) instead
  let lastAnswerAt = 0;

  // With users, each purchase names the next user round-robin: a body per request (setupRequest).
  // Without, one body for all, built once.
  const fixedBody = JSON.stringify({ sku: settings.sku });
  let nextUser = 0;
  const setupRequest =
    settings.users > 0
      ? (request: autocannon.Request): autocannon.Request => {
          const userId = `user-${nextUser % settings.users}`;
          nextUser += 1;
          return { ...request, body: JSON.stringify({ sku: settings.sku, userId }) };
        }
      : undefined;

  const onResponse = (
    status: number,
    body: string,
    _context: object,
    headers: IncomingHttpHeaders | undefined,
  ): void => {
    lastAnswerAt = Date.now();
    const instance = headerValue(headers ?? {}, 'x-instance-id');
    increment(answersByInstance, instance);
    increment(statuses, String(status));
    if (status === 200) {
      sold += 1;
      stockLeft = answerField(body, 'remaining', 'number') ?? stockLeft;
      soldAtMs.push(Date.now() - started);
      increment(soldByInstance, instance);
    } else if (status === 409 && answerField(body, 'code', 'string') === 'sold_out') {
      soldOut += 1;
    } else {
      failed += 1;
      increment(errors, String(status));
    }
  };

  let transportErrors = 0;
  const report = (elapsedMs = Date.now() - started): void => {
    if (!hooks.onProgress) return;
    const recent = Float64Array.from(latencies.slice(-RECENT_ANSWERS)).sort();
    hooks.onProgress({
      mode: settings.mode,
      requests: settings.requests,
      answered: sold + soldOut + failed,
      sold,
      soldOut,
      failed: failed + transportErrors,
      elapsedMs,
      stock: settings.stock,
      stockLeft,
      salesPerSecond: salesInLastSecond(soldAtMs, elapsedMs),
      latencyMs: { p50: percentile(recent, 50), p95: percentile(recent, 95), p99: percentile(recent, 99) },
      answersByInstance: { ...answersByInstance },
    });
  };
  started = Date.now();
  const ticker = setInterval(report, 100);
  report();
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon(
      {
        url: `${settings.target}${endpoint}`,
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: fixedBody,
        amount: settings.requests,
        connections: settings.connections,
        timeout: settings.timeoutSeconds,
        requests: [{ ...(setupRequest ? { setupRequest } : {}), onResponse }],
      },
      (error: Error | null, outcome: autocannon.Result) => {
        clearInterval(ticker);
        hooks.signal?.removeEventListener('abort', stop);
        if (error) reject(error);
        else resolve(outcome);
      },
    );
    instance.on('response', (_client: unknown, _status: number, _bytes: number, responseTime: number) => {
      latencies.push(responseTime);
    });
    const stop = (): void => {
      instance.stop();
    };
    instance.on('reqError', (error: NodeJS.ErrnoException) => {
      lastAnswerAt = Date.now();
      transportErrors += 1;
      // nothing listens at the target any more: the rest of the run would only count refusals
      if (error.code === 'ECONNREFUSED') stop();
    });
    hooks.signal?.addEventListener('abort', stop, { once: true });
    if (hooks.signal?.aborted) stop();
  });
  const durationMs = (lastAnswerAt > 0 ? lastAnswerAt : Date.now()) - started;
  // the last progress line shows the run's duration, as the table will
  report(durationMs);
  const interrupted = hooks.signal?.aborted === true;

  let reading: StockReading | undefined;
  let targetLost: string | undefined;
  try {
    reading = await readStock(settings.target, settings.sku);
  } catch (error) {
    // a target that dropped connections during the run and cannot be read now went away: what was
    // measured is still the run's, as after Ctrl-C
    if (!(error instanceof TargetError) || (!interrupted && transportErrors + result.errors === 0))
      throw error;
    if (!interrupted) targetLost = error.message;
  }

  const sorted = Float64Array.from(latencies).sort();
  const answered = sold + soldOut + failed;
  const stock = settings.stock;
  const figures = readBackFigures(stock, sold, reading);
  return {
    sold,
    soldOut,
    errors,
    finalStock: figures.finalStock,
    orders: figures.orders,
    oversold: figures.oversold,
    lostUpdates: figures.lostUpdates,
    durationMs,
    requestsPerSecond: durationMs > 0 ? Math.round((answered / durationMs) * 1000) : 0,
    latencyMs: {
      p50: percentile(sorted, 50),
      p95: percentile(sorted, 95),
      p99: percentile(sorted, 99),
      max: percentile(sorted, 100),
    },
    mode: settings.mode,
    endpoint,
    stock,
    sent: result.requests.sent,
    answered,
    transportErrors: Math.max(transportErrors, result.errors),
    timeouts: result.timeouts,
    unitsInLog: figures.unitsInLog,
    statuses,
    conserved: figures.conserved,
    soldByInstance,
    answersByInstance,
    timeline: bucketize(soldAtMs, durationMs),
    interrupted,
    ...(targetLost === undefined ? {} : { targetLost }),
  };
}
