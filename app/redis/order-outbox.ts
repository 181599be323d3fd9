import type { Backlog, OrderOutbox, OutboxEntry } from '../domain/order-export';
import { orderTime } from '../domain/order-id';
import { isReply } from './errors';
import { catalogueKey, skuKeys } from './keys';
import { toOrderRecord } from './order-entry';
import type { StreamEntry } from './order-entry';
import type { RedisClient } from './scripts';

/** The consumer group every order worker joins, on every SKU's order log. */
export const EXPORT_GROUP = 'flash-sale-export';

type ReadGroupReply = [key: string, entries: StreamEntry[]][] | null;
/** XAUTOCLAIM (Redis 7): next cursor, claimed entries, ids of pending entries no longer in the stream */
type AutoClaimReply = [next: string, entries: StreamEntry[], deleted: string[]];

const isNoGroup = (error: unknown): boolean => isReply(error, 'NOGROUP');

/**
 * Each SKU's order stream read through one consumer group (`EXPORT_GROUP`), as consumer `consumer`.
 * Consumer names are per process: a worker that dies leaves its entries pending under its name, and
 * a live one claims them (XAUTOCLAIM) once they have been idle long enough.
 */
export class RedisOrderOutbox implements OrderOutbox {
  constructor(
    private readonly redis: RedisClient,
    private readonly consumer: string,
  ) {}

  async skus(): Promise<string[]> {
    return this.redis.zrange(catalogueKey, '0', '-1');
  }

  /**
   * From the log's first entry (`0`), so that orders taken before any worker ran are exported too.
   * MKSTREAM: a SKU with no order yet gets an empty log for the group to live on.
   */
  async join(sku: string): Promise<void> {
    try {
      await this.redis.xgroup('CREATE', skuKeys(sku).orders, EXPORT_GROUP, '0', 'MKSTREAM');
    } catch (error) {
      if (!isReply(error, 'BUSYGROUP')) throw error;
    }
  }

  async readNew(sku: string, count: number): Promise<OutboxEntry[]> {
    const key = skuKeys(sku).orders;
    let reply: ReadGroupReply;
    try {
      reply = (await this.redis.xreadgroup(
        'GROUP',
        EXPORT_GROUP,
        this.consumer,
        'COUNT',
        count,
        'STREAMS',
        key,
        '>',
      )) as ReadGroupReply;
    } catch (error) {
      // The log (and its group) is gone: a Redis that lost its data, or a key deleted by hand. Join
      // again; whatever a new log holds is read from its start.
      if (!isNoGroup(error)) throw error;
      await this.join(sku);
      return [];
    }
    return (reply?.[0]?.[1] ?? []).map((entry) => this.toEntry(sku, entry));
  }

  async claimStale(sku: string, minIdleMs: number, count: number): Promise<OutboxEntry[]> {
    const key = skuKeys(sku).orders;
    const claimed: OutboxEntry[] = [];
    let cursor = '0-0';
    do {
      let reply: AutoClaimReply;
      try {
        reply = (await this.redis.xautoclaim(
          key,
          EXPORT_GROUP,
          this.consumer,
          minIdleMs,
          cursor,
          'COUNT',
          count - claimed.length,
        )) as AutoClaimReply;
      } catch (error) {
        if (isNoGroup(error)) return claimed;
        throw error;
      }
      const [next, entries, deleted] = reply;
      claimed.push(...entries.map((entry) => this.toEntry(sku, entry)));
      // pending ids whose entries were trimmed by hand: nothing left to export, let them go
      if (deleted.length > 0) await this.redis.xack(key, EXPORT_GROUP, ...deleted);
      cursor = next;
    } while (cursor !== '0-0' && claimed.length < count);
    return claimed;
  }

  async acknowledge(sku: string, entryIds: readonly string[]): Promise<void> {
    if (entryIds.length === 0) return;
    await this.redis.xack(skuKeys(sku).orders, EXPORT_GROUP, ...entryIds);
  }

  async trimExported(sku: string, before: Date): Promise<number> {
    return this.redis.trimExported(skuKeys(sku).orders, EXPORT_GROUP, `${before.getTime()}-0`);
  }

  async backlog(sku: string): Promise<Backlog> {
    const [pending, undelivered, oldest] = await this.redis.orderBacklog(skuKeys(sku).orders, EXPORT_GROUP);
    return {
      // -1: more undelivered entries than the script counts; at least that many
      pending: pending + (undelivered < 0 ? 100_000 : undelivered),
      oldest: oldest === '' ? null : orderTime(oldest),
    };
  }

  private toEntry(sku: string, entry: StreamEntry): OutboxEntry {
    return { sku, entryId: entry[0], order: toOrderRecord(sku, entry) };
  }
}
