import type { RequestHandler } from 'express';
import type { Logger } from '../../observability/logger';
import type { Metrics } from '../../observability/metrics';

export interface RequestObserverOptions {
  readonly instanceId: string;
  readonly slowRequestMs: number;
  readonly isDraining: () => boolean;
}

/**
 * Per request: the instance header (the attack harness counts how sales spread over the fleet), the
 * latency histogram, and a log line only when it is worth one: always for slow requests and server
 * errors, per request only at LOG_LEVEL=debug. No body, no header values, no token is ever logged.
 */
export function observeRequests(
  logger: Logger,
  metrics: Metrics,
  options: RequestObserverOptions,
): RequestHandler {
  const accessLog = logger.isLevelEnabled('debug');
  return (req, res, next) => {
    const started = process.hrtime.bigint();
    res.setHeader('X-Instance-Id', options.instanceId);
    // While draining, tell keep-alive clients to reconnect, so that they move to another instance.
    if (options.isDraining()) res.setHeader('Connection', 'close');
    res.once('finish', () => {
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      const route = req.route ? `${req.baseUrl}${(req.route as { path: string }).path}` : 'unmatched';
      metrics.httpRequest(route, res.statusCode, ms / 1000);
      if (ms >= options.slowRequestMs) {
        logger.warn({ method: req.method, route, status: res.statusCode, ms }, 'slow request');
      } else if (accessLog) {
        logger.debug({ method: req.method, url: req.originalUrl, status: res.statusCode, ms }, 'request');
      }
    });
    next();
  };
}
