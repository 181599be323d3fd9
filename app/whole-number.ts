import { z } from 'zod';

/**
 * The one rule for a whole number written as text (an environment variable, a query parameter, a command-line
 * option, a CDK context value): digits only. Number() reads '' and ' ' as 0, '0x10' as 16 and '1e3' as 1000:
 * a blank `?amount=` would have reset a SKU to zero and cleared its orders. This file imports nothing of the
 * project, so every layer, the attack harness and infra-cdk may use it.
 */
const DIGITS = /^\d+$/;

export const WHOLE_NUMBER_HINT = 'must be a whole number, written in digits';

/** The number `text` spells in digits only, or undefined for anything else (blank, sign, exponent, hex). */
export function readWholeNumber(text: string): number | undefined {
  return DIGITS.test(text) ? Number(text) : undefined;
}

/** The same rule as a zod schema, with bounds: for configuration and request parameters. */
export const wholeNumber = (min: number, max: number) =>
  z
    .string()
    .refine((text) => readWholeNumber(text) !== undefined, WHOLE_NUMBER_HINT)
    .transform(Number)
    .pipe(z.number().min(min).max(max));
