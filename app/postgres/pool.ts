import { Pool } from 'pg';
import type { DatabaseSettings } from '../env/database-env';

export type { Pool };

/**
 * A connection pool to the system of record. Every connection carries a statement timeout, so that a
 * query stuck behind a lock or a dying server is cancelled by PostgreSQL itself and the caller gets an
 * error it can retry; the pool gives up on a connection attempt after the connect timeout.
 */
export function createPool(
  settings: DatabaseSettings,
  applicationName: string,
  onIdleError: (error: Error) => void = () => undefined,
): Pool {
  const pool = new Pool({
    connectionString: settings.url,
    max: settings.poolSize,
    connectionTimeoutMillis: settings.connectTimeoutMs,
    statement_timeout: settings.statementTimeoutMs,
    query_timeout: settings.statementTimeoutMs + 1000,
    idleTimeoutMillis: 30_000,
    application_name: applicationName,
  });
  // An idle connection that the server drops (a restart, a failover) is reported here; without a
  // listener it would end the process. The next query opens a new connection.
  pool.on('error', onIdleError);
  return pool;
}
