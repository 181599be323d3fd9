import { AppError } from './errors';
import type { InventoryStore, StoredProduct } from './inventory-store';
import { formatOrderId, parseOrderId } from './order-id';
import type {
  Order,
  OrderRecord,
  OrderViewer,
  Product,
  ProductInput,
  ProductPage,
  StockLevel,
} from './types';

/** Where orders go once exported: the system of record, read when Redis no longer holds an order. */
export interface OrderArchive {
  findOrder(orderId: string): Promise<OrderRecord | null>;
  /** the latest order of `sku` bought with this Idempotency-Key */
  findByIdempotencyKey(sku: string, key: string): Promise<OrderRecord | null>;
}

/** the buyer's identity goes to the buyer and the admin only (an anonymous order has none to hide) */
const mayIdentify = (found: OrderRecord, viewer: OrderViewer): boolean =>
  viewer.admin || found.userId === null || viewer.userId === found.userId;

function toOrder(found: OrderRecord, identifyBuyer: boolean): Order {
  return {
    orderId: found.orderId,
    sku: found.sku,
    quantity: found.quantity,
    ...(identifyBuyer ? { userId: found.userId } : {}),
    method: found.method,
    createdAt: found.createdAt.toISOString(),
  };
}

const toProduct = (sku: string, stored: StoredProduct): Product => ({
  sku,
  name: stored.name,
  price: stored.price,
  perUserLimit: stored.perUserLimit,
  stock: stored.stock,
  initialStock: stored.initialStock,
  sold: stored.sold,
  orders: stored.orders,
});

/** Stock, products and orders: everything but the purchase itself. */
export class Catalogue {
  constructor(
    private readonly store: InventoryStore,
    /** none: only the orders still in Redis can be looked up */
    private readonly archive?: OrderArchive,
  ) {}

  async stockLevel(sku: string): Promise<StockLevel> {
    const product = await this.store.getProduct(sku);
    if (!product) throw new AppError('unknown_sku', `no product with SKU ${sku}`);
    return {
      sku,
      current_stock: product.stock,
      initial_stock: product.initialStock,
      sold: product.sold,
      orders: product.orders,
    };
  }

  /** New stock, and the SKU's orders, buyers and idempotency records forgotten, atomically. */
  async resetStock(
    sku: string,
    amount: number,
  ): Promise<{ message: string; sku: string; new_stock: number }> {
    await this.store.resetStock(sku, amount);
    return { message: `stock of ${sku} reset to ${amount}`, sku, new_stock: amount };
  }

  async putProduct(sku: string, input: ProductInput): Promise<{ created: boolean; product: Product }> {
    const { created } = await this.store.putProduct(sku, input, false);
    return { created, product: await this.product(sku) };
  }

  /** Creates the default SKU on first start-up so that body-less purchases work; never overwrites it. */
  async ensureProduct(sku: string, input: ProductInput): Promise<void> {
    await this.store.putProduct(sku, input, true);
  }

  async product(sku: string): Promise<Product> {
    const stored = await this.store.getProduct(sku);
    if (!stored) throw new AppError('unknown_sku', `no product with SKU ${sku}`);
    return toProduct(sku, stored);
  }

  /**
   * One page of the catalogue, in SKU order: at most `limit` products read in one round trip after the
   * one that lists their SKUs, so that a call costs the same whatever the catalogue's size.
   */
  async products(page: { limit: number; after: string | undefined }): Promise<ProductPage> {
    const skus = await this.store.listSkus(page.after, page.limit);
    const stored = await Promise.all(skus.map((sku) => this.store.getProduct(sku)));
    const products = skus.flatMap((sku, i) => {
      const product = stored[i];
      return product ? [toProduct(sku, product)] : [];
    });
    return { products, nextCursor: skus.length === page.limit ? (skus[skus.length - 1] ?? null) : null };
  }

  /**
   * An order by its id: from the SKU's log in Redis, else from PostgreSQL, which holds every order the
   * worker exported, those of earlier sales and those trimmed from Redis included.
   */
  async order(orderId: string, viewer: OrderViewer): Promise<Order> {
    const parsed = parseOrderId(orderId);
    const found =
      parsed &&
      ((await this.store.getOrder(parsed.sku, parsed.entryId, parsed.token)) ??
        (await this.archive?.findOrder(orderId)));
    if (!found) throw new AppError('unknown_order', `no order with id ${orderId}`);
    return toOrder(found, mayIdentify(found, viewer));
  }

  /**
   * The purchase made with an Idempotency-Key: how a client whose purchase got no answer (an unknown
   * outcome) finds out whether it was made. The key is the buyer's own secret, so its holder is shown
   * as the buyer.
   */
  async orderByIdempotencyKey(sku: string, key: string): Promise<Order> {
    const answer = await this.store.readIdempotentAnswer(sku, key);
    const [entryId = '', token = ''] = answer?.orderRef.split(':') ?? [];
    const found =
      (answer && (await this.store.getOrder(sku, entryId, token))) ??
      (answer && (await this.archive?.findOrder(formatOrderId(sku, answer.orderRef)))) ??
      (await this.archive?.findByIdempotencyKey(sku, key));
    if (!found) {
      throw new AppError(
        'unknown_order',
        `no purchase of ${sku} was made with this Idempotency-Key: buying again with it is safe`,
      );
    }
    return toOrder(found, true);
  }
}
