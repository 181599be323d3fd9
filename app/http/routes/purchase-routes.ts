import type { NextFunction, Request, RequestHandler, Response, Router } from 'express';
import { AppError } from '../../domain/errors';
import type { PurchaseService } from '../../domain/purchase';
import type { Purchase, PurchaseMethod, PurchaseRequest } from '../../domain/types';
import type { Metrics } from '../../observability/metrics';
import type { UnsafePurchase } from '../../unsafe-demo/unsafe-purchase';
import { isOutOfMemory, isStoreUnavailable } from '../../redis/errors';
import { sendJson } from '../problem';
import { refusePurchase } from '../purchase-refusal';
import type { Validators } from '../validation';

export interface PurchaseRouteOptions {
  /** the race demo's purchase; undefined when the endpoint is off (UNSAFE_ENDPOINT=off) */
  readonly unsafe: UnsafePurchase | undefined;
  /** runs before every purchase the app answers (the fleet-wide rate limits), when there is one */
  readonly admission?: RequestHandler | undefined;
}

function outcomeOf(error: unknown): string {
  if (isOutOfMemory(error)) return 'store_out_of_memory';
  return isStoreUnavailable(error) ? 'store_unavailable' : 'error';
}

/**
 * Registers the purchase routes on `router`, which is the app itself: they are the traffic, and a nested
 * router would cost every purchase one more dispatch (path trimming, its own layer walk).
 */
export function purchaseRoutes(
  router: Router,
  service: PurchaseService,
  validators: Validators,
  metrics: Metrics,
  options: PurchaseRouteOptions,
): void {
  const handle =
    (method: PurchaseMethod, buy: (req: PurchaseRequest) => Promise<Purchase>) =>
    async (req: Request, res: Response, next: NextFunction): Promise<void> => {
      let purchase: Purchase;
      try {
        purchase = await buy(validators.purchase(req));
      } catch (error) {
        // A refusal (sold out, limit, bad input) is an answer, not a failure: sent from here rather than
        // unwound through Express's error handling, which is most of its cost.
        if (error instanceof AppError) {
          refusePurchase(res, method, error, metrics, next);
          return;
        }
        metrics.purchase(method, outcomeOf(error));
        throw error;
      }
      metrics.purchase(method, purchase.replayed ? 'replayed' : 'ok');
      // A replay answers exactly what the first request was answered; the header tells them apart.
      if (purchase.replayed) res.setHeader('Idempotent-Replayed', 'true');
      sendJson(res, 200, {
        success: purchase.success,
        method: purchase.method,
        orderId: purchase.orderId,
        sku: purchase.sku,
        quantity: purchase.quantity,
        remaining: purchase.remaining,
      });
    };

  const before = options.admission ? [options.admission] : [];
  router.post(
    '/purchase/safe',
    ...before,
    handle('safe', (req) => service.purchaseSafe(req)),
  );

  const unsafe = options.unsafe;
  router.post(
    '/purchase/unsafe',
    unsafe
      ? [...before, handle('unsafe', (req) => unsafe.buy(req))]
      : () => {
          throw new AppError('unsafe_disabled', 'the unsafe endpoint is disabled here (UNSAFE_ENDPOINT=off)');
        },
  );
}
