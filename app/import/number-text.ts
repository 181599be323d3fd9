/**
 * Numbers as an operator writes them, in a CSV cell or an option. Digits only (and a point for a price):
 * whole numbers follow app/whole-number.ts, and a Brazilian '12,50' must be refused, not read as something
 * else. Ranges are the product rule's business (domain/product-input.ts), not this file's.
 */
export const DECIMAL_HINT = 'must be written in digits, with a point for decimals, such as 12 or 12.50';

/** undefined when `text` is not digits with an optional decimal point */
export function readDecimal(text: string): number | undefined {
  return /^\d+(\.\d+)?$/.test(text) ? Number(text) : undefined;
}

/** a value quoted back in a message: long enough to recognise, never a whole line */
export function quoted(text: string): string {
  return JSON.stringify(text.length > 40 ? `${text.slice(0, 40)}…` : text);
}
