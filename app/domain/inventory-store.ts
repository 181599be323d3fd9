import type { OrderRecord, ProductInput, PurchaseMethod } from './types';

/**
 * What the domain needs from storage. The Redis implementation is app/redis/inventory-store.ts; the
 * domain never sees a Redis client, a key name or a Lua reply.
 */
export type PurchaseOutcome =
  | {
      readonly kind: 'purchased' | 'replayed';
      /** `<stream entry id>:<token>` */
      readonly orderRef: string;
      readonly quantity: number;
      readonly remaining: number;
    }
  | { readonly kind: 'unknown_sku' }
  | { readonly kind: 'sold_out'; readonly remaining: number }
  | { readonly kind: 'limit_exceeded'; readonly allowed: number }
  | { readonly kind: 'idempotency_key_reused' };

export interface StoredProduct {
  readonly name: string;
  readonly price: number;
  readonly perUserLimit: number;
  readonly initialStock: number;
  readonly sold: number;
  readonly stock: number;
  /** entries in the order log */
  readonly orders: number;
}

/** what a successful purchase stored under its Idempotency-Key */
export interface IdempotentAnswer {
  readonly orderRef: string;
  readonly quantity: number;
  readonly remaining: number;
  /** `quantity|userId` of the request that created it: a retry must match */
  readonly fingerprint: string;
}

export interface InventoryStore {
  /**
   * The atomic purchase: one round trip. Fails with StoreUnreachable when nothing was sent, with
   * OutcomeUnknown when the command may have run and its answer was lost.
   */
  purchase(
    sku: string,
    quantity: number,
    userId: string,
    idempotencyKey: string,
    method: PurchaseMethod,
    /** the unguessable part of the new order's id (order-id.ts) */
    token: string,
  ): Promise<PurchaseOutcome>;
  /** waits until `replicas` replicas acknowledged this process's writes; returns how many did */
  waitForReplicas(replicas: number, timeoutMs: number): Promise<number>;

  resetStock(sku: string, amount: number): Promise<{ created: boolean }>;
  putProduct(sku: string, input: ProductInput, onlyIfMissing: boolean): Promise<{ created: boolean }>;
  getProduct(sku: string): Promise<StoredProduct | null>;
  /** up to `limit` SKUs in name order, after `after` (from the first when undefined) */
  listSkus(after: string | undefined, limit: number): Promise<string[]>;
  /** the order at `entryId` in the SKU's log, if its token matches */
  getOrder(sku: string, entryId: string, token: string): Promise<OrderRecord | null>;

  /** what a purchase with this Idempotency-Key stored, if one did */
  readIdempotentAnswer(sku: string, key: string): Promise<IdempotentAnswer | null>;
}
