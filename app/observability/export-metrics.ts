import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Backlog, ExportStage } from '../domain/order-export';

/**
 * The order worker's Prometheus metrics. The backlog gauges hold the last measurement; the oldest
 * entry's age is computed when scraped, so it keeps growing while the worker cannot measure.
 */
export class ExportMetrics {
  readonly registry = new Registry();
  private oldest: Date | null = null;
  /** orders pending at the last measurement */
  pending = 0;

  readonly exported = new Counter({
    name: 'flashsale_orders_exported_total',
    help: 'Orders written to PostgreSQL by this worker',
    registers: [this.registry],
  });

  readonly duplicates = new Counter({
    name: 'flashsale_orders_export_skipped_total',
    help: 'Orders of a batch PostgreSQL already held (redelivered after a lost acknowledgement), skipped',
    registers: [this.registry],
  });

  readonly redeliveries = new Counter({
    name: 'flashsale_outbox_redeliveries_total',
    help: 'Outbox entries claimed from a consumer that left them unacknowledged past the idle threshold',
    registers: [this.registry],
  });

  readonly trimmed = new Counter({
    name: 'flashsale_outbox_trimmed_total',
    help: 'Exported entries trimmed from the order logs in Redis',
    registers: [this.registry],
  });

  readonly failures = new Counter({
    name: 'flashsale_export_failures_total',
    help: 'Failed export steps by stage (read, write, acknowledge, ...); a write is retried until it commits',
    labelNames: ['stage'] as const,
    registers: [this.registry],
  });

  readonly batchSeconds = new Histogram({
    name: 'flashsale_export_batch_duration_seconds',
    help: 'Time to write one batch to PostgreSQL',
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });

  readonly pendingBySku = new Gauge({
    name: 'flashsale_outbox_pending_entries',
    help: 'Orders not yet acknowledged as exported, by SKU (SKUs with none are left out)',
    labelNames: ['sku'] as const,
    registers: [this.registry],
  });

  readonly pendingAll = new Gauge({
    name: 'flashsale_outbox_pending_entries_all',
    help: 'Orders not yet acknowledged as exported, every SKU',
    registers: [this.registry],
  });

  constructor(collectDefaults = true) {
    const age: Gauge = new Gauge({
      name: 'flashsale_outbox_oldest_pending_age_seconds',
      help: 'Age of the oldest order not yet acknowledged as exported (0: none)',
      registers: [this.registry],
      collect: () => {
        age.set(this.oldestPendingAgeSeconds());
      },
    });
    if (collectDefaults) collectDefaultMetrics({ register: this.registry, prefix: 'flashsale_worker_' });
  }

  failed(stage: ExportStage): void {
    this.failures.labels(stage).inc();
  }

  backlog(bySku: ReadonlyMap<string, Backlog>): { pending: number; oldest: Date | null } {
    this.pendingBySku.reset();
    let pending = 0;
    let oldest: Date | null = null;
    for (const [sku, backlog] of bySku) {
      if (backlog.pending === 0) continue;
      this.pendingBySku.labels(sku).set(backlog.pending);
      pending += backlog.pending;
      if (backlog.oldest && (!oldest || backlog.oldest < oldest)) oldest = backlog.oldest;
    }
    this.pendingAll.set(pending);
    this.pending = pending;
    this.oldest = oldest;
    return { pending, oldest };
  }

  oldestPendingAgeSeconds(now = Date.now()): number {
    return this.oldest ? Math.max(0, (now - this.oldest.getTime()) / 1000) : 0;
  }
}
