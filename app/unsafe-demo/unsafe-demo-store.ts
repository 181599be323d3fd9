import type { IdempotentAnswer } from '../domain/inventory-store';
import type { PurchaseMethod } from '../domain/types';

/**
 * What the race demo's purchase needs from storage: each step its own round trip, which is the point of
 * the demo. The real service's port (domain/inventory-store.ts) has none of these writes; the Redis
 * implementation is ./redis-unsafe-demo-store.ts.
 */
export interface UnsafeDemoStore {
  /** null: no such SKU */
  readStock(sku: string): Promise<number | null>;
  /** 0: no limit */
  readPerUserLimit(sku: string): Promise<number>;
  readUnitsBought(sku: string, userId: string): Promise<number>;
  readIdempotentAnswer(sku: string, key: string): Promise<IdempotentAnswer | null>;
  writeStock(sku: string, stock: number): Promise<void>;
  /** appends the order to the SKU's log and counts it; returns its `<stream entry id>:<token>` */
  recordSale(
    sku: string,
    quantity: number,
    userId: string,
    idempotencyKey: string,
    method: PurchaseMethod,
    token: string,
  ): Promise<string>;
  writeIdempotentAnswer(sku: string, key: string, answer: IdempotentAnswer): Promise<void>;
}
