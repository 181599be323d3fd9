import { skuKeys } from '../../app/redis/keys';
import { toOrderRecord } from '../../app/redis/order-entry';
import type { RedisClient } from '../../app/redis/scripts';

export interface LoggedOrder {
  /** the stream entry id */
  readonly id: string;
  /** the public order id */
  readonly orderId: string;
  readonly quantity: number;
  readonly userId: string;
  readonly method: string;
  readonly key: string;
  readonly sale: number;
}

export interface SkuState {
  readonly stock: number;
  /** units stocked: `initial` of the product hash */
  readonly stocked: number;
  /** the current sale: `sale` of the product hash */
  readonly sale: number;
  /** the orders of the current sale (since the last reset), oldest first */
  readonly orders: LoggedOrder[];
  /** every order still in the stream, earlier sales' included */
  readonly log: LoggedOrder[];
  /** Σ quantity of the orders of the current sale */
  readonly unitsInLog: number;
  readonly buyers: Record<string, number>;
}

/**
 * Reads everything the design's invariants speak of, straight from Redis: the tests' invariant checks and
 * the demo's failover act (which orders answered 200 are still in the log) read a SKU the same way.
 */
export async function readSkuState(redis: RedisClient, sku: string): Promise<SkuState> {
  const k = skuKeys(sku);
  const [stock, product, entries, buyers] = await Promise.all([
    redis.get(k.stock),
    redis.hgetall(k.product),
    redis.xrange(k.orders, '-', '+'),
    redis.hgetall(k.buyers),
  ]);
  const log = entries.map((entry): LoggedOrder => {
    const order = toOrderRecord(sku, entry);
    return {
      id: order.entryId,
      orderId: order.orderId,
      quantity: order.quantity,
      userId: order.userId ?? '',
      method: order.method,
      key: order.idempotencyKey ?? '',
      sale: order.sale,
    };
  });
  const sale = Number(product.sale ?? 0);
  const orders = log.filter((order) => order.sale === sale);
  return {
    stock: Number(stock),
    stocked: Number(product.initial),
    sale,
    orders,
    log,
    unitsInLog: orders.reduce((sum, order) => sum + order.quantity, 0),
    buyers: Object.fromEntries(Object.entries(buyers).map(([user, units]) => [user, Number(units)])),
  };
}
