import { setTimeout as sleep } from 'node:timers/promises';
import { archiveWindow, reconcile } from '../domain/reconcile';
import type { ArchivedOrders, SkuReport } from '../domain/reconcile';
import type { RedisOrderLogReader } from '../redis/order-log-reader';

export interface VerifyOptions {
  /** the SKUs to check; all of the catalogue when empty */
  readonly skus: readonly string[];
  /** how long to wait for the backlog to drain before judging */
  readonly waitMs: number;
}

export interface VerifyResult {
  readonly reports: SkuReport[];
  /** SKUs asked for that Redis does not know */
  readonly unknown: string[];
  readonly waitedMs: number;
}

export async function checkSku(
  reader: RedisOrderLogReader,
  archive: ArchivedOrders,
  sku: string,
): Promise<SkuReport | null> {
  const snapshot = await reader.snapshot(sku);
  if (!snapshot) return null;
  const log = await reader.contents(sku, snapshot.lastEntryId);
  const rows = await archive.forReconciliation(
    sku,
    snapshot.sale,
    archiveWindow(snapshot, log),
    log.entries.map((entry) => entry.order.orderId),
  );
  return reconcile(snapshot, log, rows);
}

/**
 * Checks every SKU asked for; while orders are still on their way to PostgreSQL (a backlog), checks
 * again until they have arrived or `waitMs` has passed, so that a drift is never a worker still busy.
 */
export async function verifyOrders(
  reader: RedisOrderLogReader,
  archive: ArchivedOrders,
  options: VerifyOptions,
): Promise<VerifyResult> {
  const started = Date.now();
  const skus = options.skus.length > 0 ? [...options.skus] : await reader.skus();
  for (;;) {
    const reports: SkuReport[] = [];
    const unknown: string[] = [];
    for (const sku of skus) {
      const report = await checkSku(reader, archive, sku);
      if (report) reports.push(report);
      else unknown.push(sku);
    }
    const waitedMs = Date.now() - started;
    const backlog = reports.some((report) => report.backlog > 0);
    if (!backlog || waitedMs >= options.waitMs) return { reports, unknown, waitedMs };
    await sleep(Math.min(250, options.waitMs - waitedMs));
  }
}
