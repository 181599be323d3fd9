import type {
  IdempotentAnswer,
  InventoryStore,
  PurchaseOutcome,
  StoredProduct,
} from '../domain/inventory-store';
import type { OrderRecord, ProductInput, PurchaseMethod } from '../domain/types';
import { readIdempotentAnswer } from './idempotent-answer';
import { catalogueKey, legacyCatalogueKey, restockChannel, skuKeys } from './keys';
import { sameToken, toOrderRecord } from './order-entry';
import { sendOnce } from './send-once';
import type { PurchaseReply, RedisClient } from './scripts';

/** Codes returned by purchase-5.lua; see the script's header. */
export const PurchaseCode = {
  Purchased: 1,
  Replayed: 2,
  UnknownSku: -1,
  SoldOut: -2,
  LimitExceeded: -3,
  IdempotencyKeyReused: -4,
} as const;

/** Refuses a reply of the wrong shape before domain code sees it (a script/loader mismatch is a bug). */
function checkPurchaseReply(reply: unknown): PurchaseReply {
  if (
    Array.isArray(reply) &&
    reply.length === 4 &&
    typeof reply[0] === 'number' &&
    (typeof reply[1] === 'string' || Buffer.isBuffer(reply[1])) &&
    typeof reply[2] === 'number' &&
    typeof reply[3] === 'number'
  ) {
    return [reply[0], String(reply[1]), reply[2], reply[3]];
  }
  throw new Error(`purchase script returned an unexpected reply: ${JSON.stringify(reply)}`);
}

export function toPurchaseOutcome(reply: unknown): PurchaseOutcome {
  const [code, orderRef, quantity, remaining] = checkPurchaseReply(reply);
  switch (code) {
    case PurchaseCode.Purchased:
      return { kind: 'purchased', orderRef, quantity, remaining };
    case PurchaseCode.Replayed:
      return { kind: 'replayed', orderRef, quantity, remaining };
    case PurchaseCode.UnknownSku:
      return { kind: 'unknown_sku' };
    case PurchaseCode.SoldOut:
      return { kind: 'sold_out', remaining };
    case PurchaseCode.LimitExceeded:
      return { kind: 'limit_exceeded', allowed: Math.max(0, remaining) };
    case PurchaseCode.IdempotencyKeyReused:
      return { kind: 'idempotency_key_reused' };
    default:
      throw new Error(`purchase script returned an unknown code ${code}`);
  }
}

export const toInt = (value: string | undefined): number =>
  value === undefined ? 0 : Number.parseInt(value, 10);

export class RedisInventoryStore implements InventoryStore {
  constructor(private readonly redis: RedisClient) {}

  async purchase(
    sku: string,
    quantity: number,
    userId: string,
    idempotencyKey: string,
    method: PurchaseMethod,
    token: string,
  ): Promise<PurchaseOutcome> {
    const k = skuKeys(sku);
    const reply = await sendOnce(() =>
      this.redis.purchase(
        k.stock,
        k.product,
        k.buyers,
        k.orders,
        k.idempotency,
        quantity,
        userId,
        idempotencyKey,
        method,
        token,
      ),
    );
    return toPurchaseOutcome(reply);
  }

  async waitForReplicas(replicas: number, timeoutMs: number): Promise<number> {
    return this.redis.wait(replicas, timeoutMs);
  }

  async resetStock(sku: string, amount: number): Promise<{ created: boolean }> {
    const k = skuKeys(sku);
    const created = await this.redis.resetStock(
      k.stock,
      k.product,
      k.buyers,
      k.idempotency,
      amount,
      sku,
      restockChannel,
      sku,
    );
    // on every reset, not only the one that created the SKU: see putProduct
    await this.redis.zadd(catalogueKey, 0, sku);
    return { created: created === 1 };
  }

  async putProduct(sku: string, input: ProductInput, onlyIfMissing: boolean): Promise<{ created: boolean }> {
    const k = skuKeys(sku);
    const created = await this.redis.putProduct(
      k.stock,
      k.product,
      input.name,
      String(input.price),
      input.stock,
      input.perUserLimit,
      onlyIfMissing ? '1' : '0',
      restockChannel,
      sku,
    );
    // The catalogue set lives in another slot, so it cannot join the script; adding is idempotent and
    // done on every write, so a crash between the two heals on the next write.
    await this.redis.zadd(catalogueKey, 0, sku);
    return { created: created === 1 };
  }

  async getProduct(sku: string): Promise<StoredProduct | null> {
    const k = skuKeys(sku);
    const [fields, stock] = await Promise.all([this.redis.hgetall(k.product), this.redis.get(k.stock)]);
    if (stock === null) return null;
    return {
      name: fields.name ?? sku,
      price: Number(fields.price ?? 0),
      perUserLimit: toInt(fields.perUserLimit),
      initialStock: toInt(fields.initial),
      sold: toInt(fields.sold),
      stock: toInt(stock),
      orders: toInt(fields.orders),
    };
  }

  /** Adds the SKUs of the catalogue's former plain set to the sorted one; returns how many there were. */
  async adoptLegacyCatalogue(): Promise<number> {
    if ((await this.redis.type(legacyCatalogueKey)) !== 'set') return 0;
    const skus = await this.redis.smembers(legacyCatalogueKey);
    for (let i = 0; i < skus.length; i += 1000) {
      await this.redis.zadd(catalogueKey, ...skus.slice(i, i + 1000).flatMap((sku) => [0, sku]));
    }
    return skus.length;
  }

  async listSkus(after: string | undefined, limit: number): Promise<string[]> {
    return this.redis.zrangebylex(
      catalogueKey,
      after === undefined ? '-' : `(${after}`,
      '+',
      'LIMIT',
      0,
      limit,
    );
  }

  async getOrder(sku: string, entryId: string, token: string): Promise<OrderRecord | null> {
    const entries = await this.redis.xrange(skuKeys(sku).orders, entryId, entryId, 'COUNT', 1);
    const entry = entries[0];
    if (!entry) return null;
    const order = toOrderRecord(sku, entry);
    // The token is the part of an order id nobody can guess: compared in constant time, so that a
    // caller cannot learn it a character at a time from how long a refusal takes.
    return sameToken(order.token, token) ? order : null;
  }

  readIdempotentAnswer(sku: string, key: string): Promise<IdempotentAnswer | null> {
    return readIdempotentAnswer(this.redis, sku, key);
  }
}
