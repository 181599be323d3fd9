import type { Registry } from 'prom-client';
import { HTTP_DURATION_METRIC, PURCHASES_METRIC } from './metrics';

/**
 * The service's own figures for CloudWatch, in its embedded metric format (EMF): once per interval, one
 * JSON line on stdout that the container's awslogs driver ships to CloudWatch Logs, where the figures are
 * extracted as metrics. No agent, no API call, no credentials, and nothing per request: the line is built
 * from the Prometheus registry the service keeps anyway, as the difference since the previous line.
 *
 * The names are the contract with the dashboard (infra-cdk/lib/monitoring.ts imports them from here).
 */
export const SERVICE_FIGURES = {
  namespace: 'FlashSale/Service',
  /** one dimension with one value: CloudWatch adds up the lines of every instance */
  dimension: { name: 'Service', value: 'flash-sale' },
  /** purchase outcomes (both endpoints) by the metric each is counted in; any other outcome: PurchasesOther */
  purchaseOutcomes: {
    ok: 'PurchasesOk',
    replayed: 'PurchasesReplayed',
    sold_out: 'PurchasesSoldOut',
    limit_exceeded: 'PurchasesLimitExceeded',
    store_unavailable: 'PurchasesStoreUnavailable',
    purchase_outcome_unknown: 'PurchasesOutcomeUnknown',
  },
  otherPurchases: 'PurchasesOther',
  /** answers with status 503, every route */
  responses503: 'Responses503',
  /** purchase latency of this instance over the interval, estimated from the histogram's buckets */
  latencyP50: 'PurchaseLatencyP50',
  latencyP99: 'PurchaseLatencyP99',
} as const;

interface Sample {
  readonly labels: Partial<Record<string, string | number>>;
  readonly value: number;
  readonly metricName?: string;
}

export interface ServiceFiguresOptions {
  readonly registry: Registry;
  readonly instanceId: string;
  readonly intervalMs: number;
  /** where a line goes; stdout in the service */
  readonly write?: (line: string) => void;
  readonly now?: () => number;
}

export interface ServiceFigures {
  /** writes the line for the interval that ends now (the timer calls it; tests call it directly) */
  publish(): Promise<void>;
  stop(): void;
}

/** counts per key since the previous reading of a cumulative counter */
class Deltas {
  private previous = new Map<string, number>();

  take(current: Map<string, number>): Map<string, number> {
    const deltas = new Map<string, number>();
    for (const [key, value] of current) {
      const before = this.previous.get(key) ?? 0;
      // a reset registry starts again from nothing: count what it holds now
      deltas.set(key, value >= before ? value - before : value);
    }
    this.previous = current;
    return deltas;
  }
}

/**
 * The q-quantile (0..1) of observations spread over histogram buckets (upper bounds, ascending, +Inf last),
 * by linear interpolation inside the bucket that holds it, as Prometheus's histogram_quantile does. One in the
 * +Inf bucket is reported at the highest finite bound: the estimate then says "at least".
 */
export function quantileFromBuckets(buckets: readonly { le: number; count: number }[], q: number): number {
  const total = buckets.reduce((sum, bucket) => sum + bucket.count, 0);
  if (total === 0) return 0;
  const rank = q * total;
  let below = 0;
  let lower = 0;
  for (const { le, count } of buckets) {
    if (below + count >= rank && count > 0) {
      if (!Number.isFinite(le)) return lower;
      return lower + (le - lower) * ((rank - below) / count);
    }
    below += count;
    if (Number.isFinite(le)) lower = le;
  }
  return lower;
}

export function startServiceFigures(options: ServiceFiguresOptions): ServiceFigures {
  const write =
    options.write ??
    ((line: string) => {
      process.stdout.write(`${line}\n`);
    });
  const now = options.now ?? Date.now;
  const purchases = new Deltas();
  const buckets = new Deltas();
  const counts = new Deltas();

  const read = async (name: string): Promise<Sample[]> => {
    const metric = options.registry.getSingleMetric(name);
    if (metric === undefined) return [];
    return ((await metric.get()) as { values: Sample[] }).values;
  };

  const publish = async (): Promise<void> => {
    const [purchaseSamples, durationSamples] = await Promise.all([
      read(PURCHASES_METRIC),
      read(HTTP_DURATION_METRIC),
    ]);

    const byOutcome = new Map<string, number>();
    for (const sample of purchaseSamples) {
      const key = `${String(sample.labels.method)} ${String(sample.labels.outcome)}`;
      byOutcome.set(key, sample.value);
    }
    const figures: Record<string, number> = {};
    for (const name of Object.values(SERVICE_FIGURES.purchaseOutcomes)) figures[name] = 0;
    figures[SERVICE_FIGURES.otherPurchases] = 0;
    const outcomeNames: Partial<Record<string, string>> = SERVICE_FIGURES.purchaseOutcomes;
    for (const [key, delta] of purchases.take(byOutcome)) {
      const outcome = key.slice(key.indexOf(' ') + 1);
      const name = outcomeNames[outcome] ?? SERVICE_FIGURES.otherPurchases;
      figures[name] = (figures[name] ?? 0) + delta;
    }

    // answers by route and status (the histogram's _count), and the purchase routes' buckets
    const requestCounts = new Map<string, number>();
    const purchaseBuckets = new Map<string, number>();
    for (const sample of durationSamples) {
      const route = String(sample.labels.route);
      const key = `${route} ${String(sample.labels.status)}`;
      if (sample.metricName === `${HTTP_DURATION_METRIC}_count`) requestCounts.set(key, sample.value);
      else if (sample.metricName === `${HTTP_DURATION_METRIC}_bucket` && route.startsWith('/purchase/')) {
        purchaseBuckets.set(`${key} ${String(sample.labels.le)}`, sample.value);
      }
    }
    let responses503 = 0;
    for (const [key, delta] of counts.take(requestCounts)) if (key.endsWith(' 503')) responses503 += delta;
    figures[SERVICE_FIGURES.responses503] = responses503;

    // cumulative buckets per series → per-bucket counts summed over every purchase series
    const perBound = new Map<number, number>();
    const cumulative = new Map<string, Map<number, number>>();
    for (const [key, delta] of buckets.take(purchaseBuckets)) {
      const at = key.lastIndexOf(' ');
      const series = key.slice(0, at);
      const le = key.slice(at + 1) === '+Inf' ? Infinity : Number(key.slice(at + 1));
      const row = cumulative.get(series) ?? new Map<number, number>();
      row.set(le, delta);
      cumulative.set(series, row);
    }
    for (const row of cumulative.values()) {
      let previous = 0;
      for (const le of [...row.keys()].sort((a, b) => a - b)) {
        const upTo = row.get(le) ?? 0;
        perBound.set(le, (perBound.get(le) ?? 0) + upTo - previous);
        previous = upTo;
      }
    }
    const histogram = [...perBound.entries()].sort(([a], [b]) => a - b).map(([le, count]) => ({ le, count }));
    const units: Record<string, string> = {};
    if (histogram.some(({ count }) => count > 0)) {
      figures[SERVICE_FIGURES.latencyP50] = quantileFromBuckets(histogram, 0.5) * 1000;
      figures[SERVICE_FIGURES.latencyP99] = quantileFromBuckets(histogram, 0.99) * 1000;
      units[SERVICE_FIGURES.latencyP50] = 'Milliseconds';
      units[SERVICE_FIGURES.latencyP99] = 'Milliseconds';
    }

    const { dimension } = SERVICE_FIGURES;
    write(
      JSON.stringify({
        _aws: {
          Timestamp: now(),
          CloudWatchMetrics: [
            {
              Namespace: SERVICE_FIGURES.namespace,
              Dimensions: [[dimension.name]],
              Metrics: Object.keys(figures).map((name) => ({ Name: name, Unit: units[name] ?? 'Count' })),
            },
          ],
        },
        [dimension.name]: dimension.value,
        instance: options.instanceId,
        msg: 'service figures',
        intervalMs: options.intervalMs,
        ...figures,
      }),
    );
  };

  const timer = setInterval(() => {
    publish().catch(() => {
      // the registry is in memory: nothing here fails but a bug, and figures must never stop the service
    });
  }, options.intervalMs);
  timer.unref();
  return {
    publish,
    stop: () => {
      clearInterval(timer);
    },
  };
}
