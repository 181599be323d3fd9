/**
 * A buyer as the tests model it: one HTTP request, its status, its body and how long it took. A request
 * that gets no answer within `timeoutMs` is reported as status 0 ("hung or dropped"), never awaited
 * forever.
 */
export interface Answer {
  readonly status: number;
  readonly body: Record<string, unknown>;
  readonly ms: number;
  readonly headers: Headers | undefined;
}

export interface PurchaseBody {
  readonly sku?: string;
  readonly quantity?: number;
  readonly userId?: string;
}

export async function send(
  url: string,
  init: {
    method?: string;
    path: string;
    body?: unknown;
    headers?: Record<string, string>;
    timeoutMs?: number;
  },
): Promise<Answer> {
  const started = performance.now();
  try {
    const res = await fetch(new URL(init.path, url), {
      method: init.method ?? 'POST',
      headers: {
        ...(init.body === undefined ? {} : { 'content-type': 'application/json' }),
        ...init.headers,
      },
      body: init.body === undefined ? undefined : JSON.stringify(init.body),
      signal: AbortSignal.timeout(init.timeoutMs ?? 10_000),
    });
    const text = await res.text();
    let body: Record<string, unknown> = {};
    try {
      body = JSON.parse(text) as Record<string, unknown>;
    } catch {
      body = { text };
    }
    return { status: res.status, body, ms: performance.now() - started, headers: res.headers };
  } catch (error) {
    return {
      status: 0,
      body: { error: error instanceof Error ? error.message : String(error) },
      ms: performance.now() - started,
      headers: undefined,
    };
  }
}

export function purchase(
  url: string,
  body: PurchaseBody,
  idempotencyKey?: string,
  timeoutMs?: number,
): Promise<Answer> {
  return send(url, {
    path: '/purchase/safe',
    body,
    headers: idempotencyKey === undefined ? {} : { 'idempotency-key': idempotencyKey },
    timeoutMs,
  });
}
