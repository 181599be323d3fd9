import type { ErrorCode } from '../../domain/errors';

/** the `type` of a problem document; the reference page (GET /docs) has an anchor of that id */
export const problemType = (code: ErrorCode): string => `urn:flash-sale:problem:${code}`;

/**
 * When each problem is sent and what the client does about it. A Record: a new ErrorCode does not compile
 * until it is described here, so the reference cannot miss one.
 */
export const PROBLEM_WHEN: Record<ErrorCode, string> = {
  invalid_request:
    'The request breaks the contract: a body, query parameter, path parameter or header out of its schema, or an unknown member or query parameter. `errors` names each input at fault. Nothing changed; fix the request.',
  unsupported_media_type: 'A request body that is not `application/json` in UTF-8. Nothing changed.',
  payload_too_large: 'A request body over 4 KiB. Nothing changed.',
  unauthorized:
    'An admin route without `Authorization: Bearer <ADMIN_TOKEN>`, or with the wrong token. Sent with `WWW-Authenticate`. Nothing changed.',
  not_found: 'No route has this path.',
  method_not_allowed:
    'The path exists but not with this method (e.g. `GET /purchase/safe`). `Allow` lists the methods it takes.',
  unknown_sku: 'No product has this SKU. Nothing changed.',
  unknown_order:
    'No order has this id, or no purchase of the SKU was made with this Idempotency-Key: buying again with that key is then safe.',
  unsafe_disabled:
    'POST /purchase/unsafe on a deployment where the deliberately racy endpoint is off (`UNSAFE_ENDPOINT=off`, the default in production).',
  sold_out:
    'Fewer units are left than the quantity asked for. `remaining` says how many are left (0: sold out). Nothing changed.',
  limit_exceeded:
    "The purchase would take the user past the SKU's per-user limit. `allowed` says how many more units this user may buy. Nothing changed.",
  idempotency_key_reused:
    'The Idempotency-Key was already used for a purchase with another quantity or user. Nothing changed; use a new key for a new purchase.',
  rate_limited:
    'This buyer (`userId`) or this client address has used up its purchase attempts for the window (`RATE_LIMIT_PER_USER`, `RATE_LIMIT_PER_IP`, fleet wide). Sent with `Retry-After`, `RateLimit` and `RateLimit-Policy`. Nothing changed; retry after `Retry-After` seconds.',
  store_unavailable:
    'Redis (or, for an order lookup, PostgreSQL) cannot be reached; nothing was sent to it. Sent with `Retry-After`; retrying is safe.',
  purchase_outcome_unknown:
    'The purchase reached Redis but its answer was lost (or no replica confirmed it): it may have been made. Retry with the same Idempotency-Key, which returns the order if it was made and buys once if not, or look it up with GET /orders?sku= and the key. Sent with `Retry-After`.',
  store_out_of_memory: 'Redis is full and refuses writes. Nothing changed. Sent with `Retry-After`.',
  server_busy:
    'Too many catalogue listings at once on this instance (GET /products is bounded so that it cannot starve purchases). Sent with `Retry-After`.',
  internal_error: 'A fault on our side; it is logged. The answer carries no detail of it.',
};
