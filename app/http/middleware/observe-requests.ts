import { performance } from 'node:perf_hooks';
import type { Request, RequestHandler, Response } from 'express';
import type { Logger } from '../../observability/logger';
import type { Metrics } from '../../observability/metrics';

export interface RequestObserverOptions {
  readonly instanceId: string;
  readonly slowRequestMs: number;
  readonly isDraining: () => boolean;
}

/** when the request started (performance.now()), kept on the response for the shared 'finish' listener */
const STARTED = Symbol('startedAt');
type Observed = Response & { [STARTED]?: number };

/**
 * Per request: the instance header (the attack harness counts how sales spread over the fleet), the
 * latency histogram, and a log line only when it is worth one: always for slow requests and server
 * errors, per request only at LOG_LEVEL=debug. No body, no header values, no token is ever logged.
 *
 * It runs on every request, so it allocates nothing of its own: one 'finish' listener shared by all
 * responses (no closure per request), a float clock (no BigInt), and the route label is the route's own
 * path string (no concatenation) for routers mounted at the root, which all of ours are.
 */
export function observeRequests(
  logger: Logger,
  metrics: Metrics,
  options: RequestObserverOptions,
): RequestHandler {
  const accessLog = logger.isLevelEnabled('debug');

  function finished(this: Observed): void {
    const ms = performance.now() - (this[STARTED] ?? 0);
    const req = this.req as Request;
    const route = routeOf(req);
    metrics.httpRequest(route, this.statusCode, ms / 1000);
    if (ms >= options.slowRequestMs) {
      logger.warn({ method: req.method, route, status: this.statusCode, ms }, 'slow request');
    } else if (accessLog) {
      logger.debug({ method: req.method, url: req.originalUrl, status: this.statusCode, ms }, 'request');
    }
  }

  return (_req, res: Observed, next) => {
    res[STARTED] = performance.now();
    res.setHeader('X-Instance-Id', options.instanceId);
    // While draining, tell keep-alive clients to reconnect, so that they move to another instance.
    if (options.isDraining()) res.setHeader('Connection', 'close');
    res.on('finish', finished);
    next();
  };
}

function routeOf(req: Request): string {
  const route = req.route as { path: string } | undefined;
  if (!route) return 'unmatched';
  return req.baseUrl === '' ? route.path : `${req.baseUrl}${route.path}`;
}
