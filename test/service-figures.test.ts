import { Metrics } from '../app/observability/metrics';
import {
  quantileFromBuckets,
  SERVICE_FIGURES,
  startServiceFigures,
} from '../app/observability/service-figures';
import type { ServiceFigures } from '../app/observability/service-figures';

interface EmfLine {
  _aws: {
    Timestamp: number;
    CloudWatchMetrics: {
      Namespace: string;
      Dimensions: string[][];
      Metrics: { Name: string; Unit: string }[];
    }[];
  };
  [member: string]: unknown;
}

/** CloudWatch's embedded metric format, as the service writes it for the dashboard (METRICS_EMF=on) */
describe('service figures in the embedded metric format', () => {
  let metrics: Metrics;
  let lines: string[];
  let figures: ServiceFigures;

  beforeEach(() => {
    metrics = new Metrics(false);
    lines = [];
    figures = startServiceFigures({
      registry: metrics.registry,
      instanceId: 'i-test',
      intervalMs: 60_000,
      write: (line) => lines.push(line),
      now: () => 1_700_000_000_000,
    });
  });
  afterEach(() => {
    figures.stop();
  });

  const last = (): EmfLine => JSON.parse(lines.at(-1) ?? '{}') as EmfLine;

  it('when purchases and answers are recorded, then one line carries the interval figures as EMF metrics', async () => {
    metrics.purchase('safe', 'ok');
    metrics.purchase('safe', 'ok');
    metrics.purchase('safe', 'sold_out');
    metrics.purchase('unsafe', 'ok');
    metrics.purchase('safe', 'store_unavailable');
    metrics.purchase('safe', 'invalid_request');
    for (let i = 0; i < 98; i += 1) metrics.httpRequest('/purchase/safe', 200, 0.002);
    metrics.httpRequest('/purchase/safe', 503, 0.2);
    metrics.httpRequest('/purchase/safe', 409, 0.2);
    metrics.httpRequest('/health', 503, 0.0001);

    await figures.publish();

    expect(lines).toHaveLength(1);
    const line = last();
    const [directive] = line._aws.CloudWatchMetrics;
    expect(line._aws.Timestamp).toBe(1_700_000_000_000);
    expect(directive?.Namespace).toBe('FlashSale/Service');
    expect(directive?.Dimensions).toEqual([['Service']]);
    expect(line.Service).toBe('flash-sale');
    expect(line.instance).toBe('i-test');
    // every metric the directive names is a number at the root, as EMF requires
    for (const { Name } of directive?.Metrics ?? []) expect(typeof line[Name]).toBe('number');
    expect(line).toMatchObject({
      PurchasesOk: 3,
      PurchasesSoldOut: 1,
      PurchasesStoreUnavailable: 1,
      PurchasesOther: 1,
      PurchasesReplayed: 0,
      Responses503: 2,
    });
    // 98 of 100 purchase answers in the 1..2.5 ms bucket: p50 inside it, p99 in the 100..250 ms one
    expect(line.PurchaseLatencyP50).toBeGreaterThan(1);
    expect(line.PurchaseLatencyP50).toBeLessThanOrEqual(2.5);
    expect(line.PurchaseLatencyP99).toBeGreaterThan(100);
    expect(line.PurchaseLatencyP99).toBeLessThanOrEqual(250);
    expect(directive?.Metrics).toContainEqual({ Name: 'PurchaseLatencyP99', Unit: 'Milliseconds' });
  });

  it('when a second interval passes, then its line counts only what happened in it, and has no latency without purchases', async () => {
    metrics.purchase('safe', 'ok');
    metrics.httpRequest('/purchase/safe', 200, 0.002);
    await figures.publish();
    metrics.purchase('safe', 'sold_out');
    metrics.httpRequest('/stock', 503, 0.001);
    await figures.publish();

    expect(lines).toHaveLength(2);
    expect(last()).toMatchObject({ PurchasesOk: 0, PurchasesSoldOut: 1, Responses503: 1 });
    expect(last()).not.toHaveProperty('PurchaseLatencyP50');
    expect(last()._aws.CloudWatchMetrics[0]?.Metrics.map((m) => m.Name)).not.toContain('PurchaseLatencyP50');
  });

  it('when nothing happened, then the line still reports zeros (a quiet minute is not a missing one)', async () => {
    await figures.publish();
    expect(last()).toMatchObject({ PurchasesOk: 0, PurchasesSoldOut: 0, Responses503: 0 });
    expect(Object.values(SERVICE_FIGURES.purchaseOutcomes).every((name) => last()[name] === 0)).toBe(true);
  });

  it('when a quantile falls in a bucket, then it is interpolated in it; above every bound, it is the highest bound', () => {
    const buckets = [
      { le: 0.001, count: 0 },
      { le: 0.002, count: 10 },
      { le: Infinity, count: 0 },
    ];
    expect(quantileFromBuckets(buckets, 0.5)).toBeCloseTo(0.0015);
    expect(
      quantileFromBuckets(
        [
          { le: 0.1, count: 1 },
          { le: Infinity, count: 9 },
        ],
        0.99,
      ),
    ).toBe(0.1);
    expect(quantileFromBuckets([], 0.5)).toBe(0);
  });
});
