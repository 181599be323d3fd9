import type { RequestHandler } from 'express';
import { AppError } from '../../domain/errors';

/**
 * A body that is not JSON would be skipped by express.json() and the request would go on as if it had
 * none (a body-less purchase buys the default SKU). Refuse it instead: 415, nothing changed.
 */
export function requireJsonBody(): RequestHandler {
  return (req, _res, next) => {
    const hasBody =
      req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length'] ?? 0) > 0;
    if (hasBody && !req.is('application/json')) {
      throw new AppError('unsupported_media_type', 'the request body must be application/json');
    }
    next();
  };
}
