import { SKU_REGEX } from '../config';

/**
 * A public order id is `<sku>:<stream entry id>`, e.g. `default:1732252800000-0`. Carrying the SKU lets
 * GET /orders/:orderId read the order from the SKU's own stream (one key, one slot, one round trip);
 * `:` is outside the SKU alphabet, so the split is unambiguous.
 */
const STREAM_ID = /^(\d{1,20})-(\d{1,20})$/;
/** each part of a stream entry id is an unsigned 64-bit integer; Redis refuses a larger one with an error */
const MAX_PART = 2n ** 64n - 1n;

export function formatOrderId(sku: string, orderRef: string): string {
  return `${sku}:${orderRef}`;
}

export function parseOrderId(orderId: string): { sku: string; orderRef: string } | null {
  const at = orderId.lastIndexOf(':');
  if (at < 0) return null;
  const sku = orderId.slice(0, at);
  const orderRef = orderId.slice(at + 1);
  if (!SKU_REGEX.test(sku)) return null;
  const parts = STREAM_ID.exec(orderRef);
  if (!parts || parts.slice(1).some((part) => BigInt(part) > MAX_PART)) return null;
  return { sku, orderRef };
}

/** the entry id's first part is the time Redis wrote the order, in milliseconds */
export function orderTime(orderRef: string): Date {
  return new Date(Number(orderRef.slice(0, orderRef.indexOf('-'))));
}
