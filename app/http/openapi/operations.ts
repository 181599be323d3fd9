import { z } from 'zod';
import type { ErrorCode } from '../../domain/errors';
import type { RequestSchemas } from '../validation';
import {
  healthSchema,
  liveSchema,
  orderSchema,
  productPageSchema,
  productSchema,
  purchaseAnswerSchema,
  resetAnswerSchema,
  stockLevelSchema,
} from './response-schemas';

export type HttpMethod = 'get' | 'post' | 'put';

/** a response header by its name in the document's components (document.ts describes each) */
export type ResponseHeader =
  'Idempotent-Replayed' | 'Retry-After' | 'Allow' | 'WWW-Authenticate' | 'RateLimit' | 'RateLimit-Policy';

export interface SuccessResponse {
  readonly description: string;
  /** a JSON body; none: `contentType`'s text */
  readonly schema?: z.ZodType;
  readonly contentType?: string;
  readonly headers?: readonly ResponseHeader[];
}

export interface RequestHeader {
  readonly schema: z.ZodType;
  readonly required: boolean;
  readonly description: string;
}

/** One route as the API reference describes it; document.ts turns the list into OpenAPI. */
export interface Operation {
  readonly method: HttpMethod;
  /** OpenAPI's template: `/products/{sku}` */
  readonly path: string;
  readonly tag: string;
  readonly summary: string;
  readonly description?: string;
  /** required: only with the admin token; optional: open to all, the admin sees more */
  readonly admin?: 'required' | 'optional';
  readonly query?: z.ZodObject;
  readonly pathParams?: Readonly<Record<string, z.ZodType>>;
  readonly headers?: Readonly<Record<string, RequestHeader>>;
  readonly body?: { readonly schema: z.ZodType; readonly required: boolean };
  readonly responses: Readonly<Record<number, SuccessResponse>>;
  /** the problems this route answers with (their statuses come from domain/errors.ts) */
  readonly problems: readonly ErrorCode[];
}

/** what any route that reads Redis may answer besides its own refusals */
const READS: readonly ErrorCode[] = ['store_unavailable', 'internal_error'];
const WRITES: readonly ErrorCode[] = [...READS, 'store_out_of_memory'];
const JSON_BODY: readonly ErrorCode[] = ['invalid_request', 'unsupported_media_type', 'payload_too_large'];

/**
 * Every route of the service. The 405 middleware (method-not-allowed.ts) answers from this list too, so
 * a route missing here is a route that the reference does not show and that answers 405 to its own method:
 * the contract test finds it.
 */
export function operations(schemas: RequestSchemas): Operation[] {
  const idempotencyKey: RequestHeader = {
    schema: schemas.idempotencyKey,
    required: false,
    description:
      'Makes the purchase safe to retry: a retry with the same key and body returns the same order and takes no more stock. Send one with every purchase.',
  };
  const purchase = (method: 'safe' | 'unsafe'): Operation => ({
    method: 'post',
    path: `/purchase/${method}`,
    tag: 'Purchases',
    summary:
      method === 'safe'
        ? 'Buy units of a SKU, atomically'
        : 'Buy units of a SKU with a read-modify-write race (the demo of overselling)',
    description:
      method === 'safe'
        ? 'One Redis script checks the Idempotency-Key, the stock and the per-user limit, takes the stock and appends the order, atomically. With no body it buys one unit of the default SKU.'
        : 'Reads the stock, decides, writes it back: concurrent purchases oversell. Off unless UNSAFE_ENDPOINT is on.',
    headers: { 'Idempotency-Key': idempotencyKey },
    body: { schema: schemas.purchaseBody, required: false },
    responses: {
      200: {
        description: 'Bought. A retry answered from its Idempotency-Key carries `Idempotent-Replayed: true`.',
        schema: purchaseAnswerSchema,
        headers: ['Idempotent-Replayed', 'RateLimit', 'RateLimit-Policy'],
      },
    },
    problems: [
      ...JSON_BODY,
      'rate_limited',
      ...(method === 'unsafe' ? (['unsafe_disabled'] as const) : []),
      'unknown_sku',
      'sold_out',
      'limit_exceeded',
      'idempotency_key_reused',
      // the unsafe endpoint's separate reads and writes are not told apart: a lost answer is a 503 unavailable
      ...(method === 'safe' ? (['purchase_outcome_unknown'] as const) : []),
      ...WRITES,
    ],
  });

  return [
    purchase('safe'),
    purchase('unsafe'),
    {
      method: 'get',
      path: '/stock',
      tag: 'Catalogue',
      summary: "A SKU's stock and its order log's totals",
      query: schemas.skuQuery,
      responses: { 200: { description: 'The stock level.', schema: stockLevelSchema } },
      problems: ['invalid_request', 'unknown_sku', ...READS],
    },
    {
      method: 'post',
      path: '/stock/reset',
      tag: 'Catalogue',
      summary: "Set a SKU's stock and forget its orders, buyers and idempotency records",
      admin: 'required',
      query: schemas.resetQuery,
      responses: { 200: { description: 'The new stock.', schema: resetAnswerSchema } },
      problems: ['unauthorized', 'invalid_request', ...WRITES],
    },
    {
      method: 'get',
      path: '/products',
      tag: 'Catalogue',
      summary: 'A page of the catalogue, in SKU order, with live stock',
      query: schemas.productPage,
      responses: { 200: { description: 'One page.', schema: productPageSchema } },
      problems: ['invalid_request', 'server_busy', ...READS],
    },
    {
      method: 'get',
      path: '/products/{sku}',
      tag: 'Catalogue',
      summary: 'One product with live stock',
      pathParams: { sku: schemas.sku },
      responses: { 200: { description: 'The product.', schema: productSchema } },
      problems: ['invalid_request', 'unknown_sku', ...READS],
    },
    {
      method: 'put',
      path: '/products/{sku}',
      tag: 'Catalogue',
      summary: 'Create or replace a product',
      admin: 'required',
      pathParams: { sku: schemas.sku },
      body: { schema: schemas.product, required: true },
      responses: {
        200: { description: 'Replaced.', schema: productSchema },
        201: { description: 'Created.', schema: productSchema },
      },
      problems: ['unauthorized', ...JSON_BODY, ...WRITES],
    },
    {
      method: 'get',
      path: '/orders/{orderId}',
      tag: 'Orders',
      summary: 'An order by its id, from Redis or else the system of record',
      admin: 'optional',
      pathParams: { orderId: z.string().describe('as a purchase answered it') },
      headers: {
        'X-User-Id': {
          schema: schemas.viewer,
          required: false,
          description: 'The buyer the caller says they are: the order shows its `userId` only to that buyer.',
        },
      },
      responses: { 200: { description: 'The order.', schema: orderSchema } },
      problems: ['invalid_request', 'unknown_order', ...READS],
    },
    {
      method: 'get',
      path: '/orders',
      tag: 'Orders',
      summary: 'The purchase made with an Idempotency-Key: how to resolve an unknown outcome',
      description:
        'The key travels in a header, not in the URL: keys are secrets, and URLs end up in logs. Its holder is shown as the buyer.',
      query: schemas.skuQuery,
      headers: {
        'Idempotency-Key': {
          schema: schemas.requiredIdempotencyKey,
          required: true,
          description: 'The key the purchase was sent with.',
        },
      },
      responses: { 200: { description: 'The order made with this key.', schema: orderSchema } },
      problems: ['invalid_request', 'unknown_order', ...READS],
    },
    {
      method: 'get',
      path: '/health',
      tag: 'Operations',
      summary: 'Readiness, for the load balancer',
      responses: {
        200: {
          description: 'Serving (`ok`; `redis_data_lost` tells the operator to restock).',
          schema: healthSchema,
        },
        503: { description: 'Not serving: starting, draining or Redis unreachable.', schema: healthSchema },
      },
      problems: ['internal_error'],
    },
    {
      method: 'get',
      path: '/health/live',
      tag: 'Operations',
      summary: 'Liveness, for the process supervisor',
      responses: { 200: { description: 'The process answers.', schema: liveSchema } },
      problems: ['internal_error'],
    },
    {
      method: 'get',
      path: '/metrics',
      tag: 'Operations',
      summary: 'Prometheus metrics',
      responses: { 200: { description: 'The text exposition format.', contentType: 'text/plain' } },
      problems: ['internal_error'],
    },
    {
      method: 'get',
      path: '/openapi.json',
      tag: 'Reference',
      summary: 'This document',
      responses: { 200: { description: 'OpenAPI 3.1.', contentType: 'application/json' } },
      problems: [],
    },
    {
      method: 'get',
      path: '/docs',
      tag: 'Reference',
      summary: 'This document as a page, with every problem type',
      responses: { 200: { description: 'HTML.', contentType: 'text/html' } },
      problems: [],
    },
  ];
}
