import { z } from 'zod';

/**
 * The SKU alphabet, written once: configuration (DEFAULT_SKU), requests, order ids, the catalogue import
 * and the attack harness all check against it. It has no braces or colons: see app/redis/keys.ts.
 */
export const SKU_PATTERN = /^[A-Za-z0-9._-]{1,64}$/;

/** A SKU, wherever one comes from: a request, a path, a row of an imported catalogue. */
export const skuSchema = z.string().regex(SKU_PATTERN, 'must be 1-64 characters of A-Z a-z 0-9 . _ -');
