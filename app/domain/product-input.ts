import { z } from 'zod';
import type { ProductInput } from './types';

/**
 * What a product may be, whoever writes it: `PUT /products/:sku` and the catalogue import both check
 * their input here, so that the two cannot come to accept different products. Strict: an unknown member
 * is refused rather than silently ignored.
 */
export const productInputSchema = z.strictObject({
  name: z.string().trim().min(1).max(200),
  price: z.number().min(0).max(1_000_000_000),
  stock: z.number().int('must be an integer').min(0).max(1_000_000_000),
  perUserLimit: z.number().int('must be an integer').min(0).max(1_000_000_000).default(0),
});

export interface InputIssue {
  /** the member at fault, e.g. 'price'; '' for the input as a whole */
  readonly field: string;
  readonly message: string;
}

export type ParsedProductInput =
  { readonly ok: true; readonly input: ProductInput } | { readonly ok: false; readonly issues: InputIssue[] };

/** Every problem of `value` at once, for callers that report them all rather than throw at the first. */
export function parseProductInput(value: unknown): ParsedProductInput {
  const parsed = productInputSchema.safeParse(value);
  if (parsed.success) return { ok: true, input: parsed.data };
  return {
    ok: false,
    issues: parsed.error.issues.map((issue) => ({
      field: issue.path.map(String).join('.'),
      message: issue.message,
    })),
  };
}
