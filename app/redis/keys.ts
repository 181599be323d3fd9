/**
 * The one place that builds Redis key names.
 *
 * Every key of a SKU carries the SKU as its hash tag (`{sku}`), so that all of them live in one Redis
 * Cluster slot and one Lua script may touch them together. Scripts never build key names: callers pass
 * every key in KEYS, which is what lets the same scripts run on standalone, Sentinel and Cluster.
 *
 * The SKU alphabet (`[A-Za-z0-9._-]`) has no braces or colons, so a SKU can neither break out of its
 * hash tag nor collide with another SKU's keys.
 */
const PREFIX = 'fs';

export interface SkuKeys {
  /** string: units left to sell */
  readonly stock: string;
  /** hash: name, price, initial (units stocked), sold (units in the order log), perUserLimit */
  readonly product: string;
  /** hash: userId -> units bought */
  readonly buyers: string;
  /** stream: one entry per order (fields q, u, m, k) */
  readonly orders: string;
  /**
   * hash: Idempotency-Key -> stored answer. A hash rather than a key per record so that a reset clears
   * every record atomically, inside the script, with the key passed in KEYS. It holds one field per
   * successful purchase that carried a key, until the SKU is reset (a PUT that restocks keeps them).
   */
  readonly idempotency: string;
}

export function skuKeys(sku: string): SkuKeys {
  const base = `${PREFIX}:{${sku}}`;
  return {
    stock: `${base}:stock`,
    product: `${base}:product`,
    buyers: `${base}:buyers`,
    orders: `${base}:orders`,
    idempotency: `${base}:idem`,
  };
}

/**
 * Every SKU of the catalogue: a sorted set whose scores are all 0, so that its members sort by name and a
 * page of the listing is one ZRANGE BYLEX from the last SKU of the page before, whatever the catalogue's
 * size. Outside any SKU's slot, so never touched by a script.
 */
export const catalogueKey = `${PREFIX}:catalogue`;

/**
 * Pub/sub channel of restocks: the reset and put-product scripts publish the SKU there once its new stock
 * is written, and every instance listens, to drop its sold-out mark. Plain PUBLISH reaches every node
 * of a Redis Cluster, so one channel serves every topology.
 */
export const restockChannel = `${PREFIX}:restock`;

/**
 * Where the catalogue was kept before it became a sorted set: a plain set. Its members are added to the
 * sorted set at start-up (`adoptLegacyCatalogue`), so that a deployment upgraded in place lists every SKU.
 */
export const legacyCatalogueKey = `${PREFIX}:products`;

/**
 * Prefixes of the fleet-wide rate-limit counters (app/redis/rate-limits.ts): one string per buyer or client
 * address per window, `fs:ratelimit:user:<userId>` and `fs:ratelimit:ip:<address>`, expiring with the
 * window. A counter is one key touched alone, so it may live in any Cluster slot.
 */
export const rateLimitKeyPrefix = {
  user: `${PREFIX}:ratelimit:user`,
  ip: `${PREFIX}:ratelimit:ip`,
} as const;
