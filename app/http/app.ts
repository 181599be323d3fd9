import type { RequestListener } from 'node:http';
import express from 'express';
import type { Express, Request } from 'express';
import type { Config } from '../config';
import type { Catalogue } from '../domain/catalogue';
import type { PurchaseService } from '../domain/purchase';
import type { Logger } from '../observability/logger';
import type { Metrics } from '../observability/metrics';
import type { UnsafePurchase } from '../unsafe-demo/unsafe-purchase';
import { adminAuth, adminCheck } from './middleware/admin-auth';
import { observeRequests } from './middleware/observe-requests';
import { rateLimit } from './middleware/rate-limit';
import type { AttemptLimit } from './middleware/rate-limit';
import { readJsonBody } from './middleware/read-json-body';
import { refuseSoldOut } from './middleware/refuse-sold-out';
import { securityHeaders } from './middleware/security-headers';
import { methodNotAllowed } from './method-not-allowed';
import { openApiDocument } from './openapi/document';
import { operations } from './openapi/operations';
import { answerError, errorHandler, notFound } from './problem';
import { requestPipeline } from './request-pipeline';
import type { RequestPart } from './request-pipeline';
import { catalogueRoutes } from './routes/catalogue-routes';
import { operationsRoutes } from './routes/operations-routes';
import type { Readiness } from './routes/operations-routes';
import { purchaseRoutes } from './routes/purchase-routes';
import { referenceRoutes } from './routes/reference-routes';
import { createValidators, requestSchemas } from './validation';
import type { RequestSchemas, Validators } from './validation';

export interface AppDependencies {
  readonly config: Config;
  readonly purchases: PurchaseService;
  /** the race demo's purchase behind POST /purchase/unsafe; undefined when that endpoint is off */
  readonly unsafePurchase: UnsafePurchase | undefined;
  readonly catalogue: Catalogue;
  readonly readiness: Readiness;
  readonly logger: Logger;
  readonly metrics: Metrics;
  /** the fleet-wide limits on purchase attempts; none: every attempt is admitted */
  readonly attemptLimits?: readonly AttemptLimit[];
  /** aborted once the server has closed: what the app subscribed to process-wide is let go */
  readonly closed?: AbortSignal;
}

/** Purchase bodies are a few dozen bytes; anything near this is not a purchase. */
const BODY_LIMIT = 4096;

/**
 * Builds the request listener: the parts every request goes through, in order, then the routes (an
 * Express app). No listening, no Redis connection: server.ts does that.
 */
export function createApp(deps: AppDependencies): RequestListener {
  const { config, logger, metrics } = deps;
  const schemas = requestSchemas(config);
  const validators = createValidators(config, schemas);
  const observer = observeRequests(logger, metrics, {
    ...config,
    isDraining: () => deps.readiness.isDraining(),
    closed: deps.closed,
  });
  // A part every answer needs (an auth check) goes here, before the sold-out refusal, which answers
  // without the routes. The rate limits are in the purchase routes: a refusal from the marks takes
  // nothing and costs no round trip, and counting it would cost one.
  const parts: RequestPart[] = [
    observer.part,
    securityHeaders(),
    readJsonBody({ limit: BODY_LIMIT }),
    refuseSoldOut(deps.purchases, validators, metrics, observer.answeredOn),
  ];
  return requestPipeline(parts, routes(deps, validators, schemas), answerError(logger, metrics));
}

function routes(deps: AppDependencies, validators: Validators, schemas: RequestSchemas): Express {
  const { config, logger, metrics } = deps;
  const app = express();
  app.disable('x-powered-by');
  // JSON API answers change with every purchase: computing an ETag per response is wasted work.
  app.set('etag', false);
  app.set('query parser', 'simple');
  // req.ip: the address that many proxies back in X-Forwarded-For; without them, the socket's peer, so
  // that a client cannot pick the address its attempts are counted under
  if (config.admission.trustProxy > 0) app.set('trust proxy', config.admission.trustProxy);

  const limits = deps.attemptLimits ?? [];
  const validPurchase = (req: Request) => {
    try {
      return validators.purchase(req);
    } catch {
      return undefined;
    }
  };
  const admission = limits.length > 0 ? rateLimit(limits, validPurchase, metrics, logger) : undefined;
  // the purchase routes first, on the app itself: they are the traffic, every router before them a detour
  purchaseRoutes(app.router, deps.purchases, validators, metrics, { unsafe: deps.unsafePurchase, admission });
  app.use(operationsRoutes(deps.readiness, metrics));
  app.use(
    catalogueRoutes(deps.catalogue, validators, adminAuth(config.adminToken), adminCheck(config.adminToken)),
  );

  app.use(referenceRoutes(openApiDocument(schemas)));
  app.use(methodNotAllowed(operations(schemas)));
  app.use(notFound());
  app.use(errorHandler(logger, metrics));
  return app;
}
