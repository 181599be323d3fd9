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
  const one = (index: number): Promise<void> =>
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
            ...options.headers?.(index),
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('end', () => {
            const status = res.statusCode ?? 0;
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
  return { statuses, successes, transportErrors, count: (status) => statuses.get(status) ?? 0 };
}
