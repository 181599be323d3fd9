import { timingSafeEqual } from 'node:crypto';
import { formatOrderId, orderTime } from '../domain/order-id';
import type { OrderRecord, PurchaseMethod } from '../domain/types';

/**
 * One order in a SKU's stream, as purchase-5.lua writes it: q quantity, u userId ('' anonymous),
 * m method, k Idempotency-Key ('' none), s sale, r token. The one place that reads an entry back, and
 * writes one from TypeScript (the unsafe demo endpoint).
 */
export type StreamEntry = [id: string, fields: string[]];

export interface OrderFields {
  readonly quantity: number;
  readonly userId: string;
  readonly method: PurchaseMethod;
  readonly idempotencyKey: string;
  readonly sale: number;
  readonly token: string;
}

/** field/value pairs for XADD, in the script's order */
export function orderFields(order: OrderFields): (string | number)[] {
  return [
    'q',
    order.quantity,
    'u',
    order.userId,
    'm',
    order.method,
    'k',
    order.idempotencyKey,
    's',
    order.sale,
    'r',
    order.token,
  ];
}

export interface DecodedEntry extends OrderRecord {
  readonly entryId: string;
  readonly token: string;
}

export function toOrderRecord(sku: string, [entryId, flat]: StreamEntry): DecodedEntry {
  const fields = new Map<string, string>();
  for (let i = 0; i + 1 < flat.length; i += 2) fields.set(flat[i] as string, flat[i + 1] as string);
  const token = fields.get('r') ?? '';
  const userId = fields.get('u') ?? '';
  const key = fields.get('k') ?? '';
  return {
    orderId: formatOrderId(sku, `${entryId}:${token}`),
    entryId,
    token,
    sku,
    sale: Number(fields.get('s') ?? 0),
    userId: userId === '' ? null : userId,
    quantity: Number(fields.get('q') ?? 0),
    method: fields.get('m') === 'unsafe' ? 'unsafe' : 'safe',
    idempotencyKey: key === '' ? null : key,
    createdAt: orderTime(entryId),
  };
}

export function sameToken(stored: string, given: string): boolean {
  const a = Buffer.from(stored);
  const b = Buffer.from(given);
  return a.length === b.length && timingSafeEqual(a, b);
}
