import { z } from 'zod';
import type { Order, Product, ProductPage, StockLevel } from '../../domain/types';

/**
 * What the service answers, as zod schemas: the OpenAPI document is generated from them, the contract test
 * checks real answers against that document, and the attack harness's client reads answers with them.
 * `satisfies` ties each to the domain type the route serialises, so neither can change alone.
 */
const count = z.number().int().min(0);

export const purchaseAnswerSchema = z.object({
  success: z.literal(true),
  method: z.enum(['safe', 'unsafe']),
  orderId: z.string().describe('`<sku>:<entry id>:<token>`; look it up at GET /orders/{orderId}'),
  sku: z.string(),
  quantity: z.number().int().min(1),
  remaining: count.describe('units of the SKU left after this purchase'),
});

export const stockLevelSchema = z.object({
  sku: z.string(),
  current_stock: count,
  initial_stock: count,
  sold: count.describe('units in the order log'),
  orders: count.describe('orders in the order log'),
}) satisfies z.ZodType<StockLevel>;

export const resetAnswerSchema = z.object({ message: z.string(), sku: z.string(), new_stock: count });

export const productSchema = z.object({
  sku: z.string(),
  name: z.string(),
  price: z.number().min(0),
  perUserLimit: count.describe('units one user may buy; 0: no limit'),
  stock: count,
  initialStock: count,
  sold: count,
  orders: count,
}) satisfies z.ZodType<Product>;

export const productPageSchema = z.object({
  products: z.array(productSchema),
  nextCursor: z.string().nullable().describe('pass as `cursor` for the next page; null on the last page'),
}) satisfies z.ZodType<ProductPage>;

export const orderSchema = z.object({
  orderId: z.string(),
  sku: z.string(),
  quantity: z.number().int().min(1),
  userId: z
    .string()
    .nullable()
    .optional()
    .describe('null: an anonymous buyer; absent: shown only to the buyer (X-User-Id) and the admin'),
  method: z.enum(['safe', 'unsafe']),
  createdAt: z.iso.datetime(),
}) satisfies z.ZodType<Order>;

export const healthSchema = z.object({
  status: z.enum(['ok', 'redis_data_lost', 'draining', 'starting', 'store_unavailable']),
  detail: z.string().optional(),
  since: z.iso.datetime().optional(),
});

export const liveSchema = z.object({ status: z.literal('live') });

/** RFC 9457; `code` is the stable part to branch on. Extensions (`errors`, `remaining`...) may follow. */
export const problemSchema = z.looseObject({
  type: z.string().describe('`urn:flash-sale:problem:<code>`, described in the reference page under that id'),
  title: z.string(),
  status: z.number().int().min(400).max(599),
  detail: z.string(),
  code: z.string(),
  errors: z
    .array(z.object({ location: z.string(), message: z.string() }))
    .optional()
    .describe('invalid_request: each input at fault'),
  remaining: count.optional().describe('sold_out: units left'),
  allowed: count.optional().describe('limit_exceeded: units this user may still buy'),
});

export type PurchaseAnswer = z.infer<typeof purchaseAnswerSchema>;
export type StockReset = z.infer<typeof resetAnswerSchema>;
export type ProblemDocument = z.infer<typeof problemSchema>;
