import type { Request } from 'express';
import { z } from 'zod';
import { AppError } from '../domain/errors';
import { productInputSchema } from '../domain/product-input';
import { skuSchema } from '../domain/sku';
import type { ProductInput, PurchaseRequest } from '../domain/types';
import { wholeNumber } from '../whole-number';
import type { WithBody } from './middleware/read-json-body';

/**
 * Request schemas, built once when the app is created (never per request). Objects are strict: an unknown
 * member, `__proto__` included, is a 400 rather than silently ignored.
 */
/** a page of the catalogue: every product on it costs a read, so a call is bounded */
const MAX_PAGE = 100;
const DEFAULT_PAGE = 50;

const printable = z.string().regex(/^[\x20-\x7e]{1,128}$/, 'must be 1-128 printable ASCII characters');

export interface Validators {
  /**
   * The purchase a request names (its body and Idempotency-Key), or the 400 it earns. Parsed once per
   * request: the sold-out refusal, the rate limits and the route all ask, and get the same answer.
   */
  purchase(req: WithBody): PurchaseRequest;
  skuQuery(req: Request): string;
  resetQuery(req: Request): { sku: string; amount: number };
  skuParam(value: unknown): string;
  product(body: unknown): ProductInput;
  /** GET /products?limit=&cursor= */
  productPage(req: Request): { limit: number; after: string | undefined };
  /** GET /orders?sku= with an Idempotency-Key header: the SKU and the key (required) */
  orderLookup(req: Request): { sku: string; idempotencyKey: string };
  /** the X-User-Id header of an order lookup: the buyer the caller says they are */
  viewer(req: Request): string | undefined;
}

function check<T>(schema: z.ZodType<T>, value: unknown, where: string): T {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const errors = parsed.error.issues.map((issue) => ({
    location: [where, ...issue.path.map(String)].join('.'),
    message: issue.message,
  }));
  throw new AppError('invalid_request', errors.map((e) => `${e.location}: ${e.message}`).join('; '), {
    errors,
  });
}

export interface SchemaOptions {
  defaultSku: string;
  defaultStock: number;
  maxQuantity: number;
}

/**
 * The request schemas: the validators below check requests with them, and the OpenAPI document
 * (openapi/document.ts) is generated from them, so that what is documented is what is checked.
 */
export function requestSchemas(options: SchemaOptions) {
  return {
    purchaseBody: z
      .strictObject({
        sku: skuSchema.optional(),
        quantity: z.number().int('must be an integer').min(1).max(options.maxQuantity).optional(),
        userId: printable.optional(),
      })
      .optional(),
    idempotencyKey: printable.optional(),
    /** a key a lookup needs */
    requiredIdempotencyKey: printable,
    viewer: printable.optional(),
    sku: skuSchema,
    skuQuery: z.strictObject({ sku: skuSchema.default(options.defaultSku) }),
    resetQuery: z.strictObject({
      sku: skuSchema.default(options.defaultSku),
      amount: wholeNumber(0, 1_000_000_000).default(options.defaultStock),
    }),
    productPage: z.strictObject({
      limit: wholeNumber(1, MAX_PAGE).default(DEFAULT_PAGE),
      cursor: skuSchema.optional(),
    }),
    product: productInputSchema,
  };
}

export type RequestSchemas = ReturnType<typeof requestSchemas>;

/** `schemas`: the ones the OpenAPI document is built from, so that what is checked is what is documented */
export function createValidators(
  options: SchemaOptions,
  schemas: RequestSchemas = requestSchemas(options),
): Validators {
  const { purchaseBody, idempotencyKey, skuQuery, resetQuery, productPage } = schemas;

  const purchaseOf = (rawBody: unknown, rawKey: unknown): PurchaseRequest => {
    const body = check(purchaseBody, rawBody, 'body');
    const key = check(idempotencyKey, rawKey, 'header.Idempotency-Key');
    return {
      sku: body?.sku ?? options.defaultSku,
      quantity: body?.quantity ?? 1,
      userId: body?.userId,
      idempotencyKey: key,
    };
  };

  const parsed = new WeakMap<WithBody, PurchaseRequest | AppError>();

  return {
    purchase: (req) => {
      let purchase = parsed.get(req);
      if (purchase === undefined) {
        try {
          purchase = purchaseOf(req.body, req.headers['idempotency-key']);
        } catch (error) {
          if (!(error instanceof AppError)) throw error;
          purchase = error;
        }
        parsed.set(req, purchase);
      }
      if (purchase instanceof AppError) throw purchase;
      return purchase;
    },
    skuQuery: (req) => check(skuQuery, req.query, 'query').sku,
    resetQuery: (req) => check(resetQuery, req.query, 'query'),
    skuParam: (value) => check(schemas.sku, value, 'path.sku'),
    product: (body) => check(schemas.product, body, 'body'),
    productPage: (req) => {
      const page = check(productPage, req.query, 'query');
      return { limit: page.limit, after: page.cursor };
    },
    orderLookup: (req) => ({
      sku: check(skuQuery, req.query, 'query').sku,
      idempotencyKey: check(
        schemas.requiredIdempotencyKey,
        req.get('idempotency-key'),
        'header.Idempotency-Key',
      ),
    }),
    viewer: (req) => check(schemas.viewer, req.get('x-user-id'), 'header.X-User-Id'),
  };
}
