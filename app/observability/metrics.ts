import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** the two per-request metrics, by name: service-figures.ts reads them back from the registry */
export const PURCHASES_METRIC = 'flashsale_purchases_total';
export const HTTP_DURATION_METRIC = 'flashsale_http_request_duration_seconds';

/**
 * Prometheus metrics, prom-client's own types in one registry. The two metrics recorded on every request
 * (latency by route and status, purchases by method and outcome) keep the label child of each combination
 * they have seen, so a request skips prom-client's label check and array building; `npm run bench`
 * (docs/performance.md) measures the path they are on.
 */
export class Metrics {
  readonly registry = new Registry();

  private readonly purchases = new Counter({
    name: PURCHASES_METRIC,
    help: 'Purchase attempts by method (safe, unsafe) and outcome (ok, replayed, sold_out, ...)',
    labelNames: ['method', 'outcome'] as const,
    registers: [this.registry],
  });

  private readonly httpDuration = new Histogram({
    name: HTTP_DURATION_METRIC,
    help: 'HTTP request latency by route and status code',
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    labelNames: ['route', 'status'] as const,
    registers: [this.registry],
  });

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

  private readonly purchaseChildren = new Children((method: string, outcome: string) =>
    this.purchases.labels(method, outcome),
  );

  private readonly httpChildren = new Children((route: string, status: number) =>
    this.httpDuration.labels(route, String(status)),
  );
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
    if (collectDefaults) collectDefaultMetrics({ register: this.registry, prefix: 'flashsale_' });
  }

  purchase(method: string, outcome: string): void {
    this.purchaseChildren.get(method, outcome).inc();
  }

  httpRequest(route: string, status: number, seconds: number): void {
    this.httpChildren.get(route, status).observe(seconds);
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

/**
 * A metric's label children by two label values, made on first use and then only looked up. A child
 * writes into its metric's current values, so it stays valid across registry.resetMetrics().
 */
class Children<A, B, C> {
  private readonly rows = new Map<A, Map<B, C>>();

  constructor(private readonly create: (a: A, b: B) => C) {}

  get(a: A, b: B): C {
    let row = this.rows.get(a);
    if (row === undefined) {
      row = new Map();
      this.rows.set(a, row);
    }
    let child = row.get(b);
    if (child === undefined) {
      child = this.create(a, b);
      row.set(b, child);
    }
    return child;
  }
}
