import { randomFillSync } from 'node:crypto';
import { SKU_PATTERN } from './sku';

/**
 * A public order id is `<sku>:<stream entry id>:<token>`, e.g. `default:1732252800000-0:q3X0v9bKp2mZ7yTw`.
 * - The SKU lets GET /orders/:orderId read the order from the SKU's own stream (one key, one slot, one
 *   round trip); `:` is outside the SKU alphabet, so the split is unambiguous.
 * - The stream entry id is where the order sits in that stream. The stream is never deleted (a reset
 *   keeps it), so Redis never hands out the same entry id twice for a SKU.
 * - The token is 96 random bits, stored with the order: stream ids follow the clock and can be guessed,
 *   the token cannot, so an order id is found only by someone it was given to. It also keeps ids unique
 *   where the stream could not: a Redis that lost its data starts its streams again.
 */
const ENTRY_ID = /^(\d{1,20})-(\d{1,20})$/;
const TOKEN = /^[A-Za-z0-9_-]{16}$/;
/** each part of a stream entry id is an unsigned 64-bit integer; Redis refuses a larger one with an error */
const MAX_PART = 2n ** 64n - 1n;

export interface ParsedOrderId {
  readonly sku: string;
  readonly entryId: string;
  readonly token: string;
}

/** `orderRef` is what the store returns for an order: `<stream entry id>:<token>` */
export function formatOrderId(sku: string, orderRef: string): string {
  return `${sku}:${orderRef}`;
}

export function parseOrderId(orderId: string): ParsedOrderId | null {
  const [sku, entryId, token, ...rest] = orderId.split(':');
  if (sku === undefined || entryId === undefined || token === undefined || rest.length > 0) return null;
  if (!SKU_PATTERN.test(sku) || !TOKEN.test(token)) return null;
  const parts = ENTRY_ID.exec(entryId);
  if (!parts || parts.slice(1).some((part) => BigInt(part) > MAX_PART)) return null;
  return { sku, entryId, token };
}

/** the entry id's first part is the time Redis wrote the order, in milliseconds */
export function orderTime(entryId: string): Date {
  return new Date(Number(entryId.slice(0, entryId.indexOf('-'))));
}

/**
 * 12 random bytes as 16 base64url characters. Drawn from a pool refilled 4 KiB at a time: one call to
 * the system's generator per 341 purchases instead of one per purchase.
 */
const POOL_SIZE = 4092;
const TOKEN_BYTES = 12;
const pool = Buffer.alloc(POOL_SIZE);
let offset = POOL_SIZE;

export function newOrderToken(): string {
  if (offset + TOKEN_BYTES > POOL_SIZE) {
    randomFillSync(pool);
    offset = 0;
  }
  const token = pool.toString('base64url', offset, offset + TOKEN_BYTES);
  offset += TOKEN_BYTES;
  return token;
}

/** orders two stream entry ids as Redis does: by time, then by sequence */
export function compareEntryIds(a: string, b: string): number {
  const [aMs = 0n, aSeq = 0n] = a.split('-').map(BigInt);
  const [bMs = 0n, bSeq = 0n] = b.split('-').map(BigInt);
  if (aMs !== bMs) return aMs < bMs ? -1 : 1;
  if (aSeq !== bSeq) return aSeq < bSeq ? -1 : 1;
  return 0;
}
