import { skuKeys } from '../../app/redis/keys';
import type { RedisClient } from '../../app/redis/scripts';

export interface SkuState {
  readonly stock: number;
  /** units stocked: `initial` of the product hash */
  readonly stocked: number;
  readonly orders: { id: string; quantity: number; userId: string; method: string; key: string }[];
  /** Σ quantity of the orders in the log */
  readonly unitsInLog: number;
  readonly buyers: Record<string, number>;
}

/** Reads everything the design's invariants speak of, straight from Redis. */
export async function readSkuState(redis: RedisClient, sku: string): Promise<SkuState> {
  const k = skuKeys(sku);
  const [stock, product, entries, buyers] = await Promise.all([
    redis.get(k.stock),
    redis.hgetall(k.product),
    redis.xrange(k.orders, '-', '+'),
    redis.hgetall(k.buyers),
  ]);
  const orders = entries.map(([id, flat]) => {
    const fields: Record<string, string> = {};
    for (let i = 0; i + 1 < flat.length; i += 2) fields[flat[i] as string] = flat[i + 1] as string;
    return {
      id,
      quantity: Number(fields.q),
      userId: fields.u ?? '',
      method: fields.m ?? '',
      key: fields.k ?? '',
    };
  });
  return {
    stock: Number(stock),
    stocked: Number(product.initial),
    orders,
    unitsInLog: orders.reduce((sum, order) => sum + order.quantity, 0),
    buyers: Object.fromEntries(Object.entries(buyers).map(([user, units]) => [user, Number(units)])),
  };
}

/** Invariants 1 and 2 of the design: no oversell, never negative, stocked = remaining + Σ orders. */
export function expectConserved(state: SkuState): void {
  expect(state.stock).toBeGreaterThanOrEqual(0);
  expect(state.unitsInLog).toBeLessThanOrEqual(state.stocked);
  expect(state.stock + state.unitsInLog).toBe(state.stocked);
}

/**
 * Invariant 3 of the design: every order answered 200 is in the log, and the log holds no order that
 * was not answered 200 to someone. `answered` are the public order ids (`<sku>:<stream id>`).
 */
export function expectLogMatchesAnswers(sku: string, state: SkuState, answered: Iterable<string>): void {
  const inLog = new Set(state.orders.map((order) => `${sku}:${order.id}`));
  const mine = new Set([...answered].filter((orderId) => orderId.startsWith(`${sku}:`)));
  expect([...mine].filter((orderId) => !inLog.has(orderId))).toEqual([]);
  expect([...inLog].filter((orderId) => !mine.has(orderId))).toEqual([]);
}
