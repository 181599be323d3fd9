import { z } from 'zod';

/** What every process of the product reads: the service, the order worker and the command-line tools. */
export const commonEnvShape = {
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  INSTANCE_ID: z
    .string()
    .regex(/^[\x21-\x7e]{1,64}$/)
    .optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
};
