/**
 * Numbers as an operator writes them, in a CSV cell or an option. Digits only (and a point for a price):
 * Number() reads '' and ' ' as 0, '0x10' as 16 and '1e3' as 1000 (see app/whole-number.ts), and a
 * Brazilian '12,50' must be refused, not read as something else. Ranges are the product rule's business
 * (domain/product-input.ts), not this file's.
 */
export const WHOLE_NUMBER_HINT = 'must be a whole number, written in digits';
export const DECIMAL_HINT = 'must be written in digits, with a point for decimals, such as 12 or 12.50';

/** undefined when `text` is not a whole number written in digits */
export function readWholeNumber(text: string): number | undefined {
  return /^\d+$/.test(text) ? Number(text) : undefined;
}

/** undefined when `text` is not digits with an optional decimal point */
export function readDecimal(text: string): number | undefined {
  return /^\d+(\.\d+)?$/.test(text) ? Number(text) : undefined;
}

/** a value quoted back in a message: long enough to recognise, never a whole line */
export function quoted(text: string): string {
  return JSON.stringify(text.length > 40 ? `${text.slice(0, 40)}…` : text);
}
