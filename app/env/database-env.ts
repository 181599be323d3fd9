import { z } from 'zod';
import { wholeNumber } from '../whole-number';

/**
 * PostgreSQL, the system of record for orders, from the environment. DATABASE_URL is a libpq-style URL
 * (`postgres://user:password@host:5432/db?sslmode=verify-full&sslrootcert=/path/ca.pem`); its TLS
 * parameters are read by node-postgres itself.
 */
const databaseUrl = z
  .string({ error: (issue) => (issue.input === undefined ? 'is required' : undefined) })
  .regex(/^postgres(ql)?:\/\//, 'expected a postgres:// or postgresql:// URL')
  .pipe(z.url());

const poolSettings = {
  DATABASE_POOL_SIZE: wholeNumber(1, 100).default(4),
  /** a statement running longer is cancelled by the server: a stuck query cannot hold a batch forever */
  DATABASE_STATEMENT_TIMEOUT_MS: wholeNumber(100, 600_000).default(10_000),
  DATABASE_CONNECT_TIMEOUT_MS: wholeNumber(100, 60_000).default(5000),
};

/** the service: PostgreSQL is optional (order lookups beyond Redis) */
export const databaseEnvShape = { DATABASE_URL: databaseUrl.optional(), ...poolSettings };

/** the worker, `migrate` and `verify`: they cannot run without it */
export const requiredDatabaseEnvShape = { DATABASE_URL: databaseUrl, ...poolSettings };

type DatabaseEnv = z.infer<ReturnType<typeof z.object<typeof databaseEnvShape>>>;

export interface DatabaseSettings {
  readonly url: string;
  readonly poolSize: number;
  readonly statementTimeoutMs: number;
  readonly connectTimeoutMs: number;
}

/** undefined when DATABASE_URL is not set */
export function toDatabaseSettings(env: DatabaseEnv & { DATABASE_URL: string }): DatabaseSettings;
export function toDatabaseSettings(env: DatabaseEnv): DatabaseSettings | undefined;
export function toDatabaseSettings(env: DatabaseEnv): DatabaseSettings | undefined {
  if (env.DATABASE_URL === undefined) return undefined;
  return {
    url: env.DATABASE_URL,
    poolSize: env.DATABASE_POOL_SIZE,
    statementTimeoutMs: env.DATABASE_STATEMENT_TIMEOUT_MS,
    connectTimeoutMs: env.DATABASE_CONNECT_TIMEOUT_MS,
  };
}
