import type { PurchaseService } from '../../domain/purchase';
import type { Metrics } from '../../observability/metrics';
import { refusePurchase } from '../purchase-refusal';
import { pathOf } from '../request-pipeline';
import type { RequestPart } from '../request-pipeline';
import type { Validators } from '../validation';
import type { WithBody } from './read-json-body';

/** the one route this part answers for, as the request path and as the metrics label */
const SAFE_PURCHASE = '/purchase/safe';

/**
 * The last part before the routes: a safe purchase of a SKU this process has marked sold out is refused
 * here, with the answer the script would give and no Redis round trip. Once a sale is over, that is
 * nearly all the traffic, and the routes (Express's router, and the request and response objects it
 * re-prototypes) would cost such a refusal more than everything else it takes together. Every part
 * before this one has run, as for any other answer. docs/performance.md, "The sold-out mark", has the
 * figures.
 *
 * Anything the marks do not refuse goes on to the routes: another route, a purchase that is not valid
 * (the route answers the 400), one with an Idempotency-Key (only the store knows whether it retries a
 * success), an unmarked SKU.
 */
export function refuseSoldOut(
  purchases: PurchaseService,
  validators: Validators,
  metrics: Metrics,
  answeredOn: (res: Parameters<RequestPart>[1], route: string) => void,
): RequestPart {
  return (req: WithBody, res, next) => {
    if (!purchases.refusesWithoutStore || req.method !== 'POST' || pathOf(req.url) !== SAFE_PURCHASE) {
      next();
      return;
    }
    let refusal;
    try {
      refusal = purchases.refusalWithoutStore(validators.purchase(req));
    } catch {
      next(); // not a valid purchase: the route answers it, with the full 400
      return;
    }
    if (refusal === undefined) {
      next();
      return;
    }
    answeredOn(res, SAFE_PURCHASE);
    refusePurchase(res, 'safe', refusal, metrics, next);
  };
}
