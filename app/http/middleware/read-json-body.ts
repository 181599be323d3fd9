import express from 'express';
import type { RequestHandler } from 'express';
import { AppError } from '../../domain/errors';
import { invalidJsonBody } from '../problem';

export interface JsonBodyOptions {
  /** the largest body accepted, in bytes; larger ones get 413 */
  readonly limit: number;
}

/** what body-parser's strict mode accepts: an object or an array, after optional JSON whitespace */
const STRICT_START = /^[ \t\n\r]*[{[]/;

/**
 * The request's JSON body, in `req.body`, as express.json() would leave it; or a 4xx.
 *
 * A purchase body is a few dozen bytes that arrive with the headers, yet express.json() spends more on
 * it than on anything else we add to a request: it parses the Content-Type for a charset, looks for a
 * compression, and lends the stream to raw-body, which adds and removes five listeners. So the one shape
 * every client sends (Content-Type exactly `application/json`, a Content-Length within the limit, no
 * Content-Encoding) is read here: Node's parser has already checked the length, and the bytes are
 * UTF-8 by definition of that type. Every other body (a charset parameter, other casing, compression,
 * chunked transfer) goes to express.json() itself, with the same limit and strictness, so the answers
 * are the same either way: 400 for malformed or non-object JSON, 413 over the limit, 415 for a body that
 * is not JSON at all.
 *
 * The 415 matters: express.json() skips a body that is not JSON and the request would go on as if it had
 * none, and a body-less purchase buys the default SKU.
 */
export function readJsonBody(options: JsonBodyOptions): RequestHandler {
  // only ever handed a body already known to be JSON: its type is not checked a second time
  const library: RequestHandler = express.json({ limit: options.limit, strict: true, type: () => true });

  return (req, res, next) => {
    const headers = req.headers;
    const length = Number(headers['content-length'] ?? 0);
    const chunked = headers['transfer-encoding'] !== undefined;
    if (!chunked && !(length > 0)) {
      next();
      return;
    }
    if (headers['content-type'] !== 'application/json') {
      // not the exact type every client sends: Express's full check (parameters, other casing)
      if (typeof req.is('application/json') !== 'string') {
        next(new AppError('unsupported_media_type', 'the request body must be application/json'));
        return;
      }
      library(req, res, next);
      return;
    }
    if (chunked || headers['content-encoding'] !== undefined || !(length <= options.limit)) {
      library(req, res, next);
      return;
    }
    let first: Buffer | undefined;
    let more: Buffer[] | undefined;
    req.on('data', (chunk: Buffer) => {
      if (first === undefined) first = chunk;
      else (more ??= [first]).push(chunk);
    });
    req.on('end', () => {
      const bytes = more ? Buffer.concat(more) : first;
      let text = bytes === undefined ? '' : bytes.toString('utf8');
      // a UTF-8 byte order mark is allowed before JSON text, and body-parser drops it too
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
      if (!STRICT_START.test(text)) {
        next(invalidJsonBody());
        return;
      }
      try {
        req.body = JSON.parse(text) as unknown;
      } catch {
        next(invalidJsonBody());
        return;
      }
      next();
    });
  };
}
