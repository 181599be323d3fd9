import type { ServerResponse } from 'node:http';
import type { AppError } from '../domain/errors';
import type { PurchaseMethod } from '../domain/types';
import type { Metrics } from '../observability/metrics';
import { sendProblem } from './problem';
import type { Next } from './request-pipeline';

/**
 * Answers a purchase the service refused (sold out, a limit, bad input, the store down), counted as that
 * purchase's outcome. The purchase routes and the sold-out refusal in front of them both answer here, so
 * a refusal is counted and written the same way whoever decides it.
 *
 * The answer goes out a turn of the event loop later, in its check phase: every refusal read in one turn
 * (a storm of late buyers of a sold-out SKU) is written together, as purchases answered by one Redis reply
 * are, rather than one write and one wake-up of the peer each. docs/performance.md has what that saves.
 * Outside the caller's stack, a fault in the write goes to `next`, never up to the event loop, where it
 * would end the process.
 */
export function refusePurchase(
  res: ServerResponse,
  method: PurchaseMethod,
  refusal: AppError,
  metrics: Metrics,
  next: Next,
): void {
  metrics.purchase(method, refusal.code);
  if (refusal.code === 'store_unavailable') metrics.redisError('unavailable');
  else if (refusal.code === 'purchase_outcome_unknown') metrics.redisError('no_answer');
  setImmediate(writeRefusal, res, refusal, next);
}

function writeRefusal(res: ServerResponse, refusal: AppError, next: Next): void {
  try {
    sendProblem(res, refusal);
  } catch (fault) {
    next(fault);
  }
}
