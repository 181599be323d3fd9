import { createHash, timingSafeEqual } from 'node:crypto';
import type { RequestHandler } from 'express';
import { AppError } from '../../domain/errors';

const digest = (value: string): Buffer => createHash('sha256').update(value).digest();

/**
 * Admin routes take `Authorization: Bearer <ADMIN_TOKEN>`. Both sides are hashed first so the comparison
 * is constant-time whatever the lengths. With no token configured (never in production: config refuses
 * to start) the routes are open, and start-up logs a warning.
 */
export function adminAuth(token: string | undefined): RequestHandler {
  if (token === undefined) {
    return (_req, _res, next) => {
      next();
    };
  }
  const expected = digest(token);
  return (req, _res, next) => {
    // the scheme is case-insensitive (RFC 9110, 11.1); the token is not
    const match = /^Bearer (.+)$/i.exec(req.get('authorization') ?? '');
    if (!match?.[1] || !timingSafeEqual(digest(match[1]), expected)) {
      throw new AppError('unauthorized', 'this route needs Authorization: Bearer <ADMIN_TOKEN>');
    }
    next();
  };
}
