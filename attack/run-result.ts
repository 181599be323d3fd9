import type { Mode } from './attack-options';
import type { StockReading } from './service-client';

/**
 * The figures of one run (one endpoint). The first block is the JSON contract of issue 3
 * (`R = {sold, soldOut, errors, finalStock, orders, oversold, lostUpdates, durationMs, requestsPerSecond,
 * latencyMs}`); the rest is extra detail for the table and the HTML report.
 */
export interface RunResult {
  /** 200 answers */
  readonly sold: number;
  /** 409 answers with code sold_out */
  readonly soldOut: number;
  /** every other answer, by status ("409" here means limit_exceeded and the like, not sold_out) */
  readonly errors: Record<string, number>;
  /** stock read back after the run; null when it could not be read (interrupted demo) */
  readonly finalStock: number | null;
  /** entries in the SKU's order log */
  readonly orders: number | null;
  /**
   * max(0, max(sold, unitsInLog) − stock): units sold that never existed. The log counts too: a 200 lost to
   * a client timeout is still a sale, so the answers alone can say less than was sold.
   */
  readonly oversold: number;
  /** sold − (stock − finalStock): sales whose decrement another request overwrote */
  readonly lostUpdates: number | null;
  readonly durationMs: number;
  readonly requestsPerSecond: number;
  readonly latencyMs: {
    readonly p50: number;
    readonly p95: number;
    readonly p99: number;
    readonly max: number;
  };

  readonly mode: Mode;
  readonly endpoint: string;
  readonly stock: number;
  /** requests autocannon sent, and answers it received */
  readonly sent: number;
  readonly answered: number;
  /** no HTTP answer: refused or reset connections, timeouts (timeouts counted in both) */
  readonly transportErrors: number;
  readonly timeouts: number;
  /** units in the order log (Σ quantity); conservation is stock = finalStock + unitsInLog */
  readonly unitsInLog: number | null;
  /** every answer by status */
  readonly statuses: Record<string, number>;
  /** stock = finalStock + unitsInLog; null when it could not be read back */
  readonly conserved: boolean | null;
  /** 200s per instance (X-Instance-Id) */
  readonly soldByInstance: Record<string, number>;
  /** every answer per instance */
  readonly answersByInstance: Record<string, number>;
  /** 200s per time bucket since the first request */
  readonly timeline: { readonly bucketMs: number; readonly sold: readonly number[] };
  /** stopped by Ctrl-C before every request was sent */
  readonly interrupted: boolean;
  /** the target stopped answering during the run: why its stock could not be read back */
  readonly targetLost?: string;
  /** the system of record after the run, when the demo runs the order pipeline */
  readonly systemOfRecord?: SystemOfRecordCheck;
}

/** `npm run verify` for the run's SKU, once its orders reached PostgreSQL */
export interface SystemOfRecordCheck {
  /** orders of the run's sale */
  readonly orders: number;
  /** of those, in PostgreSQL */
  readonly inPostgres: number;
  /** still on their way when the check gave up waiting */
  readonly backlog: number;
  /** verify's findings: none means Redis and PostgreSQL agree and the sale adds up */
  readonly findings: readonly { readonly kind: string; readonly orderId?: string; readonly detail: string }[];
}

/** What `--json` writes: `{target, sku, stock, requests, connections, runs: {unsafe?, safe?}}` and more. */
export interface AttackReport {
  readonly target: string;
  readonly sku: string;
  readonly stock: number;
  readonly requests: number;
  readonly connections: number;
  readonly users: number;
  readonly startedAt: string;
  readonly runs: { unsafe?: RunResult; safe?: RunResult };
  /** the verdict the exit code reports */
  readonly safeHeld: boolean | null;
  /** the demo adds how it ran the fleet; `postgres` says where the orders went, if anywhere */
  readonly fleet?: {
    readonly instances: number;
    readonly unsafeDelayMs: number;
    readonly redis: string;
    readonly postgres?: string;
  };
}

/**
 * The exit code's question, the design's invariants 1 and 2: did the safe run sell at most its stock, by its
 * answers and by its order log, leave the stock at zero or above, and keep stock = final + units in the log?
 * The log and the final stock are checked, not only the 200s: answers lost to client timeouts hide sales.
 * null when there was no safe run to judge, or it could not be read back.
 */
export function safeHeld(runs: AttackReport['runs']): boolean | null {
  const safe = runs.safe;
  if (!safe || safe.conserved === null || safe.finalStock === null || safe.unitsInLog === null) return null;
  // with the order pipeline: every order of the run in PostgreSQL, once, as Redis logged it
  const recorded = safe.systemOfRecord === undefined || verified(safe.systemOfRecord);
  return (
    safe.sold <= safe.stock &&
    safe.unitsInLog <= safe.stock &&
    safe.finalStock >= 0 &&
    safe.conserved &&
    recorded
  );
}

export function verified(check: SystemOfRecordCheck): boolean {
  return check.findings.length === 0 && check.backlog === 0 && check.inPostgres === check.orders;
}

/** The figures that need the stock read back after a run, beside what its answers said. */
export type ReadBackFigures = Pick<
  RunResult,
  'finalStock' | 'orders' | 'oversold' | 'lostUpdates' | 'unitsInLog' | 'conserved'
>;

export function readBackFigures(
  stock: number,
  sold: number,
  reading: StockReading | undefined,
): ReadBackFigures {
  return {
    finalStock: reading?.currentStock ?? null,
    orders: reading?.orders ?? null,
    oversold: Math.max(0, Math.max(sold, reading?.unitsInLog ?? 0) - stock),
    lostUpdates: reading ? sold - (stock - reading.currentStock) : null,
    unitsInLog: reading?.unitsInLog ?? null,
    conserved: reading ? stock === reading.currentStock + reading.unitsInLog : null,
  };
}
