import type { Mode } from './attack-options';

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
  /** max(0, sold − stock): units promised to buyers that never existed */
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
  /** the demo adds how it ran the fleet */
  readonly fleet?: { readonly instances: number; readonly unsafeDelayMs: number; readonly redis: string };
}

/**
 * The exit code's question: did the safe run sell at most its stock, with stock = final + units in the log?
 * null when there was no safe run to judge, or it could not be read back.
 */
export function safeHeld(runs: AttackReport['runs']): boolean | null {
  const safe = runs.safe;
  if (!safe || safe.conserved === null) return null;
  return safe.sold <= safe.stock && safe.conserved;
}
