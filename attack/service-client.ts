import type { z } from 'zod';
import {
  liveSchema,
  problemSchema,
  resetAnswerSchema,
  stockLevelSchema,
} from '../app/http/openapi/response-schemas';

/**
 * The few admin and read calls the harness makes around an attack: reset the SKU before, read the stock
 * and the order log after. The purchases themselves go through autocannon, never through here.
 *
 * Answers are read with the schemas the service's OpenAPI document is generated from (and the contract
 * test holds the service to): the types here are those schemas' types, and an answer of another shape
 * is refused here, with what was wrong, rather than read as a wrong number.
 */

/** The target cannot be reached or refuses the harness: the CLI prints the message and exits 2. */
export class TargetError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TargetError';
  }
}

export interface StockReading {
  readonly currentStock: number;
  readonly initialStock: number;
  /** units in the order log */
  readonly unitsInLog: number;
  /** entries in the order log */
  readonly orders: number;
}

const CALL_TIMEOUT_MS = 10_000;

function describe(error: unknown): string {
  if (error instanceof Error) {
    const cause = (error as { cause?: unknown }).cause;
    if (cause instanceof Error) return `${error.message}: ${cause.message}`;
    return error.message;
  }
  return String(error);
}

async function call(
  target: string,
  method: 'GET' | 'POST',
  path: string,
  headers: Record<string, string> = {},
  payload?: string,
): Promise<{ status: number; body: unknown }> {
  const url = `${target}${path}`;
  let response: Response;
  try {
    response = await fetch(url, {
      method,
      headers,
      body: payload,
      signal: AbortSignal.timeout(CALL_TIMEOUT_MS),
    });
  } catch (error) {
    throw new TargetError(`cannot reach ${url} (${describe(error)})`);
  }
  const text = await response.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text) as unknown;
  } catch {
    // not JSON: kept as text for the error message
  }
  return { status: response.status, body };
}

function problemDetail(body: unknown): string {
  const problem = problemSchema.safeParse(body);
  if (problem.success) return problem.data.detail;
  return typeof body === 'string' ? body.slice(0, 200) : JSON.stringify(body).slice(0, 200);
}

/** the body of a 200, checked against its schema */
function answerOf<T>(schema: z.ZodType<T>, call: string, body: unknown): T {
  const parsed = schema.safeParse(body);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; ');
    throw new TargetError(
      `${call} answered in a shape the API does not document (${issues}): ${JSON.stringify(body).slice(0, 200)}`,
    );
  }
  return parsed.data;
}

/** Anything that answers /health/live is a reachable service; a 503 on /health is the attack's to report. */
export async function checkReachable(target: string): Promise<void> {
  const { status, body } = await call(target, 'GET', '/health/live');
  if (status !== 200 || !liveSchema.safeParse(body).success) {
    throw new TargetError(`${target}/health/live answered ${status}: is this the flash-sale service?`);
  }
}

export async function resetStock(
  target: string,
  sku: string,
  amount: number,
  adminToken: string | undefined,
): Promise<void> {
  const headers: Record<string, string> =
    adminToken === undefined ? {} : { Authorization: `Bearer ${adminToken}` };
  const query = `sku=${encodeURIComponent(sku)}&amount=${amount}`;
  const { status, body } = await call(target, 'POST', `/stock/reset?${query}`, headers);
  if (status === 401 || status === 403) {
    throw new TargetError(
      `the service refused the stock reset (${status}): pass --admin-token or set ADMIN_TOKEN`,
    );
  }
  if (status !== 200) {
    throw new TargetError(`POST /stock/reset answered ${status}: ${problemDetail(body)}`);
  }
  answerOf(resetAnswerSchema, 'POST /stock/reset', body);
}

export async function readStock(target: string, sku: string): Promise<StockReading> {
  const { status, body } = await call(target, 'GET', `/stock?sku=${encodeURIComponent(sku)}`);
  if (status !== 200) throw new TargetError(`GET /stock answered ${status}: ${problemDetail(body)}`);
  const level = answerOf(stockLevelSchema, 'GET /stock', body);
  return {
    currentStock: level.current_stock,
    initialStock: level.initial_stock,
    unitsInLog: level.sold,
    orders: level.orders,
  };
}

/**
 * Whether the target serves the unsafe endpoint (a deployment has it off unless asked for). Asked with a
 * purchase of quantity 0, which an endpoint that is on refuses (400) without changing anything, and one
 * that is off answers 404 unsafe_disabled.
 */
export async function unsafeEndpointOn(target: string): Promise<boolean> {
  const { status, body } = await call(
    target,
    'POST',
    '/purchase/unsafe',
    { 'content-type': 'application/json' },
    JSON.stringify({ quantity: 0 }),
  );
  return !(status === 404 && (body as { code?: unknown } | null)?.code === 'unsafe_disabled');
}
