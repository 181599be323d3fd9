import { setTimeout as sleep } from 'node:timers/promises';
import { newOrderToken } from '../domain/order-id';
import { toPurchase } from '../domain/purchase';
import type { Purchase, PurchaseRequest } from '../domain/types';
import type { UnsafeDemoStore } from './unsafe-demo-store';

const fingerprint = (req: PurchaseRequest): string => `${req.quantity}|${req.userId ?? ''}`;

/**
 * The deliberately broken purchase behind POST /purchase/unsafe: what a naive developer writes. Each step
 * is its own round trip and nothing stops another request from reading the same stock between our read
 * and our write, so under concurrency two buyers get the same unit and the write of one is lost (oversell,
 * lost updates). It answers as the safe purchase does, so that the demo compares only the race.
 * Do not copy this.
 */
export class UnsafePurchase {
  constructor(
    private readonly store: UnsafeDemoStore,
    /** pause between the read and the write, to widen the race window for the demo */
    private readonly delayMs: number,
  ) {}

  async buy(req: PurchaseRequest): Promise<Purchase> {
    const { sku, quantity } = req;
    const userId = req.userId ?? '';
    const key = req.idempotencyKey ?? '';
    if (key !== '') {
      const earlier = await this.store.readIdempotentAnswer(sku, key);
      if (earlier) {
        if (earlier.fingerprint !== fingerprint(req))
          return toPurchase(req, 'unsafe', { kind: 'idempotency_key_reused' });
        return toPurchase(req, 'unsafe', { kind: 'replayed', ...earlier });
      }
    }
    const stock = await this.store.readStock(sku);
    if (stock === null) return toPurchase(req, 'unsafe', { kind: 'unknown_sku' });
    if (stock < quantity) return toPurchase(req, 'unsafe', { kind: 'sold_out', remaining: stock });
    if (userId !== '') {
      const limit = await this.store.readPerUserLimit(sku);
      const bought = await this.store.readUnitsBought(sku, userId);
      if (limit > 0 && bought + quantity > limit) {
        return toPurchase(req, 'unsafe', { kind: 'limit_exceeded', allowed: limit - bought });
      }
    }
    if (this.delayMs > 0) await sleep(this.delayMs);
    const remaining = stock - quantity;
    await this.store.writeStock(sku, remaining);
    const orderRef = await this.store.recordSale(sku, quantity, userId, key, 'unsafe', newOrderToken());
    if (key !== '') {
      await this.store.writeIdempotentAnswer(sku, key, {
        orderRef,
        quantity,
        remaining,
        fingerprint: fingerprint(req),
      });
    }
    return toPurchase(req, 'unsafe', { kind: 'purchased', orderRef, quantity, remaining });
  }
}
