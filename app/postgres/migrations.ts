import { createHash } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Pool } from 'pg';

/**
 * Versioned SQL migrations: `migrations/NNNN_what.sql`, applied in order, each once, recorded in
 * `schema_migrations` with a checksum of its text.
 *
 * A minimal runner rather than a migration tool: the well-kept ones (node-pg-migrate) are ES modules
 * only, which this CommonJS service and its jest tests cannot load without a loader of their own, and
 * the schema is a handful of plain SQL files. What matters is kept:
 * - all pending migrations run in one transaction, so a failure leaves the schema as it was;
 * - a transaction-scoped advisory lock, so that every instance of a fleet may run `migrate` at boot;
 * - an applied migration whose file has changed since stops the run: a schema is changed by a new
 *   migration, never by editing an old one.
 */
const MIGRATIONS_DIR = join(__dirname, 'migrations');
/** any fixed number: the lock only has to be the same for every runner */
const LOCK_ID = 7_305_151;
const FILE = /^(\d{4})_[a-z0-9_]+\.sql$/;

export interface Migration {
  readonly version: string;
  readonly name: string;
  readonly sql: string;
  readonly checksum: string;
}

export class MigrationError extends Error {
  override readonly name = 'MigrationError';
}

export function readMigrations(dir: string = MIGRATIONS_DIR): Migration[] {
  return readdirSync(dir)
    .filter((file) => file.endsWith('.sql'))
    .sort()
    .map((file) => {
      const match = FILE.exec(file);
      if (!match?.[1]) throw new MigrationError(`migration ${file} is not named NNNN_name.sql`);
      const sql = readFileSync(join(dir, file), 'utf8');
      return {
        version: match[1],
        name: file,
        sql,
        checksum: createHash('sha256').update(sql).digest('hex'),
      };
    });
}

/** Applies what is pending; returns the names of the migrations it applied (none: up to date). */
export async function migrate(
  pool: Pool,
  migrations: readonly Migration[] = readMigrations(),
): Promise<string[]> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    await client.query('SELECT pg_advisory_xact_lock($1)', [LOCK_ID]);
    await client.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
      version text PRIMARY KEY,
      name text NOT NULL,
      checksum text NOT NULL,
      applied_at timestamptz NOT NULL DEFAULT now()
    )`);
    const applied = new Map(
      (
        await client.query<{ version: string; checksum: string; name: string }>(
          'SELECT version, name, checksum FROM schema_migrations',
        )
      ).rows.map((row) => [row.version, row]),
    );
    const done: string[] = [];
    for (const migration of migrations) {
      const earlier = applied.get(migration.version);
      if (earlier) {
        if (earlier.checksum !== migration.checksum) {
          throw new MigrationError(
            `migration ${migration.name} was changed after it was applied (as ${earlier.name}); add a new migration instead`,
          );
        }
        continue;
      }
      await client.query(migration.sql);
      await client.query('INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)', [
        migration.version,
        migration.name,
        migration.checksum,
      ]);
      done.push(migration.name);
    }
    await client.query('COMMIT');
    return done;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}
