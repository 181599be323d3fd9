import { Counter, Histogram, Registry } from 'prom-client';
import { Metrics } from '../app/observability/metrics';

/** Our metrics, recorded through cached label children, render exactly what prom-client's metrics render. */
describe('Metrics', () => {
  const BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];
  const observations: [route: string, status: number, seconds: number][] = [
    ['/purchase/safe', 200, 0.0004],
    ['/purchase/safe', 200, 0.001],
    ['/purchase/safe', 200, 0.0031],
    ['/purchase/safe', 409, 0.02],
    ['/stock', 200, 3],
    ['unmatched', 404, 0.7],
  ];
  const purchases: [method: string, outcome: string][] = [
    ['safe', 'ok'],
    ['safe', 'ok'],
    ['safe', 'sold_out'],
    ['unsafe', 'ok'],
  ];

  async function reference(): Promise<string> {
    const registry = new Registry();
    const counter = new Counter({
      name: 'flashsale_purchases_total',
      help: 'Purchase attempts by method (safe, unsafe) and outcome (ok, replayed, sold_out, ...)',
      labelNames: ['method', 'outcome'],
      registers: [registry],
    });
    const histogram = new Histogram({
      name: 'flashsale_http_request_duration_seconds',
      help: 'HTTP request latency by route and status code',
      labelNames: ['route', 'status'],
      buckets: BUCKETS,
      registers: [registry],
    });
    for (const [method, outcome] of purchases) counter.labels(method, outcome).inc();
    for (const [route, status, seconds] of observations)
      histogram.labels(route, String(status)).observe(seconds);
    return registry.metrics();
  }

  /** the lines of one metric, label order within a line ignored */
  const linesOf = (text: string, name: string): string[] =>
    text
      .split('\n')
      .filter((line) => line.includes(name))
      .map((line) => {
        const match = /^([^{\s]+)(?:\{(.*)\})? (.*)$/.exec(line);
        if (!match || line.startsWith('#')) return line;
        const labels = (match[2] ?? '').split(',').filter(Boolean).sort().join(',');
        return `${match[1] ?? ''}{${labels}} ${match[3] ?? ''}`;
      })
      .sort();

  it('when requests and purchases are recorded, then /metrics renders the same series and values as prom-client', async () => {
    const metrics = new Metrics(false);
    for (const [method, outcome] of purchases) metrics.purchase(method, outcome);
    for (const [route, status, seconds] of observations) metrics.httpRequest(route, status, seconds);
    const ours = await metrics.registry.metrics();
    const theirs = await reference();
    for (const name of ['flashsale_purchases_total', 'flashsale_http_request_duration_seconds']) {
      expect(linesOf(ours, name)).toEqual(linesOf(theirs, name));
    }
    expect(ours).toContain('# TYPE flashsale_redis_errors_total counter');
  });

  it('when the registry is reset, then the recorded values start again from nothing', async () => {
    const metrics = new Metrics(false);
    metrics.purchase('safe', 'ok');
    metrics.registry.resetMetrics();
    metrics.purchase('safe', 'ok');
    expect(await metrics.registry.metrics()).toContain(
      'flashsale_purchases_total{method="safe",outcome="ok"} 1',
    );
  });
});
