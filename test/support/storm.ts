import { randomUUID } from 'node:crypto';
import { Agent, request } from 'node:http';

export interface StormResult {
  readonly statuses: Map<number, number>;
  /** bodies of the 200 answers */
  readonly successes: {
    orderId: string;
    sku: string;
    quantity: number;
    remaining: number;
    instance: string;
  }[];
  /** transport failures (no HTTP answer) */
  readonly transportErrors: number;
  /** 503 answers that were retried (see StormOptions.retryUnavailable) */
  readonly retried: number;
  /** final answers by status */
  count(status: number): number;
}

export interface StormOptions {
  readonly urls: readonly string[];
  readonly path: string;
  readonly requests: number;
  /** JSON body for every request, or a function of the request's index */
  readonly body?: ((index: number) => unknown) | Record<string, unknown>;
  readonly headers?: (index: number) => Record<string, string>;
  /** sockets per target */
  readonly connections?: number;
  /**
   * Behave as the API asks clients to: each request carries its own Idempotency-Key, and a 503
   * (store_unavailable) is retried with that same key, up to this many times. A busy machine can push a
   * Redis command past its timeout; a retry then finds the order if it was taken, or buys anew.
   */
  readonly retryUnavailable?: number;
}

/**
 * Fires `requests` POSTs all at once, round-robin over `urls`, over keep-alive connections: a real burst
 * of concurrent HTTP requests, not a loop. Bounded by its count.
 */
export async function storm(options: StormOptions): Promise<StormResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: options.connections ?? 100 });
  const statuses = new Map<number, number>();
  const successes: StormResult['successes'] = [];
  let transportErrors = 0;
  let retried = 0;
  const run = randomUUID();
  const one = (index: number, attempt = 0): Promise<void> =>
    new Promise((resolve) => {
      const target = new URL(options.path, options.urls[index % options.urls.length]);
      const body: unknown = typeof options.body === 'function' ? options.body(index) : options.body;
      const payload = body === undefined ? undefined : JSON.stringify(body);
      const req = request(
        target,
        {
          method: 'POST',
          agent,
          headers: {
            ...(payload
              ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) }
              : {}),
            ...(options.retryUnavailable ? { 'idempotency-key': `${run}-${String(index)}` } : {}),
            ...options.headers?.(index),
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('end', () => {
            const status = res.statusCode ?? 0;
            if (status === 503 && attempt < (options.retryUnavailable ?? 0)) {
              retried += 1;
              setTimeout(() => {
                void one(index, attempt + 1).then(resolve);
              }, 50);
              return;
            }
            statuses.set(status, (statuses.get(status) ?? 0) + 1);
            if (status === 200) {
              const body = JSON.parse(Buffer.concat(chunks).toString()) as {
                orderId: string;
                sku: string;
                quantity: number;
                remaining: number;
              };
              successes.push({ ...body, instance: String(res.headers['x-instance-id']) });
            }
            resolve();
          });
        },
      );
      req.on('error', () => {
        transportErrors += 1;
        resolve();
      });
      req.end(payload);
    });
  await Promise.all(Array.from({ length: options.requests }, (_, i) => one(i)));
  agent.destroy();
  return { statuses, successes, transportErrors, retried, count: (status) => statuses.get(status) ?? 0 };
}
