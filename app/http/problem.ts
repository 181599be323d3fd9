import type { ServerResponse } from 'node:http';
import type { ErrorRequestHandler, RequestHandler } from 'express';
import { AppError } from '../domain/errors';
import type { Logger } from '../observability/logger';
import type { Metrics } from '../observability/metrics';
import { problemType } from './openapi/problem-types';
import { pathOf } from './request-pipeline';
import type { PartFailed } from './request-pipeline';
import { isDatabaseUnavailable } from '../postgres/errors';
import { isOutOfMemory, isStoreUnavailable } from '../redis/errors';

/** How long a client should wait before retrying after a 503: Redis reconnects within a second. */
const RETRY_AFTER_SECONDS = 1;

const JSON_TYPE = 'application/json; charset=utf-8';
const PROBLEM_TYPE = 'application/problem+json; charset=utf-8';

/**
 * Writes a JSON answer. The hot path's responses go through here rather than res.json(), which parses
 * and re-formats the Content-Type twice and checks ETag and freshness settings on every call; Node adds
 * Content-Length itself when the whole body is given to end().
 */
export function sendJson(res: ServerResponse, status: number, body: unknown, type = JSON_TYPE): void {
  res.statusCode = status;
  res.setHeader('Content-Type', type);
  res.end(JSON.stringify(body));
}

/** RFC 9457 problem document; `code` is the stable, machine-readable part. */
export function sendProblem(res: ServerResponse, error: AppError): void {
  if (error.status === 503) res.setHeader('Retry-After', String(RETRY_AFTER_SECONDS));
  if (error.status === 401) res.setHeader('WWW-Authenticate', 'Bearer realm="flash-sale admin"');
  sendJson(
    res,
    error.status,
    {
      type: problemType(error.code),
      title: error.title,
      status: error.status,
      detail: error.detail,
      code: error.code,
      ...error.extensions,
    },
    PROBLEM_TYPE,
  );
}

/** the answer to a body that is not JSON, whichever reader found out */
export const invalidJsonBody = (): AppError =>
  new AppError('invalid_request', 'the request body is not valid JSON');

/** body-parser's errors carry a `type`; they are the client's fault and safe to describe */
function fromBodyParser(error: unknown): AppError | undefined {
  if (typeof error !== 'object' || error === null || !('type' in error)) return undefined;
  switch (error.type) {
    case 'entity.parse.failed':
      return invalidJsonBody();
    case 'entity.too.large':
      return new AppError('payload_too_large', 'the request body is too large');
    case 'encoding.unsupported':
    case 'charset.unsupported':
      return new AppError('unsupported_media_type', 'the request body must be JSON in UTF-8');
    case 'request.aborted':
    case 'request.size.invalid':
    case 'stream.encoding.set':
      return new AppError('invalid_request', 'the request body could not be read');
    default:
      return undefined;
  }
}

/**
 * Other errors the framework raises for a bad request carry a 4xx `status` (http-errors style): the
 * router's "Failed to decode param" URIError for a path like /products/%zz is one. Without this they
 * would fall through to a 500.
 */
function fromFrameworkClientError(error: unknown): AppError | undefined {
  if (error instanceof URIError) {
    return new AppError('invalid_request', 'the request path is not valid percent-encoding');
  }
  if (typeof error !== 'object' || error === null || !('status' in error)) return undefined;
  const status = error.status;
  if (typeof status !== 'number' || status < 400 || status > 499) return undefined;
  if (status === 413) return new AppError('payload_too_large', 'the request is too large');
  if (status === 415) return new AppError('unsupported_media_type', 'the request body must be JSON in UTF-8');
  return new AppError('invalid_request', 'the request could not be understood');
}

export function notFound(): RequestHandler {
  return (req, res) => {
    sendProblem(res, new AppError('not_found', `no route for ${req.method} ${req.path}`));
  };
}

/**
 * The one place an error becomes a response, in front of the routes (a part of the request pipeline
 * failed) or behind them. A stack trace never reaches a client. An error after the answer began cannot
 * be answered any more: the connection is cut, as Express's own final handler does.
 */
export function answerError(logger: Logger, metrics: Metrics): PartFailed {
  return (error, req, res) => {
    if (res.headersSent) {
      logger.error(
        { err: error, method: req.method, route: pathOf(req.url) },
        'error after the answer began',
      );
      res.destroy();
      return;
    }
    if (error instanceof AppError) {
      sendProblem(res, error);
      return;
    }
    const clientError = fromBodyParser(error) ?? fromFrameworkClientError(error);
    if (clientError) {
      sendProblem(res, clientError);
      return;
    }
    if (isStoreUnavailable(error)) {
      // The outage itself is logged once by the Redis client; per request it is only counted.
      metrics.redisError('unavailable');
      logger.debug({ err: error, route: pathOf(req.url) }, 'redis unavailable');
      sendProblem(
        res,
        new AppError('store_unavailable', 'the inventory store is unreachable; retry shortly'),
      );
      return;
    }
    if (isOutOfMemory(error)) {
      // an outage of the store: answered 503 with a Retry-After, counted, logged once in a while by the
      // operator's alarm on the cache's memory rather than once per refused purchase
      metrics.redisError('oom');
      sendProblem(
        res,
        new AppError('store_out_of_memory', 'the inventory store is full and refuses writes; retry shortly'),
      );
      return;
    }
    if (isDatabaseUnavailable(error)) {
      logger.debug({ route: pathOf(req.url) }, 'postgres unavailable');
      sendProblem(res, new AppError('store_unavailable', 'the order archive is unreachable; retry shortly'));
      return;
    }
    if (error instanceof Error && error.name === 'ReplyError') metrics.redisError('reply');
    logger.error({ err: error, method: req.method, route: pathOf(req.url) }, 'unhandled error');
    sendProblem(res, new AppError('internal_error', 'something went wrong on our side'));
  };
}

/** `answerError` as the routes' Express error handler */
export function errorHandler(logger: Logger, metrics: Metrics): ErrorRequestHandler {
  const answer = answerError(logger, metrics);
  return (error: unknown, req, res, next) => {
    // too late for an answer: Express's final handler cuts the connection
    if (res.headersSent) {
      next(error);
      return;
    }
    answer(error, req, res);
  };
}
