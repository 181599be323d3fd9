import { AppError } from './errors';
import type { InventoryStore, StoredProduct } from './inventory-store';
import { formatOrderId, orderTime, parseOrderId } from './order-id';
import type { Order, Product, ProductInput, StockLevel } from './types';

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
  constructor(private readonly store: InventoryStore) {}

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

  async products(): Promise<Product[]> {
    const skus = await this.store.listSkus();
    const stored = await Promise.all(skus.map((sku) => this.store.getProduct(sku)));
    return skus.flatMap((sku, i) => {
      const product = stored[i];
      return product ? [toProduct(sku, product)] : [];
    });
  }

  async order(orderId: string): Promise<Order> {
    const parsed = parseOrderId(orderId);
    const stored = parsed && (await this.store.getOrder(parsed.sku, parsed.orderRef));
    if (!parsed || !stored) throw new AppError('unknown_order', `no order with id ${orderId}`);
    return {
      orderId: formatOrderId(parsed.sku, stored.orderRef),
      sku: parsed.sku,
      quantity: stored.quantity,
      userId: stored.userId === '' ? null : stored.userId,
      method: stored.method === 'unsafe' ? 'unsafe' : 'safe',
      createdAt: orderTime(stored.orderRef).toISOString(),
    };
  }
}
