export type PurchaseMethod = 'safe' | 'unsafe';

export interface PurchaseRequest {
  readonly sku: string;
  readonly quantity: number;
  /** absent for an anonymous buyer: no per-user limit applies */
  readonly userId: string | undefined;
  readonly idempotencyKey: string | undefined;
}

export interface Purchase {
  readonly success: true;
  readonly method: PurchaseMethod;
  readonly orderId: string;
  readonly sku: string;
  readonly quantity: number;
  readonly remaining: number;
  /** true when this answers a retry of an earlier request with the same Idempotency-Key */
  readonly replayed: boolean;
}

export interface StockLevel {
  readonly sku: string;
  readonly current_stock: number;
  readonly initial_stock: number;
  /** units in the order log */
  readonly sold: number;
  /** orders in the order log */
  readonly orders: number;
}

export interface Product {
  readonly sku: string;
  readonly name: string;
  readonly price: number;
  readonly perUserLimit: number;
  readonly stock: number;
  readonly initialStock: number;
  readonly sold: number;
  readonly orders: number;
}

export interface ProductPage {
  readonly products: Product[];
  /** pass as `cursor` for the next page; null on the last page */
  readonly nextCursor: string | null;
}

export interface ProductInput {
  readonly name: string;
  readonly price: number;
  readonly stock: number;
  readonly perUserLimit: number;
}

export interface Order {
  readonly orderId: string;
  readonly sku: string;
  readonly quantity: number;
  /** null: an anonymous buyer; absent: a buyer this caller may not see (only the buyer and the admin may) */
  readonly userId?: string | null;
  readonly method: PurchaseMethod;
  readonly createdAt: string;
}

/** An order as the log holds it: what the worker exports to PostgreSQL and a lookup reads back. */
export interface OrderRecord {
  /** the public id: `<sku>:<stream entry id>:<token>` */
  readonly orderId: string;
  readonly sku: string;
  /** the SKU's sale it belongs to: orders since the same reset share it */
  readonly sale: number;
  readonly userId: string | null;
  readonly quantity: number;
  readonly method: PurchaseMethod;
  readonly idempotencyKey: string | null;
  /** when Redis wrote it: the time part of its stream entry id */
  readonly createdAt: Date;
}

/** Who asks for an order: the admin sees every buyer; anyone else only themselves. */
export interface OrderViewer {
  readonly admin: boolean;
  /** the userId the caller says they bought with (X-User-Id) */
  readonly userId: string | undefined;
}
