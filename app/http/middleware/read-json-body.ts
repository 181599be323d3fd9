import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import express from 'express';
import typeIs from 'type-is';
import { AppError } from '../../domain/errors';
import { invalidJsonBody } from '../problem';
import type { RequestPart } from '../request-pipeline';

export interface JsonBodyOptions {
  /** the largest body accepted, in bytes; larger ones get 413 */
  readonly limit: number;
}

/** a body read: its JSON value, or the 400 it earns */
export type JsonBody = { readonly value: unknown } | { readonly error: AppError };

/** what body-parser's strict mode accepts: an object or an array, after optional JSON whitespace */
const STRICT_START = /^[ \t\n\r]*[{[]/;

/** a request whose body this part has read */
export type WithBody = IncomingMessage & { body?: unknown };

/** true when the request has a body at all: a Content-Length above 0, or a chunked one */
function hasBody(headers: IncomingHttpHeaders): boolean {
  return headers['transfer-encoding'] !== undefined || Number(headers['content-length'] ?? 0) > 0;
}

/**
 * true for the one shape every client sends, which `readPlainJsonBody` reads: Content-Type exactly
 * `application/json`, a Content-Length within the limit, no Content-Encoding, not chunked. Node's parser
 * has already checked the length, and the bytes are UTF-8 by definition of that type.
 */
function isPlainJsonBody(headers: IncomingHttpHeaders, limit: number): boolean {
  const length = Number(headers['content-length'] ?? 0);
  return (
    headers['content-type'] === 'application/json' &&
    length > 0 &&
    length <= limit &&
    headers['transfer-encoding'] === undefined &&
    headers['content-encoding'] === undefined
  );
}

/** Reads a body `isPlainJsonBody` accepted, with two listeners and one JSON.parse, as body-parser would. */
function readPlainJsonBody(req: IncomingMessage, done: (body: JsonBody) => void): void {
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
      done({ error: invalidJsonBody() });
      return;
    }
    let value: unknown;
    try {
      value = JSON.parse(text) as unknown;
    } catch {
      done({ error: invalidJsonBody() });
      return;
    }
    done({ value });
  });
}

/**
 * The request's JSON body, in `req.body`, as express.json() would leave it; or a 4xx.
 *
 * A purchase body is a few dozen bytes that arrive with the headers, yet express.json() spends more on
 * it than on anything else we add to a request: it parses the Content-Type for a charset, looks for a
 * compression, and lends the stream to raw-body, which adds and removes five listeners. So the plain
 * shape every client sends is read by `readPlainJsonBody`. Every other body (a charset parameter, other
 * casing, compression, chunked transfer) goes to express.json() itself, with the same limit and
 * strictness, so the answers are the same either way: 400 for malformed or non-object JSON, 413 over the
 * limit, 415 for a body that is not JSON at all.
 *
 * The 415 matters: express.json() skips a body that is not JSON and the request would go on as if it had
 * none, and a body-less purchase buys the default SKU.
 */
export function readJsonBody(options: JsonBodyOptions): RequestPart {
  // only ever handed a body already known to be JSON: its type is not checked a second time
  const library = express.json({ limit: options.limit, strict: true, type: () => true }) as RequestPart;

  return (req: WithBody, res, next) => {
    const apply = (body: JsonBody): void => {
      if ('error' in body) {
        next(body.error);
        return;
      }
      req.body = body.value;
      next();
    };
    const headers = req.headers;
    if (!hasBody(headers)) {
      next();
      return;
    }
    if (isPlainJsonBody(headers, options.limit)) {
      readPlainJsonBody(req, apply);
      return;
    }
    if (
      headers['content-type'] !== 'application/json' &&
      typeof typeIs(req, ['application/json']) !== 'string'
    ) {
      // not JSON by Express's full check either (parameters, other casing)
      next(new AppError('unsupported_media_type', 'the request body must be application/json'));
      return;
    }
    library(req, res, next);
  };
}
