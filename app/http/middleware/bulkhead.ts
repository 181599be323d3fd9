import type { RequestHandler } from 'express';
import { AppError } from '../../domain/errors';

export interface BulkheadOptions {
  /** requests of this route handled at once */
  readonly concurrent: number;
  /** requests waiting for a turn; one more is turned away with a 503 and Retry-After */
  readonly queue: number;
}

/**
 * A bulkhead for a route that is expensive and not the sale: at most `concurrent` of its requests run at
 * once, the rest wait their turn, and past `queue` waiting they are refused. Twenty clients paging
 * through the catalogue at once then share two turns, and the event loop keeps its time for purchases.
 * A turn ends when the response is finished or the connection closes, whichever comes first.
 */
export function bulkhead(options: BulkheadOptions): RequestHandler {
  let running = 0;
  const waiting: (() => void)[] = [];
  const release = (): void => {
    const next = waiting.shift();
    if (next) next();
    else running -= 1;
  };
  return (_req, res, next) => {
    const start = (): void => {
      let released = false;
      const done = (): void => {
        if (released) return;
        released = true;
        release();
      };
      res.once('finish', done);
      res.once('close', done);
      next();
    };
    if (running < options.concurrent) {
      running += 1;
      start();
      return;
    }
    if (waiting.length >= options.queue) {
      next(new AppError('server_busy', 'too many of these requests at once; retry shortly'));
      return;
    }
    waiting.push(start);
  };
}
