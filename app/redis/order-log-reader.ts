import { compareEntryIds } from '../domain/order-id';
import type { LogContents, SaleSnapshot } from '../domain/reconcile';
import { isReply } from './errors';
import { catalogueKey, skuKeys } from './keys';
import { toOrderRecord } from './order-entry';
import type { StreamEntry } from './order-entry';
import { EXPORT_GROUP } from './order-outbox';
import type { RedisClient } from './scripts';

const PAGE = 1000;

/** flat [name, value, name, value...] to a map */
function pairs(flat: unknown[]): Map<string, unknown> {
  const map = new Map<string, unknown>();
  for (let i = 0; i + 1 < flat.length; i += 2) map.set(String(flat[i]), flat[i + 1]);
  return map;
}

const integer = (value: string | undefined): number => (value === undefined ? 0 : Number(value));

/** What `verify` reads of Redis: a sale's counters at one instant, then the log up to that instant. */
export class RedisOrderLogReader {
  constructor(private readonly redis: RedisClient) {}

  async skus(): Promise<string[]> {
    return this.redis.zrange(catalogueKey, '0', '-1');
  }

  /** null when the SKU has no stock key (unknown, or lost) */
  async snapshot(sku: string): Promise<SaleSnapshot | null> {
    const k = skuKeys(sku);
    // One transaction: the counters and the log's last id belong to the same instant, so purchases
    // still going on cannot make them disagree.
    const replies = await this.redis.multi().get(k.stock).hgetall(k.product).xinfo('STREAM', k.orders).exec();
    if (!replies) throw new Error('the snapshot transaction was aborted');
    const [[stockError, stock], [productError, product], [streamError, stream]] = replies as [
      [Error | null, string | null],
      [Error | null, Record<string, string>],
      [Error | null, unknown[] | null],
    ];
    if (stockError) throw stockError;
    if (productError) throw productError;
    if (streamError && !isReply(streamError, 'ERR no such key')) throw streamError;
    if (stock === null) return null;
    const last = stream ? pairs(stream).get('last-generated-id') : undefined;
    const lastEntryId = typeof last === 'string' ? last : '0-0';
    return {
      sku,
      sale: integer(product.sale),
      stocked: integer(product.initial),
      remaining: Number(stock),
      sold: integer(product.sold),
      orders: integer(product.orders),
      perUserLimit: integer(product.perUserLimit),
      lastEntryId,
    };
  }

  /**
   * The log up to `lastEntryId`, then the export group's position: read in that order, an entry seen
   * as acknowledged was committed to PostgreSQL before `verify` reads PostgreSQL.
   */
  async contents(sku: string, lastEntryId: string): Promise<LogContents> {
    const k = skuKeys(sku);
    const raw: StreamEntry[] = [];
    let start = '-';
    for (;;) {
      const page = (await this.redis.xrange(k.orders, start, lastEntryId, 'COUNT', PAGE)) as StreamEntry[];
      raw.push(...page);
      const last = page[page.length - 1];
      if (page.length < PAGE || !last) break;
      start = `(${last[0]}`;
    }
    const { lastDelivered, pending } = await this.exportPosition(k.orders);
    const buyers = await this.redis.hgetall(k.buyers);
    const delivered = (entryId: string): boolean =>
      lastDelivered !== null && compareEntryIds(entryId, lastDelivered) <= 0;
    return {
      entries: raw.map((entry) => ({ entryId: entry[0], order: toOrderRecord(sku, entry) })),
      acknowledged: (entryId) => delivered(entryId) && !pending.has(entryId),
      buyers: Object.fromEntries(Object.entries(buyers).map(([user, units]) => [user, Number(units)])),
    };
  }

  private async exportPosition(key: string): Promise<{ lastDelivered: string | null; pending: Set<string> }> {
    let groups: unknown[][];
    try {
      groups = (await this.redis.xinfo('GROUPS', key)) as unknown[][];
    } catch (error) {
      if (isReply(error, 'ERR no such key')) return { lastDelivered: null, pending: new Set() };
      throw error;
    }
    const group = groups.map(pairs).find((fields) => fields.get('name') === EXPORT_GROUP);
    if (!group) return { lastDelivered: null, pending: new Set() };
    const pending = new Set<string>();
    let start = '-';
    for (;;) {
      const page = (await this.redis.xpending(key, EXPORT_GROUP, start, '+', PAGE)) as [
        string,
        ...unknown[],
      ][];
      for (const [id] of page) pending.add(id);
      const last = page[page.length - 1];
      if (page.length < PAGE || !last) break;
      start = `(${last[0]}`;
    }
    return { lastDelivered: String(group.get('last-delivered-id')), pending };
  }
}
