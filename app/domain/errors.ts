/**
 * The one error type the service raises on purpose. It carries its HTTP status and a stable,
 * machine-readable code; the error middleware turns it into an RFC 9457 problem document.
 */
export type ErrorCode =
  | 'invalid_request'
  | 'unsupported_media_type'
  | 'payload_too_large'
  | 'unauthorized'
  | 'not_found'
  | 'method_not_allowed'
  | 'unknown_sku'
  | 'unknown_order'
  | 'unsafe_disabled'
  | 'sold_out'
  | 'limit_exceeded'
  | 'idempotency_key_reused'
  | 'rate_limited'
  | 'store_unavailable'
  | 'purchase_outcome_unknown'
  | 'store_out_of_memory'
  | 'server_busy'
  | 'internal_error';

const TITLES: Record<ErrorCode, [status: number, title: string]> = {
  invalid_request: [400, 'Invalid request'],
  unsupported_media_type: [415, 'Unsupported media type'],
  payload_too_large: [413, 'Payload too large'],
  unauthorized: [401, 'Unauthorized'],
  not_found: [404, 'Not found'],
  method_not_allowed: [405, 'Method not allowed'],
  unknown_sku: [404, 'Unknown SKU'],
  unknown_order: [404, 'Unknown order'],
  unsafe_disabled: [404, 'Unsafe endpoint disabled'],
  sold_out: [409, 'Sold out'],
  limit_exceeded: [409, 'Per-user limit exceeded'],
  idempotency_key_reused: [422, 'Idempotency key reused'],
  rate_limited: [429, 'Too many requests'],
  store_unavailable: [503, 'Store unavailable'],
  purchase_outcome_unknown: [503, 'Purchase outcome unknown'],
  store_out_of_memory: [503, 'Store out of memory'],
  server_busy: [503, 'Server busy'],
  internal_error: [500, 'Internal error'],
};

/** every code, in the order above: the API reference lists them so */
export const ERROR_CODES = Object.keys(TITLES) as ErrorCode[];

export function statusOf(code: ErrorCode): number {
  return TITLES[code][0];
}

export function titleOf(code: ErrorCode): string {
  return TITLES[code][1];
}

/**
 * An AppError is an answer (sold out, bad input...), never logged with a stack: capturing one would be
 * the most expensive part of refusing a purchase once a SKU is sold out, so none is captured.
 */
export class AppError extends Error {
  readonly status: number;
  readonly title: string;

  constructor(
    readonly code: ErrorCode,
    readonly detail: string,
    /** extra members of the problem document, e.g. the validation issues or units remaining */
    readonly extensions: Readonly<Record<string, unknown>> = {},
  ) {
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    super(detail);
    Error.stackTraceLimit = limit;
    this.name = 'AppError';
    [this.status, this.title] = TITLES[code];
  }
}

/**
 * The store's two ways of failing a write whose effect matters (the inventory store's port promises one
 * of them, never a bare transport error): it certainly did not happen, or it may have.
 */
export class StoreUnreachable extends Error {
  constructor(readonly reason: unknown) {
    super('the store could not be reached; nothing was sent');
    this.name = 'StoreUnreachable';
  }
}

export class OutcomeUnknown extends Error {
  constructor(readonly reason: unknown) {
    super('the command reached the store, or may have, and its answer was lost');
    this.name = 'OutcomeUnknown';
  }
}
