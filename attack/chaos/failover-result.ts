/**
 * The figures of the failover act: one run per REDIS_WAIT_REPLICAS setting, each a safe storm during
 * which the Redis primary is killed. Times are milliseconds since the storm's first request.
 */
export interface FailoverRun {
  readonly waitReplicas: number;
  readonly stock: number;
  readonly durationMs: number;
  /** purchases answered 200 */
  readonly answered200: number;
  /** orders of the sale in the new primary's log afterwards */
  readonly ordersInLog: number;
  /** answered 200, and missing from the log afterwards: acknowledged writes the failover lost */
  readonly lostAcknowledged: number;
  /**
   * in the log, never answered 200: purchases answered 503 whose write did happen (the outcome unknown,
   * or no replica confirmed it in time); a buyer who retries with the Idempotency-Key gets that order
   */
  readonly inLogNotAnswered200: number;
  /** max(0, max(200s, units in the log) − stock) */
  readonly oversold: number;
  /** stock = left + units in the log, and never below zero */
  readonly conserved: boolean;
  readonly stockLeft: number;
  /** 503 answers from the kill to the end of the storm */
  readonly unavailableDuringFailover: number;
  /** every answer by status ('0': no HTTP answer) */
  readonly statuses: Readonly<Record<string, number>>;
  readonly answersByInstance: Readonly<Record<string, number>>;
  readonly killedAtMs: number | null;
  readonly promotedAtMs: number | null;
  /** the first 200 after the first failed answer that followed the kill */
  readonly recoveredAtMs: number | null;
  readonly timeline: FailoverTimeline;
}

/** answers per time bucket since the first request */
export interface FailoverTimeline {
  readonly bucketMs: number;
  readonly ok: readonly number[];
  readonly unavailable: readonly number[];
  readonly other: readonly number[];
}

export interface FailoverReport {
  readonly startedAt: string;
  readonly instances: number;
  readonly connections: number;
  /** the replica stopped receiving this long before the primary was killed */
  readonly replicationCutMs: number;
  readonly runs: readonly FailoverRun[];
}

/** One answer of the storm. */
export interface StormAnswer {
  /** ms since the storm's first request */
  readonly at: number;
  /** 0: no HTTP answer (refused, reset, timed out) */
  readonly status: number;
  readonly orderId?: string;
  readonly instance: string;
}

const TIMELINE_BUCKET_MS = 250;

export function timelineOf(answers: readonly StormAnswer[], durationMs: number): FailoverTimeline {
  const size = Math.max(1, Math.ceil(durationMs / TIMELINE_BUCKET_MS));
  const ok = new Array<number>(size).fill(0);
  const unavailable = new Array<number>(size).fill(0);
  const other = new Array<number>(size).fill(0);
  for (const answer of answers) {
    const i = Math.min(size - 1, Math.floor(answer.at / TIMELINE_BUCKET_MS));
    const bucket = answer.status === 200 ? ok : answer.status === 503 ? unavailable : other;
    bucket[i] = (bucket[i] ?? 0) + 1;
  }
  return { bucketMs: TIMELINE_BUCKET_MS, ok, unavailable, other };
}

/** the first 200 after the first failed answer at or after `killedAtMs`; null if sales never resumed */
export function recoveredAt(answers: readonly StormAnswer[], killedAtMs: number): number | null {
  const firstFailure = answers.find((answer) => answer.at >= killedAtMs && answer.status !== 200);
  if (!firstFailure) return null;
  return answers.find((answer) => answer.at > firstFailure.at && answer.status === 200)?.at ?? null;
}

/** What the log holds afterwards, set against what the storm was told. */
export function failoverFigures(input: {
  readonly waitReplicas: number;
  readonly stock: number;
  readonly durationMs: number;
  readonly answers: readonly StormAnswer[];
  readonly logOrderIds: ReadonlySet<string>;
  readonly unitsInLog: number;
  readonly stockLeft: number;
  readonly killedAtMs: number | null;
  readonly promotedAtMs: number | null;
}): FailoverRun {
  const statuses: Record<string, number> = {};
  const answersByInstance: Record<string, number> = {};
  let answered200 = 0;
  const answeredIds = new Set<string>();
  let lostAcknowledged = 0;
  let unavailableDuringFailover = 0;
  for (const answer of input.answers) {
    statuses[answer.status] = (statuses[answer.status] ?? 0) + 1;
    answersByInstance[answer.instance] = (answersByInstance[answer.instance] ?? 0) + 1;
    if (answer.status === 200) {
      answered200 += 1;
      if (answer.orderId !== undefined) answeredIds.add(answer.orderId);
      if (answer.orderId === undefined || !input.logOrderIds.has(answer.orderId)) lostAcknowledged += 1;
    }
    if (answer.status === 503 && input.killedAtMs !== null && answer.at >= input.killedAtMs) {
      unavailableDuringFailover += 1;
    }
  }
  return {
    waitReplicas: input.waitReplicas,
    stock: input.stock,
    durationMs: input.durationMs,
    answered200,
    ordersInLog: input.logOrderIds.size,
    lostAcknowledged,
    inLogNotAnswered200: [...input.logOrderIds].filter((id) => !answeredIds.has(id)).length,
    oversold: Math.max(0, Math.max(answered200, input.unitsInLog) - input.stock),
    conserved: input.stockLeft >= 0 && input.stockLeft + input.unitsInLog === input.stock,
    stockLeft: input.stockLeft,
    unavailableDuringFailover,
    statuses,
    answersByInstance,
    killedAtMs: input.killedAtMs,
    promotedAtMs: input.promotedAtMs,
    recoveredAtMs: input.killedAtMs === null ? null : recoveredAt(input.answers, input.killedAtMs),
    timeline: timelineOf(input.answers, input.durationMs),
  };
}

/**
 * The act's verdict: no oversell and the stock adds up in both runs, and with WAIT no acknowledged
 * order lost. Without WAIT a loss is what the act shows, not a failure.
 */
export function failoverHeld(report: FailoverReport): boolean {
  return report.runs.every(
    (run) => run.oversold === 0 && run.conserved && (run.waitReplicas === 0 || run.lostAcknowledged === 0),
  );
}
