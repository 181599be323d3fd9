import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import type { ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import type { Request, RequestHandler } from 'express';
import type { Logger } from '../../observability/logger';
import type { Metrics } from '../../observability/metrics';

export interface RequestObserverOptions {
  readonly instanceId: string;
  readonly slowRequestMs: number;
  readonly isDraining: () => boolean;
  /** aborted when the app is done with: the subscription to finished responses ends there */
  readonly closed?: AbortSignal;
}

/** Node publishes every finished response of every HTTP server in the process here (Node ≥ 18.6). */
const RESPONSE_FINISHED = 'http.server.response.finish';

interface ResponseFinished {
  readonly response: ServerResponse;
}

export interface RequestObserver {
  /** the Express middleware: every request the app answers */
  readonly middleware: RequestHandler;
  /**
   * Starts a request's clock before the app sees it: a body read in front of the app (by the sold-out
   * fast path) is part of the request's time, whoever answers it.
   */
  startClock(res: ServerResponse): void;
  /** the middleware's work for a request answered before the app, on the route it would take */
  answeredEarly(res: ServerResponse, route: string): void;
}

/**
 * Per request: the instance header (the attack harness counts how sales spread over the fleet), the
 * latency histogram, and a log line only when it is worth one: always for slow requests and server
 * errors, per request only at LOG_LEVEL=debug. No body, no header values, no token is ever logged.
 *
 * It runs on every request, so it adds as little as it can. The end of a response is observed through
 * Node's diagnostics channel, with one subscriber for the process, rather than a 'finish' listener per
 * response: Node already listens to 'finish' itself, and a second listener turns its one-function slot
 * into an array that every emit copies. The start time lives on the response under a symbol of this
 * app's own, so that two apps in one process (as in the tests) never record each other's requests.
 */
export function observeRequests(
  logger: Logger,
  metrics: Metrics,
  options: RequestObserverOptions,
): RequestObserver {
  const accessLog = logger.isLevelEnabled('debug');
  const started = Symbol('startedAt');
  const earlyRoute = Symbol('earlyRoute');
  type Observed = ServerResponse & { [started]?: number; [earlyRoute]?: string };

  const finished = (message: unknown): void => {
    const res = (message as ResponseFinished).response as Observed;
    const startedAt = res[started];
    if (startedAt === undefined) return;
    const ms = performance.now() - startedAt;
    const req = res.req as Request;
    // a request answered before the app never became an Express request: no route, no originalUrl
    const early = res[earlyRoute];
    const route = early ?? routeOf(req);
    metrics.httpRequest(route, res.statusCode, ms / 1000);
    if (ms >= options.slowRequestMs) {
      logger.warn({ method: req.method, route, status: res.statusCode, ms }, 'slow request');
    } else if (accessLog) {
      logger.debug(
        {
          method: req.method,
          url: early === undefined ? req.originalUrl : req.url,
          status: res.statusCode,
          ms,
        },
        'request',
      );
    }
  };
  subscribe(RESPONSE_FINISHED, finished);
  options.closed?.addEventListener('abort', () => unsubscribe(RESPONSE_FINISHED, finished), { once: true });

  const begin = (res: Observed, startedAt: number): void => {
    res[started] = startedAt;
    res.setHeader('X-Instance-Id', options.instanceId);
    // While draining, tell keep-alive clients to reconnect, so that they move to another instance.
    if (options.isDraining()) res.setHeader('Connection', 'close');
  };

  return {
    middleware: (_req, res: Observed, next) => {
      // a request the fast path handed over (a fault there) is the app's now, on the app's route
      if (res[earlyRoute] !== undefined) res[earlyRoute] = undefined;
      begin(res, res[started] ?? performance.now());
      next();
    },
    startClock: (res: Observed) => {
      res[started] = performance.now();
    },
    answeredEarly: (res: Observed, route) => {
      res[earlyRoute] = route;
      begin(res, res[started] ?? performance.now());
    },
  };
}

/** the route's own path string (no concatenation) for routers mounted at the root, which all of ours are */
function routeOf(req: Request): string {
  const route = req.route as { path: string } | undefined;
  if (!route) return 'unmatched';
  return req.baseUrl === '' ? route.path : `${req.baseUrl}${route.path}`;
}
