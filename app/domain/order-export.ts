import { setTimeout as sleep } from 'node:timers/promises';
import type { OrderRecord } from './types';

/**
 * The order pipeline: each SKU's order log in Redis is an outbox, drained into the system of record.
 *
 * Exactly once, whatever dies on the way, from three rules:
 * - an entry is acknowledged only after the transaction that wrote it has committed, so an entry whose
 *   worker died is still pending, and is claimed by another worker once it has been idle long enough;
 * - the write skips an order already there (by its id), so a redelivered entry is written once;
 * - entries are trimmed from Redis only once acknowledged (and older than the retention).
 * docs/reliability.md walks through each failure.
 */
export interface OutboxEntry {
  readonly sku: string;
  readonly entryId: string;
  readonly order: OrderRecord;
}

export interface Backlog {
  /** entries not yet acknowledged: never delivered, or delivered and not yet written */
  readonly pending: number;
  /** when the oldest of them was taken; null when none is pending */
  readonly oldest: Date | null;
}

/** The outbox side (Redis): one consumer group over every SKU's order log. */
export interface OrderOutbox {
  /** every SKU of the catalogue */
  skus(): Promise<string[]>;
  /** makes sure the SKU's log has our consumer group; idempotent */
  join(sku: string): Promise<void>;
  /** up to `count` entries no consumer of the group has been given yet, now given to this one */
  readNew(sku: string, count: number): Promise<OutboxEntry[]>;
  /** up to `count` entries given to a consumer that has not acknowledged them for `minIdleMs`: a dead one */
  claimStale(sku: string, minIdleMs: number, count: number): Promise<OutboxEntry[]>;
  acknowledge(sku: string, entryIds: readonly string[]): Promise<void>;
  /** removes acknowledged entries taken before `before`; returns how many */
  trimExported(sku: string, before: Date): Promise<number>;
  backlog(sku: string): Promise<Backlog>;
}

/** The system of record's side (PostgreSQL). */
export interface OrderSink {
  /** writes the batch in one transaction, skipping orders already there; returns the rows written */
  insert(orders: readonly OrderRecord[]): Promise<number>;
}

export type ExportStage = 'catalogue' | 'read' | 'claim' | 'write' | 'acknowledge' | 'trim' | 'backlog';

/** What the exporter reports: metrics and logs hang off this. */
export interface ExportObserver {
  /** a batch committed: `written` new rows, `skipped` already there (redelivered) */
  committed(written: number, skipped: number, seconds: number): void;
  /** entries claimed from a consumer that went quiet */
  redelivered(count: number): void;
  trimmed(count: number): void;
  backlog(bySku: ReadonlyMap<string, Backlog>): void;
  failed(stage: ExportStage, error: unknown): void;
  /** a stage that had failed worked again */
  recovered(stage: ExportStage): void;
}

export interface ExportOptions {
  /** most orders written in one transaction */
  readonly batchSize: number;
  /** how long an entry may stay unacknowledged before another worker takes it over */
  readonly claimIdleMs: number;
  /** how long exported entries stay in Redis (lookups there are one round trip) before they are trimmed */
  readonly retentionMs: number;
  /** the longest pause between two looks at the outbox when it is empty */
  readonly maxIdleWaitMs: number;
  /** how often the backlog is measured */
  readonly backlogEveryMs: number;
  /** Redis commands in flight at once when going over many SKUs */
  readonly concurrency: number;
}

/** SKUs with nothing to export, looked at per pass on top of the busy ones */
const COLD_SKUS_PER_PASS = 512;
const FIRST_IDLE_WAIT_MS = 10;
const MAX_RETRY_WAIT_MS = 5000;
const RETRY_FAILING_STAGE_MS = 1000;

/** Thrown out of a wait when the exporter is told to give up at once. */
class Aborted extends Error {}

async function settle<T>(work: () => Promise<T>): Promise<{ value?: T; error: Error | undefined }> {
  try {
    return { value: await work(), error: undefined };
  } catch (error) {
    return { error: error instanceof Error ? error : new Error(String(error)) };
  }
}

export class OrderExporter {
  private known: string[] = [];
  private readonly joined = new Set<string>();
  /** SKUs that had entries on the last pass: read first on the next */
  private busy = new Set<string>();
  private coldCursor = 0;
  private nextCatalogue = 0;
  private nextClaim = 0;
  private nextTrim = 0;
  private nextBacklog = 0;
  /** failing stages, with the last error of each */
  private readonly failing = new Map<ExportStage, string>();
  /** stages that failed in the pass under way */
  private passFailures = 0;
  /** the time of the last pass that reached the outbox and the sink without an error */
  lastHealthyPassAt: number | undefined;
  /** when the loop last showed it was turning: a pass started, or a failing write was tried again */
  heartbeatAt = 0;

  constructor(
    private readonly outbox: OrderOutbox,
    private readonly sink: OrderSink,
    private readonly options: ExportOptions,
    private readonly observer: ExportObserver,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * Drains the outbox until `stop` is aborted; then finishes the batch in hand (written, acknowledged)
   * and returns. `abort` gives up at once, even in the middle of a write that keeps failing: whatever
   * is in hand stays pending in Redis, for another worker or the next start.
   */
  async run(stop: AbortSignal, abort: AbortSignal): Promise<void> {
    let idleWait = FIRST_IDLE_WAIT_MS;
    while (!stop.aborted && !abort.aborted) {
      let exported: number;
      try {
        exported = await this.pass(abort);
      } catch (error) {
        if (error instanceof Aborted) return;
        throw error;
      }
      if (exported > 0) {
        idleWait = FIRST_IDLE_WAIT_MS;
        continue;
      }
      await this.pause(idleWait, stop);
      idleWait = Math.min(idleWait * 2, this.options.maxIdleWaitMs);
    }
  }

  /** One look at the outbox: claims, reads, writes and acknowledges; returns the orders handled. */
  async pass(abort: AbortSignal = new AbortController().signal): Promise<number> {
    this.heartbeatAt = this.now();
    this.passFailures = 0;
    const now = this.now();
    if (now >= this.nextCatalogue) {
      this.report('catalogue', (await settle(() => this.refreshCatalogue())).error);
      // new SKUs are found within a few idle waits: 2 s with the defaults
      this.nextCatalogue = now + this.retryOr('catalogue', 4 * this.options.maxIdleWaitMs);
    }
    const skus = this.known.filter((sku) => this.joined.has(sku));

    // Entries a failed read of another SKU did not stop are kept: they are ours now, pending until
    // written and acknowledged.
    const entries: OutboxEntry[] = [];
    if (now >= this.nextClaim) {
      const claimed = await this.eachSku(skus, (sku) =>
        this.outbox.claimStale(sku, this.options.claimIdleMs, this.options.batchSize),
      );
      this.report('claim', claimed.error);
      const redelivered = claimed.values.flatMap((found) => found ?? []);
      if (redelivered.length > 0) this.observer.redelivered(redelivered.length);
      entries.push(...redelivered);
      this.nextClaim = now + this.retryOr('claim', Math.max(1000, this.options.claimIdleMs / 2));
    }
    entries.push(...(await this.readNew(skus)));

    for (let i = 0; i < entries.length; i += this.options.batchSize) {
      await this.write(entries.slice(i, i + this.options.batchSize), abort);
    }

    if (now >= this.nextTrim) {
      const before = new Date(now - this.options.retentionMs);
      const trimmed = await this.eachSku(skus, (sku) => this.outbox.trimExported(sku, before));
      this.report('trim', trimmed.error);
      const count = trimmed.values.reduce<number>((sum, n) => sum + (n ?? 0), 0);
      if (count > 0) this.observer.trimmed(count);
      this.nextTrim =
        now + this.retryOr('trim', Math.min(60_000, Math.max(1000, this.options.retentionMs / 10)));
    }
    if (now >= this.nextBacklog) {
      this.report('backlog', (await settle(() => this.measureBacklog(skus))).error);
      this.nextBacklog = now + this.retryOr('backlog', this.options.backlogEveryMs);
    }
    if (this.passFailures === 0) this.lastHealthyPassAt = this.now();
    return entries.length;
  }

  /** the backlog of every SKU, measured now; throws if a SKU could not be measured */
  async measureBacklog(skus: readonly string[] = this.known): Promise<Map<string, Backlog>> {
    const measured = await this.eachSku(skus, (sku) => this.outbox.backlog(sku));
    if (measured.error !== undefined) throw measured.error;
    const bySku = new Map(skus.map((sku, i) => [sku, measured.values[i] as Backlog]));
    this.observer.backlog(bySku);
    return bySku;
  }

  /** the stages failing now */
  get failingStages(): ExportStage[] {
    return [...this.failing.keys()];
  }

  /** the last error of each failing stage */
  get failures(): Partial<Record<ExportStage, string>> {
    return Object.fromEntries(this.failing);
  }

  /**
   * When a periodic stage runs next: after its period, or within a second while it is failing, so that
   * /health does not go on reporting a failure that a recovered store would no longer give.
   */
  private retryOr(stage: ExportStage, periodMs: number): number {
    return this.failing.has(stage) ? Math.min(periodMs, RETRY_FAILING_STAGE_MS) : periodMs;
  }

  /** A stage's outcome: a failure is reported once, when it starts, and its end once too. */
  private report(stage: ExportStage, error: Error | undefined): void {
    if (error === undefined) {
      if (this.failing.delete(stage)) this.observer.recovered(stage);
      return;
    }
    this.passFailures += 1;
    if (!this.failing.has(stage)) this.observer.failed(stage, error);
    this.failing.set(stage, error.message);
  }

  private async refreshCatalogue(): Promise<void> {
    this.known = await this.outbox.skus();
    const fresh = this.known.filter((sku) => !this.joined.has(sku));
    const joined = await this.eachSku(fresh, async (sku) => {
      await this.outbox.join(sku);
      this.joined.add(sku);
    });
    if (joined.error !== undefined) throw joined.error;
  }

  /**
   * The busy SKUs, then a window of the others in turn: a catalogue of thousands of SKUs with a few on
   * sale costs a few reads per pass, and a SKU whose sale starts is found within a few passes.
   */
  private async readNew(skus: readonly string[]): Promise<OutboxEntry[]> {
    const cold = skus.filter((sku) => !this.busy.has(sku));
    const window = cold.length <= COLD_SKUS_PER_PASS ? cold : this.coldWindow(cold);
    const listed = new Set(skus);
    const targets = [...[...this.busy].filter((sku) => listed.has(sku)), ...window];
    const read = await this.eachSku(targets, (sku) => this.outbox.readNew(sku, this.options.batchSize));
    this.report('read', read.error);
    this.busy = new Set(targets.filter((_, i) => (read.values[i]?.length ?? 0) > 0));
    return read.values.flatMap((found) => found ?? []);
  }

  private coldWindow(cold: readonly string[]): string[] {
    const start = this.coldCursor % cold.length;
    this.coldCursor = start + COLD_SKUS_PER_PASS;
    const end = start + COLD_SKUS_PER_PASS;
    return [...cold.slice(start, end), ...cold.slice(0, Math.max(0, end - cold.length))];
  }

  /** Writes one batch, retrying until it commits (or `abort`), then acknowledges it. */
  private async write(batch: readonly OutboxEntry[], abort: AbortSignal): Promise<void> {
    if (batch.length === 0) return;
    let wait = 100;
    for (;;) {
      const started = this.now();
      this.heartbeatAt = started;
      const outcome = await settle(() => this.sink.insert(batch.map((entry) => entry.order)));
      this.report('write', outcome.error);
      if (outcome.error === undefined) {
        const written = outcome.value ?? 0;
        this.observer.committed(written, batch.length - written, (this.now() - started) / 1000);
        break;
      }
      // The system of record is down: the batch stays in hand (and pending in Redis) until it is back.
      await this.pause(wait, abort, true);
      wait = Math.min(wait * 2, MAX_RETRY_WAIT_MS);
    }
    const bySku = new Map<string, string[]>();
    for (const entry of batch) {
      const ids = bySku.get(entry.sku) ?? [];
      ids.push(entry.entryId);
      bySku.set(entry.sku, ids);
    }
    // Not acknowledged (Redis down): the entries stay pending and are claimed again once idle; their
    // rows are already written, so the second write skips them.
    const acknowledged = await this.eachSku([...bySku.keys()], (sku) =>
      this.outbox.acknowledge(sku, bySku.get(sku) ?? []),
    );
    this.report('acknowledge', acknowledged.error);
  }

  /**
   * `work` over `skus`, at most `concurrency` at a time. Every SKU is tried: the values of those that
   * worked (in order, undefined where it failed) and the first error, if any.
   */
  private async eachSku<T>(
    skus: readonly string[],
    work: (sku: string) => Promise<T>,
  ): Promise<{ values: (T | undefined)[]; error: Error | undefined }> {
    // holes where a SKU failed: flat() and reduce() skip them
    const values = new Array<T | undefined>(skus.length);
    let error: Error | undefined;
    let next = 0;
    const lanes = Array.from({ length: Math.min(this.options.concurrency, skus.length) }, async () => {
      while (next < skus.length) {
        const i = next;
        next += 1;
        try {
          values[i] = await work(skus[i] as string);
        } catch (caught) {
          error ??= caught instanceof Error ? caught : new Error(String(caught));
        }
      }
    });
    await Promise.all(lanes);
    return { values, error };
  }

  private async pause(ms: number, signal: AbortSignal, throwOnAbort = false): Promise<void> {
    try {
      await sleep(ms, undefined, { signal });
    } catch {
      if (throwOnAbort) throw new Aborted();
    }
  }
}
