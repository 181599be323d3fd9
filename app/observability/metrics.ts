import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * Prometheus metrics. Label children are resolved once and cached, so recording a request allocates
 * nothing on the hot path.
 */
export class Metrics {
  readonly registry = new Registry();

  private readonly purchases = new Counter({
    name: 'flashsale_purchases_total',
    help: 'Purchase attempts by method (safe, unsafe) and outcome (ok, replayed, sold_out, ...)',
    labelNames: ['method', 'outcome'] as const,
    registers: [this.registry],
  });

  private readonly httpDuration = new Histogram({
    name: 'flashsale_http_request_duration_seconds',
    help: 'HTTP request latency by route and status code',
    labelNames: ['route', 'status'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });

  private readonly redisErrors = new Counter({
    name: 'flashsale_redis_errors_total',
    help: 'Redis failures seen by the service, by kind (unavailable: outage or timeout; reply: error reply)',
    labelNames: ['kind'] as const,
    registers: [this.registry],
  });

  private readonly purchaseChildren = new Map<string, Map<string, Counter.Internal>>();
  private readonly durationChildren = new Map<string, Map<number, Histogram.Internal<'route' | 'status'>>>();

  constructor(collectDefaults = true) {
    if (collectDefaults) collectDefaultMetrics({ register: this.registry, prefix: 'flashsale_' });
  }

  purchase(method: string, outcome: string): void {
    cached(this.purchaseChildren, method, outcome, () => this.purchases.labels(method, outcome)).inc();
  }

  httpRequest(route: string, status: number, seconds: number): void {
    cached(this.durationChildren, route, status, () =>
      this.httpDuration.labels(route, String(status)),
    ).observe(seconds);
  }

  redisError(kind: 'unavailable' | 'reply'): void {
    this.redisErrors.labels(kind).inc();
  }
}

/** two-level cache of label children, so that a hot-path lookup builds no label string */
function cached<A, B, V>(cache: Map<A, Map<B, V>>, a: A, b: B, create: () => V): V {
  let inner = cache.get(a);
  if (!inner) {
    inner = new Map();
    cache.set(a, inner);
  }
  let value = inner.get(b);
  if (value === undefined) {
    value = create();
    inner.set(b, value);
  }
  return value;
}
