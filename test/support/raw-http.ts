import { request } from 'node:http';
import type { ClientRequest } from 'node:http';

export interface RawAnswer {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  /** the response's header lines as sent: name, value, name, value... in order */
  readonly rawHeaders: readonly string[];
  readonly body: string;
}

/**
 * One HTTP request exactly as given: any method, any path (not normalised, not re-encoded), any
 * headers, any body bytes. fetch() would tidy a hostile request up before sending it. Status 0 means
 * the server closed the connection without an answer.
 */
export function rawRequest(
  url: string,
  options: {
    method: string;
    path: string;
    headers?: Record<string, string>;
    body?: string | Buffer;
    /** send the body with Transfer-Encoding: chunked instead of a Content-Length */
    chunked?: boolean;
    /** send the headers at once and the body this much later, as a slow client would */
    bodyDelayMs?: number;
  },
): Promise<RawAnswer> {
  return new Promise((resolve) => {
    const target = new URL(url);
    const req = request({
      host: target.hostname,
      port: target.port,
      method: options.method,
      path: options.path,
      agent: false,
      headers: {
        ...(options.body === undefined || options.chunked === true
          ? {}
          : { 'content-length': String(Buffer.byteLength(options.body)) }),
        ...options.headers,
      },
    });
    req.setTimeout(10_000, () => req.destroy());
    req.on('error', () => {
      resolve({ status: 0, headers: {}, rawHeaders: [], body: '' });
    });
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          rawHeaders: res.rawHeaders,
          body: Buffer.concat(chunks).toString(),
        });
        // a request sent with Connection: keep-alive would otherwise hold its socket open
        req.destroy();
      });
      res.on('error', () => {
        resolve({ status: 0, headers: {}, rawHeaders: [], body: '' });
      });
    });
    if (options.bodyDelayMs !== undefined) {
      req.flushHeaders();
      setTimeout(() => req.end(options.body), options.bodyDelayMs);
    } else if (options.chunked === true && options.body !== undefined) {
      // written before end(): Node sends it chunked, having no length to announce
      req.write(options.body);
      req.end();
    } else {
      req.end(options.body);
    }
  });
}

/**
 * Opens a keyed purchase and leaves the sending to the caller, who may stop half-way, pause, or hang up:
 * the request's body is returned, not written.
 */
export function openPurchase(
  url: string,
  body: unknown,
  key: string,
): { req: ClientRequest; payload: string } {
  const payload = JSON.stringify(body);
  const req = request(new URL('/purchase/safe', url), {
    method: 'POST',
    agent: false,
    headers: {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(payload),
      'idempotency-key': key,
    },
  });
  return { req, payload };
}
