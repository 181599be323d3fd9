import type { IdempotentAnswer } from '../domain/inventory-store';
import type { PurchaseMethod } from '../domain/types';
import { encodeAnswer, readIdempotentAnswer } from '../redis/idempotent-answer';
import { toInt } from '../redis/inventory-store';
import { skuKeys } from '../redis/keys';
import { orderFields } from '../redis/order-entry';
import type { RedisClient } from '../redis/scripts';
import type { UnsafeDemoStore } from './unsafe-demo-store';

/** The demo's steps as plain Redis commands on the real service's keys, one round trip each. */
export class RedisUnsafeDemoStore implements UnsafeDemoStore {
  constructor(private readonly redis: RedisClient) {}

  async readStock(sku: string): Promise<number | null> {
    const stock = await this.redis.get(skuKeys(sku).stock);
    return stock === null ? null : toInt(stock);
  }

  async readPerUserLimit(sku: string): Promise<number> {
    return toInt((await this.redis.hget(skuKeys(sku).product, 'perUserLimit')) ?? undefined);
  }

  async readUnitsBought(sku: string, userId: string): Promise<number> {
    return toInt((await this.redis.hget(skuKeys(sku).buyers, userId)) ?? undefined);
  }

  readIdempotentAnswer(sku: string, key: string): Promise<IdempotentAnswer | null> {
    return readIdempotentAnswer(this.redis, sku, key);
  }

  async writeStock(sku: string, stock: number): Promise<void> {
    await this.redis.set(skuKeys(sku).stock, stock);
  }

  async recordSale(
    sku: string,
    quantity: number,
    userId: string,
    idempotencyKey: string,
    method: PurchaseMethod,
    token: string,
  ): Promise<string> {
    const k = skuKeys(sku);
    if (userId !== '') await this.redis.hincrby(k.buyers, userId, quantity);
    await this.redis.hincrby(k.product, 'sold', quantity);
    await this.redis.hincrby(k.product, 'orders', 1);
    const sale = (await this.redis.hget(k.product, 'sale')) ?? '0';
    const id = await this.redis.xadd(
      k.orders,
      '*',
      ...orderFields({ quantity, userId, method, idempotencyKey, sale: Number(sale), token }),
    );
    if (id === null) throw new Error('XADD returned no id');
    return `${id}:${token}`;
  }

  async writeIdempotentAnswer(sku: string, key: string, answer: IdempotentAnswer): Promise<void> {
    await this.redis.hset(skuKeys(sku).idempotency, key, encodeAnswer(answer));
  }
}
