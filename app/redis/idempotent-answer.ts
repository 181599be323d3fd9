import type { IdempotentAnswer } from '../domain/inventory-store';

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
