import { compareEntryIds, parseOrderId } from './order-id';
import type { OrderRecord } from './types';

/**
 * `npm run verify`: does PostgreSQL hold exactly the orders Redis took, and does Redis's stock add up?
 * Everything here is a pure comparison of what the two stores were read to hold; app/verify.ts reads
 * them, and docs/operations.md says how to act on each finding.
 */

/** A SKU's sale as Redis held it at one instant (read atomically). */
export interface SaleSnapshot {
  readonly sku: string;
  readonly sale: number;
  /** units stocked this sale: `initial` */
  readonly stocked: number;
  readonly remaining: number;
  /** units sold this sale, as the purchase script counted them */
  readonly sold: number;
  /** orders taken this sale, as the purchase script counted them */
  readonly orders: number;
  readonly perUserLimit: number;
  /** the last entry id the log had handed out then ('0-0': none): later entries are not judged */
  readonly lastEntryId: string;
}

/** The log as read just after the snapshot, up to its last entry id. */
export interface LogContents {
  /** the entries still in Redis, oldest first (older ones were exported and trimmed) */
  readonly entries: readonly { readonly entryId: string; readonly order: OrderRecord }[];
  /** true when the export group acknowledged the entry: it was committed to PostgreSQL */
  readonly acknowledged: (entryId: string) => boolean;
  /** the buyers hash: units per user this sale */
  readonly buyers: Readonly<Record<string, number>>;
}

export interface ArchivedOrders {
  /**
   * The rows of PostgreSQL a reconciliation needs: those with one of `orderIds` (whatever their SKU),
   * and the SKU's rows of sale `sale` or taken since `since`.
   */
  forReconciliation(
    sku: string,
    sale: number,
    since: Date,
    orderIds: readonly string[],
  ): Promise<OrderRecord[]>;
}

export type FindingKind =
  'missing' | 'unlogged' | 'mismatch' | 'conservation' | 'counters' | 'negative_stock' | 'per_user_limit';

export interface Finding {
  readonly kind: FindingKind;
  /** the order concerned, when there is one */
  readonly orderId?: string;
  readonly detail: string;
}

export interface SkuReport extends Pick<SaleSnapshot, 'sku' | 'sale' | 'stocked' | 'remaining' | 'sold'> {
  /** orders of this sale */
  readonly orders: number;
  /** orders of this sale that PostgreSQL holds */
  readonly inPostgres: number;
  /** orders in Redis's log not yet exported (not acknowledged, not in PostgreSQL), every sale */
  readonly backlog: number;
  readonly findings: readonly Finding[];
}

const fieldsToCompare = ['sku', 'sale', 'quantity', 'userId', 'method', 'idempotencyKey'] as const;

function differences(logged: OrderRecord, archived: OrderRecord): string[] {
  return fieldsToCompare.flatMap((field) =>
    logged[field] === archived[field]
      ? []
      : [
          `${field} ${JSON.stringify(logged[field])} in Redis, ${JSON.stringify(archived[field])} in PostgreSQL`,
        ],
  );
}

/** The window of PostgreSQL rows worth fetching for `snapshot` and `log`. */
export function archiveWindow(snapshot: SaleSnapshot, log: LogContents): Date {
  const first = log.entries[0]?.order.createdAt.getTime() ?? Number.POSITIVE_INFINITY;
  return new Date(Math.min(first, snapshot.sale));
}

export function reconcile(
  snapshot: SaleSnapshot,
  log: LogContents,
  archived: readonly OrderRecord[],
): SkuReport {
  const findings: Finding[] = [];
  const rows = new Map(archived.map((row) => [row.orderId, row]));
  const firstInLog = log.entries[0]?.entryId;
  const judged = (entryId: string): boolean => compareEntryIds(entryId, snapshot.lastEntryId) <= 0;

  // 1. Every order in Redis's log: in PostgreSQL, identical, or still on its way.
  let backlog = 0;
  const loggedIds = new Set<string>();
  const sale: OrderRecord[] = [];
  for (const { entryId, order } of log.entries) {
    if (!judged(entryId)) continue;
    loggedIds.add(order.orderId);
    if (order.sale === snapshot.sale) sale.push(order);
    const row = rows.get(order.orderId);
    if (row === undefined) {
      if (log.acknowledged(entryId)) {
        findings.push({
          kind: 'missing',
          orderId: order.orderId,
          detail: 'acknowledged as exported, but not in PostgreSQL',
        });
      } else {
        backlog += 1;
      }
      continue;
    }
    const differ = differences(order, row);
    if (differ.length > 0)
      findings.push({ kind: 'mismatch', orderId: order.orderId, detail: differ.join('; ') });
  }

  // 2. Every row of PostgreSQL for this SKU: one Redis logged, or one trimmed from the log since.
  for (const row of archived) {
    if (loggedIds.has(row.orderId) || row.sku !== snapshot.sku) continue;
    const parsed = parseOrderId(row.orderId);
    if (parsed !== null && !judged(parsed.entryId)) continue; // taken after the snapshot
    const neverLogged =
      parsed === null ||
      parsed.sku !== snapshot.sku ||
      (firstInLog !== undefined && compareEntryIds(parsed.entryId, firstInLog) >= 0);
    if (neverLogged) {
      findings.push({
        kind: 'unlogged',
        orderId: row.orderId,
        detail: 'in PostgreSQL, but Redis never logged it',
      });
      continue;
    }
    if (row.sale === snapshot.sale) sale.push(row);
  }

  // 3. The sale adds up: stocked = remaining + Σ quantities, and the script's own counters agree.
  const units = sale.reduce((sum, order) => sum + order.quantity, 0);
  if (snapshot.remaining < 0) {
    findings.push({ kind: 'negative_stock', detail: `remaining stock is ${snapshot.remaining}` });
  }
  if (snapshot.stocked !== snapshot.remaining + units) {
    findings.push({
      kind: 'conservation',
      detail: `stocked ${snapshot.stocked} ≠ remaining ${snapshot.remaining} + ${units} units in the sale's orders`,
    });
  }
  if (snapshot.sold !== units || snapshot.orders !== sale.length) {
    findings.push({
      kind: 'counters',
      detail: `Redis counted ${snapshot.sold} units in ${snapshot.orders} orders; the orders found hold ${units} units in ${sale.length}`,
    });
  }

  // 4. Nobody holds more than the per-user limit, and the buyers hash agrees with the orders.
  const perUser = new Map<string, OrderRecord[]>();
  for (const order of sale) {
    if (order.userId === null) continue;
    perUser.set(order.userId, [...(perUser.get(order.userId) ?? []), order]);
  }
  for (const [userId, orders] of perUser) {
    const held = orders.reduce((sum, order) => sum + order.quantity, 0);
    // a user is named by their orders: verify's output is read and pasted by operators
    const theirs = orders.map((order) => order.orderId).join(', ');
    if (snapshot.perUserLimit > 0 && held > snapshot.perUserLimit) {
      findings.push({
        kind: 'per_user_limit',
        detail: `one user holds ${held} units, the limit is ${snapshot.perUserLimit}: ${theirs}`,
      });
    }
    if ((log.buyers[userId] ?? 0) !== held) {
      findings.push({
        kind: 'counters',
        detail: `the buyers hash counts ${log.buyers[userId] ?? 0} units for the user of ${theirs}, the orders hold ${held}`,
      });
    }
  }

  for (const [userId, units] of Object.entries(log.buyers)) {
    if (!perUser.has(userId) && units !== 0) {
      findings.push({
        kind: 'counters',
        detail: `the buyers hash counts ${units} units for a user who has no order this sale`,
      });
    }
  }

  return {
    sku: snapshot.sku,
    sale: snapshot.sale,
    stocked: snapshot.stocked,
    remaining: snapshot.remaining,
    sold: snapshot.sold,
    orders: sale.length,
    inPostgres: sale.filter((order) => rows.has(order.orderId)).length,
    backlog,
    findings,
  };
}
