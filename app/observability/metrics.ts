import { Counter, Registry, collectDefaultMetrics } from 'prom-client';
import type { Metric } from 'prom-client';

/**
 * Prometheus metrics. The two metrics recorded on every request (latency by route and status, purchases
 * by method and outcome) keep one plain cell per label combination, found through two Map lookups on
 * values the request already holds: recording is arithmetic, with no label string built and nothing
 * allocated. (prom-client's own label children hash their labels into a new string on every call.)
 * They are rendered by prom-client's registry, with everything else, when /metrics is scraped.
 */
export class Metrics {
  readonly registry = new Registry();

  private readonly purchases = new CellCounter(
    'flashsale_purchases_total',
    'Purchase attempts by method (safe, unsafe) and outcome (ok, replayed, sold_out, ...)',
    'method',
    'outcome',
  );

  private readonly httpDuration = new CellHistogram(
    'flashsale_http_request_duration_seconds',
    'HTTP request latency by route and status code',
    [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    'route',
    'status',
  );

  private readonly redisErrors = new Counter({
    name: 'flashsale_redis_errors_total',
    help: 'Redis failures seen by the service, by kind (unavailable: not reached, nothing sent; no_answer: sent, answer lost or late; oom: refused at maxmemory; reply: other error reply)',
    labelNames: ['kind'] as const,
    registers: [this.registry],
  });

  private readonly redisDataLosses = new Counter({
    name: 'flashsale_redis_data_loss_total',
    help: 'Times this instance found that Redis had lost its data (the catalogue gone after it had been seen)',
    registers: [this.registry],
  });

  private readonly rateLimitRefusals = new Counter({
    name: 'flashsale_rate_limited_total',
    help: 'Purchase attempts refused with 429 by a fleet-wide rate limit, by limit (user, ip)',
    labelNames: ['limit'] as const,
    registers: [this.registry],
  });

  private readonly rateLimiterFailures = new Counter({
    name: 'flashsale_rate_limiter_failures_total',
    help: 'Purchase attempts a rate limit could not count (Redis unreachable) and admitted unlimited',
    registers: [this.registry],
  });

  constructor(collectDefaults = true) {
    // The registry asks a metric only for get() (and reset()): ours answer in prom-client's own shape.
    this.registry.registerMetric(this.purchases as unknown as Metric);
    this.registry.registerMetric(this.httpDuration as unknown as Metric);
    if (collectDefaults) collectDefaultMetrics({ register: this.registry, prefix: 'flashsale_' });
  }

  purchase(method: string, outcome: string): void {
    this.purchases.cell(method, outcome).value += 1;
  }

  httpRequest(route: string, status: number, seconds: number): void {
    this.httpDuration.cell(route, status).observe(seconds);
  }

  redisDataLoss(): void {
    this.redisDataLosses.inc();
  }

  rateLimited(limit: 'user' | 'ip'): void {
    this.rateLimitRefusals.labels(limit).inc();
  }

  rateLimiterFailure(): void {
    this.rateLimiterFailures.inc();
  }

  redisError(kind: 'unavailable' | 'no_answer' | 'oom' | 'reply'): void {
    this.redisErrors.labels(kind).inc();
  }
}

type Labels = Readonly<Record<string, string>>;

interface ExportedValue {
  readonly labels: Labels;
  readonly value: number;
  readonly metricName?: string;
}

interface Exported {
  readonly name: string;
  readonly help: string;
  readonly type: 'counter' | 'histogram';
  readonly aggregator: 'sum';
  readonly values: ExportedValue[];
}

/** cells by two label values; a cell is created on first use, then only looked up */
class CellTable<A, B, C> {
  private readonly rows = new Map<A, Map<B, C>>();
  readonly all: C[] = [];

  constructor(private readonly create: (a: A, b: B) => C) {}

  get(a: A, b: B): C {
    let row = this.rows.get(a);
    if (row === undefined) {
      row = new Map();
      this.rows.set(a, row);
    }
    let cell = row.get(b);
    if (cell === undefined) {
      cell = this.create(a, b);
      row.set(b, cell);
      this.all.push(cell);
    }
    return cell;
  }

  clear(): void {
    this.rows.clear();
    this.all.length = 0;
  }
}

interface CounterCell {
  readonly labels: Labels;
  value: number;
}

class CellCounter {
  readonly type = 'counter';
  private readonly cells: CellTable<string, string, CounterCell>;

  constructor(
    readonly name: string,
    readonly help: string,
    labelA: string,
    labelB: string,
  ) {
    this.cells = new CellTable((a, b) => ({ labels: { [labelA]: a, [labelB]: b }, value: 0 }));
  }

  cell(a: string, b: string): CounterCell {
    return this.cells.get(a, b);
  }

  get(): Promise<Exported> {
    return Promise.resolve({
      name: this.name,
      help: this.help,
      type: this.type,
      aggregator: 'sum',
      values: this.cells.all.map(({ labels, value }) => ({ labels, value })),
    });
  }

  reset(): void {
    this.cells.clear();
  }
}

class HistogramCell {
  /** observations per bucket, not cumulative; the last slot is above every bound (+Inf) */
  readonly counts: Float64Array;
  sum = 0;
  count = 0;

  constructor(
    readonly labels: Labels,
    private readonly bounds: readonly number[],
  ) {
    this.counts = new Float64Array(bounds.length + 1);
  }

  observe(value: number): void {
    const bounds = this.bounds;
    let i = 0;
    while (i < bounds.length && value > (bounds[i] as number)) i += 1;
    this.counts[i] = (this.counts[i] as number) + 1;
    this.sum += value;
    this.count += 1;
  }
}

class CellHistogram {
  readonly type = 'histogram';
  private readonly cells: CellTable<string, number, HistogramCell>;

  constructor(
    readonly name: string,
    readonly help: string,
    private readonly bounds: readonly number[],
    labelA: string,
    labelB: string,
  ) {
    this.cells = new CellTable(
      (a, b) => new HistogramCell({ [labelA]: a, [labelB]: String(b) }, this.bounds),
    );
  }

  cell(a: string, b: number): HistogramCell {
    return this.cells.get(a, b);
  }

  get(): Promise<Exported> {
    const values: ExportedValue[] = [];
    const bucket = `${this.name}_bucket`;
    for (const cell of this.cells.all) {
      let cumulative = 0;
      this.bounds.forEach((bound, i) => {
        cumulative += cell.counts[i] ?? 0;
        values.push({ labels: { ...cell.labels, le: String(bound) }, value: cumulative, metricName: bucket });
      });
      values.push(
        { labels: { ...cell.labels, le: '+Inf' }, value: cell.count, metricName: bucket },
        { labels: cell.labels, value: cell.sum, metricName: `${this.name}_sum` },
        { labels: cell.labels, value: cell.count, metricName: `${this.name}_count` },
      );
    }
    return Promise.resolve({
      name: this.name,
      help: this.help,
      type: this.type,
      aggregator: 'sum',
      values,
    });
  }

  reset(): void {
    this.cells.clear();
  }
}
