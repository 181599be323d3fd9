import { createHash, timingSafeEqual } from 'node:crypto';
import type { Request, RequestHandler } from 'express';
import { AppError } from '../../domain/errors';

const digest = (value: string): Buffer => createHash('sha256').update(value).digest();

/**
 * Admin routes take `Authorization: Bearer <ADMIN_TOKEN>`. Both sides are hashed first so the comparison
 * is constant-time whatever the lengths. With no token configured (never in production: config refuses
 * to start) the routes are open, and start-up logs a warning.
 */
export function adminAuth(token: string | undefined): RequestHandler {
  const isAdmin = adminCheck(token);
  return (req, _res, next) => {
    if (!isAdmin(req)) {
      throw new AppError('unauthorized', 'this route needs Authorization: Bearer <ADMIN_TOKEN>');
    }
    next();
  };
}

/** Whether a request carries the admin token, for routes open to all that show the admin more. */
export function adminCheck(token: string | undefined): (req: Request) => boolean {
  if (token === undefined) return () => true;
  const expected = digest(token);
  return (req) => {
    // the scheme is case-insensitive (RFC 9110, 11.1); the token is not
    const match = /^Bearer (.+)$/i.exec(req.get('authorization') ?? '');
    return match?.[1] !== undefined && timingSafeEqual(digest(match[1]), expected);
  };
}
