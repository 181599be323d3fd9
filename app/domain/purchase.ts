import { AppError, OutcomeUnknown, StoreUnreachable } from './errors';
import type { InventoryStore, PurchaseOutcome } from './inventory-store';
import { formatOrderId, newOrderToken } from './order-id';
import type { SoldOutMarks } from './sold-out-marks';
import type { Purchase, PurchaseMethod, PurchaseRequest } from './types';

export interface PurchaseOptions {
  /** WAIT for this many replicas before answering 200 (0: answer as soon as the primary has it) */
  readonly waitReplicas: number;
  readonly waitTimeoutMs: number;
}

/** Turns a refusal into its AppError, or a success into the answer. */
export function toPurchase(req: PurchaseRequest, method: PurchaseMethod, outcome: PurchaseOutcome): Purchase {
  switch (outcome.kind) {
    case 'purchased':
    case 'replayed':
      return {
        success: true,
        method,
        orderId: formatOrderId(req.sku, outcome.orderRef),
        sku: req.sku,
        quantity: outcome.quantity,
        remaining: outcome.remaining,
        replayed: outcome.kind === 'replayed',
      };
    case 'unknown_sku':
      throw new AppError('unknown_sku', `no product with SKU ${req.sku}`);
    case 'sold_out':
      throw soldOut(req, outcome.remaining);
    case 'limit_exceeded':
      throw new AppError('limit_exceeded', `this user may buy ${outcome.allowed} more of ${req.sku}`, {
        allowed: outcome.allowed,
      });
    case 'idempotency_key_reused':
      throw new AppError(
        'idempotency_key_reused',
        'this Idempotency-Key was already used for a purchase with another quantity or user',
      );
  }
}

function soldOut(req: PurchaseRequest, remaining: number): AppError {
  return new AppError(
    'sold_out',
    remaining === 0
      ? `${req.sku} is sold out`
      : `only ${remaining} of ${req.sku} left, ${req.quantity} requested`,
    { remaining },
  );
}

export class PurchaseService {
  constructor(
    private readonly store: InventoryStore,
    private readonly options: PurchaseOptions,
    /** SKUs known sold out, refused without a round trip; none: every purchase asks the store */
    private readonly soldOut?: SoldOutMarks,
  ) {}

  /** true while some SKU is marked sold out here: only then can `refusalWithoutStore` refuse anything */
  get refusesWithoutStore(): boolean {
    return this.soldOut?.refusesAny() === true;
  }

  /**
   * The answer to a safe purchase when this process can give it without the store: the sold-out refusal
   * the script would give, for a SKU marked sold out. Undefined when only the store can answer.
   */
  refusalWithoutStore(req: PurchaseRequest): AppError | undefined {
    // With an Idempotency-Key the answer may be the replay of an earlier success, which only the store
    // knows: such a request always asks it. Without one, the script would answer sold_out, as we do.
    if (this.soldOut && req.idempotencyKey === undefined && this.soldOut.isSoldOut(req.sku)) {
      return soldOut(req, 0);
    }
    return undefined;
  }

  /** The atomic purchase: a single script does every check and write in one round trip. */
  async purchaseSafe(req: PurchaseRequest): Promise<Purchase> {
    const refusal = this.refusalWithoutStore(req);
    if (refusal) throw refusal;
    const marks = this.soldOut;
    const generation = marks?.generation ?? 0;
    let outcome: PurchaseOutcome;
    try {
      outcome = await this.store.purchase(
        req.sku,
        req.quantity,
        req.userId ?? '',
        req.idempotencyKey ?? '',
        'safe',
        newOrderToken(),
      );
    } catch (error) {
      throw asPurchaseFailure(req, error);
    }
    if (marks && outcome.kind === 'sold_out' && outcome.remaining === 0) marks.mark(req.sku, generation);
    const purchase = toPurchase(req, 'safe', outcome);
    // A replay too: it may be the retry of a purchase answered 503 because no replica confirmed it, and
    // the order may still be held by the primary alone.
    if ((outcome.kind === 'purchased' || outcome.kind === 'replayed') && this.options.waitReplicas > 0) {
      await this.awaitReplication(req);
    }
    return purchase;
  }

  /**
   * Replication is asynchronous: a failover can lose the last writes the primary acknowledged. With
   * REDIS_WAIT_REPLICAS set, a purchase is answered 200 only once that many replicas hold it; if they do
   * not confirm in time (or the WAIT itself fails) the order may or may not survive a failover, so the
   * client is told the outcome is unknown, and resolves it with its Idempotency-Key: a retry returns this
   * same order if it survived and sells anew if it did not.
   */
  private async awaitReplication(req: PurchaseRequest): Promise<void> {
    let acknowledged: number;
    try {
      acknowledged = await this.store.waitForReplicas(this.options.waitReplicas, this.options.waitTimeoutMs);
    } catch {
      throw outcomeUnknown(req, 'its copy to the replicas could not be confirmed');
    }
    if (acknowledged < this.options.waitReplicas) {
      throw outcomeUnknown(req, `it was not confirmed by ${this.options.waitReplicas} replica(s) in time`);
    }
  }
}

/** The answer to a purchase the store failed: nothing sent (retry at will), or an outcome unknown. */
function asPurchaseFailure(req: PurchaseRequest, error: unknown): unknown {
  if (error instanceof StoreUnreachable) {
    return new AppError(
      'store_unavailable',
      'the inventory store is unreachable; nothing was bought; retry shortly',
    );
  }
  if (error instanceof OutcomeUnknown) return outcomeUnknown(req, 'its answer was lost on the way back');
  return error;
}

function outcomeUnknown(req: PurchaseRequest, why: string): AppError {
  const resolve =
    req.idempotencyKey === undefined
      ? 'This request had no Idempotency-Key, so a retry would be a new purchase: send one with every purchase.'
      : `Retry with the same Idempotency-Key (it answers this purchase if it was made, and buys once if it was not), or look it up: GET /orders?sku=${req.sku} with that Idempotency-Key header.`;
  return new AppError('purchase_outcome_unknown', `the purchase may have been made: ${why}. ${resolve}`);
}
