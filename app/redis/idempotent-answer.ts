import type { IdempotentAnswer } from '../domain/inventory-store';
import { skuKeys } from './keys';
import type { RedisClient } from './scripts';

/** `orderRef|quantity|remaining|fingerprint`, the same encoding purchase-5.lua writes and reads */
export function encodeAnswer(answer: IdempotentAnswer): string {
  return `${answer.orderRef}|${answer.quantity}|${answer.remaining}|${answer.fingerprint}`;
}

export function decodeAnswer(stored: string): IdempotentAnswer {
  const [orderRef = '', quantity = '0', remaining = '0', ...fingerprint] = stored.split('|');
  return {
    orderRef,
    quantity: Number(quantity),
    remaining: Number(remaining),
    fingerprint: fingerprint.join('|'),
  };
}

/** the answer stored for an Idempotency-Key of a SKU, or null when that key has none */
export async function readIdempotentAnswer(
  redis: RedisClient,
  sku: string,
  key: string,
): Promise<IdempotentAnswer | null> {
  const stored = await redis.hget(skuKeys(sku).idempotency, key);
  return stored === null ? null : decodeAnswer(stored);
}
