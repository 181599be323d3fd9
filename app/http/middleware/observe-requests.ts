import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import type { ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import type { Request } from 'express';
import type { Logger } from '../../observability/logger';
import type { Metrics } from '../../observability/metrics';
import type { RequestPart } from '../request-pipeline';

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
  /** the first part of the request pipeline: every request, whoever answers it */
  readonly part: RequestPart;
  /** the route to label a request with that a part answered before the routes (which name theirs) */
  readonly answeredOn: (res: ServerResponse, route: string) => void;
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
  const partRoute = Symbol('partRoute');
  type Observed = ServerResponse & { [started]?: number; [partRoute]?: string };

  const finished = (message: unknown): void => {
    const res = (message as ResponseFinished).response as Observed;
    const startedAt = res[started];
    if (startedAt === undefined) return;
    const ms = performance.now() - startedAt;
    const req = res.req as Request;
    // a request a part answered never became an Express request: no route, no originalUrl
    const early = res[partRoute];
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

  return {
    part: (_req, res: Observed, next) => {
      res[started] = performance.now();
      res.setHeader('X-Instance-Id', options.instanceId);
      // While draining, tell keep-alive clients to reconnect, so that they move to another instance.
      if (options.isDraining()) res.setHeader('Connection', 'close');
      next();
    },
    answeredOn: (res: Observed, route) => {
      res[partRoute] = route;
    },
  };
}

/** the route's own path string (no concatenation) for routers mounted at the root, which all of ours are */
function routeOf(req: Request): string {
  const route = req.route as { path: string } | undefined;
  if (!route) return 'unmatched';
  return req.baseUrl === '' ? route.path : `${req.baseUrl}${route.path}`;
}
