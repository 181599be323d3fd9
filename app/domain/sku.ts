import { z } from 'zod';
import { SKU_REGEX } from '../config';

/** A SKU, wherever one comes from: a request, a path, a row of an imported catalogue. */
export const skuSchema = z.string().regex(SKU_REGEX, 'must be 1-64 characters of A-Z a-z 0-9 . _ -');
