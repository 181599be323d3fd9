import type { IncomingMessage } from 'node:http';
import type { Request, RequestHandler } from 'express';
import { AppError } from '../../domain/errors';

/**
 * True when the request's body is declared JSON. The exact type every client sends is recognised
 * without parsing it; anything else (parameters, other casing) goes through Express's full check.
 * Shared by requireJsonBody and express.json(), so that the usual request has its type parsed by neither.
 */
export function isJsonBody(req: IncomingMessage): boolean {
  return (
    req.headers['content-type'] === 'application/json' ||
    typeof (req as Request).is('application/json') === 'string'
  );
}

/**
 * A body that is not JSON would be skipped by express.json() and the request would go on as if it had
 * none (a body-less purchase buys the default SKU). Refuse it instead: 415, nothing changed.
 */
export function requireJsonBody(): RequestHandler {
  return (req, _res, next) => {
    const hasBody =
      req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length'] ?? 0) > 0;
    if (hasBody && !isJsonBody(req)) {
      throw new AppError('unsupported_media_type', 'the request body must be application/json');
    }
    next();
  };
}
