import { z } from 'zod';

/**
 * A whole number written as digits only, from text (an environment variable, a query parameter).
 * z.coerce.number() goes through Number(), which reads '' and ' ' as 0, '0x10' as 16 and '1e3' as
 * 1000: a blank `?amount=` would have reset a SKU to zero and cleared its orders.
 */
export const wholeNumber = (min: number, max: number) =>
  z
    .string()
    .regex(/^\d+$/, 'must be a whole number, written in digits')
    .transform(Number)
    .pipe(z.number().min(min).max(max));
