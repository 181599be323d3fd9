import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';

/** a request's path without its query string */
export const pathOf = (url: string | undefined): string => (url ?? '/').split('?', 1)[0] ?? '/';

/** What a part calls when it is done: with nothing to go on, with an error for the error handler. */
export type Next = (error?: unknown) => void;

/**
 * One step every request takes before the routes, on Node's own request and response, in the shape of
 * Express middleware, so that the same function works in either place. It answers, or calls `next`.
 */
export type RequestPart = (req: IncomingMessage, res: ServerResponse, next: Next) => void;

/** answers a request whose part failed; it must answer (or cut) the request itself */
export type PartFailed = (error: unknown, req: IncomingMessage, res: ServerResponse) => void;

/**
 * The server's request listener: every request goes through `parts` in order, then to `routes`, unless
 * a part answered it first. There is no other way in, so a part in the list is a part of every answer,
 * whoever gives it (docs/performance.md, "The sold-out mark").
 */
export function requestPipeline(
  parts: readonly RequestPart[],
  routes: RequestListener,
  failed: PartFailed,
): RequestListener {
  return (req, res) => {
    let index = 0;
    const next: Next = (error) => {
      if (error !== undefined) {
        failed(error, req, res);
        return;
      }
      const part = parts[index];
      index += 1;
      if (part === undefined) {
        routes(req, res);
        return;
      }
      try {
        part(req, res, next);
      } catch (fault) {
        failed(fault, req, res);
      }
    };
    next();
  };
}
