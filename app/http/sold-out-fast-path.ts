import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import type { PurchaseService } from '../domain/purchase';
import type { Logger } from '../observability/logger';
import type { Metrics } from '../observability/metrics';
import type { JsonBody } from './middleware/read-json-body';
import { handOverBody, hasBody, isPlainJsonBody, readPlainJsonBody } from './middleware/read-json-body';
import type { RequestObserver } from './middleware/observe-requests';
import type { SecurityHeaders } from './middleware/security-headers';
import { sendRefusal } from './problem';
import type { Validators } from './validation';

/** the one route this answers, as the request line and as the metrics label */
const SAFE_PURCHASE = '/purchase/safe';

export interface FastPathParts {
  readonly purchases: PurchaseService;
  readonly validators: Validators;
  readonly observer: RequestObserver;
  readonly securityHeaders: SecurityHeaders;
  readonly metrics: Metrics;
  readonly logger: Logger;
  readonly bodyLimit: number;
}

/** helmet's `next`: it only ever passes an error on, and here an error is a fault of ours */
const rethrow = (error?: unknown): void => {
  if (error === undefined) return;
  throw error instanceof Error ? error : new Error('the security headers failed', { cause: error });
};

/**
 * Sold-out refusals, answered in front of Express.
 *
 * Once a flash sale is over, the traffic is late buyers of a SKU this process has marked sold out
 * (domain/sold-out-marks.ts). Their answer needs no Redis round trip, and yet through Express it would
 * cost about as much as Express's own bare route: on the 2-core machine, most of a request's CPU is
 * Express's (its router, and the request and response objects it re-prototypes), not ours. So a safe
 * purchase of a marked SKU is refused here, before the app, with the answer the route would give: the
 * same request observer (instance header, latency by route and status), the same security headers, the
 * same problem document, the same purchase metric. `test/sold-out-fast-path.test.ts` compares the two
 * answers header by header.
 *
 * Everything else goes to the app unchanged: other routes, a purchase with an Idempotency-Key (only the
 * store knows whether it is the retry of a success), a body in any but the plain shape, a body that is not
 * valid JSON or not a valid purchase (the app gives the 400), and every purchase no mark refuses. A body
 * read here is handed over to the app's body reader, never read twice, and the request's clock starts
 * here, so its time includes that read whoever answers. While no mark is live (none set, or all
 * expired), nothing is read here at all.
 *
 * This is outside Express's error handling: a fault here (a throw while writing the refusal) would be an
 * uncaught exception, i.e. the end of the process. So a fault is logged and the request handed to the
 * app, which runs the same parts again and answers a fault of theirs with its 500; the purchase is
 * counted only once its refusal is written, so a handed-over one is counted once, by the app. A fault
 * after the first bytes went out cannot be answered any more: the connection is cut.
 */
export function soldOutFastPath(app: RequestListener, parts: FastPathParts): RequestListener {
  const { purchases, validators, observer, securityHeaders, metrics, logger, bodyLimit } = parts;

  const handOver = (req: IncomingMessage, res: ServerResponse, fault: unknown): void => {
    logger.error({ err: fault, route: SAFE_PURCHASE }, 'sold-out fast path failed; the app answers instead');
    if (res.headersSent) res.destroy();
    else app(req, res);
  };

  /** the refusal, when the marks give one; else the request goes on to the app */
  const answer = (req: IncomingMessage, res: ServerResponse, body: unknown): void => {
    let purchase;
    try {
      purchase = validators.purchaseOf(body, undefined);
    } catch {
      app(req, res); // not a valid purchase: the app answers it, with the full 400
      return;
    }
    const refusal = purchases.refusalWithoutStore(purchase);
    if (refusal === undefined) {
      app(req, res);
      return;
    }
    try {
      observer.answeredEarly(res, SAFE_PURCHASE);
      securityHeaders(req, res, rethrow);
    } catch (fault) {
      handOver(req, res, fault);
      return;
    }
    sendRefusal(res, refusal, (fault) => {
      if (fault === undefined) metrics.purchase('safe', refusal.code);
      else handOver(req, res, fault);
    });
  };

  return (req, res) => {
    if (
      req.url !== SAFE_PURCHASE ||
      req.method !== 'POST' ||
      !purchases.refusesWithoutStore ||
      req.headers['idempotency-key'] !== undefined
    ) {
      app(req, res);
      return;
    }
    observer.startClock(res);
    if (!hasBody(req.headers)) {
      answer(req, res, undefined);
      return;
    }
    if (!isPlainJsonBody(req.headers, bodyLimit)) {
      app(req, res);
      return;
    }
    readPlainJsonBody(req, (body: JsonBody) => {
      // whoever answers, the app's body reader finds the body here: the stream is spent
      handOverBody(req, body);
      if ('error' in body) app(req, res);
      else answer(req, res, body.value);
    });
  };
}
