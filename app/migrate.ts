import { z } from 'zod';
import { requiredDatabaseEnvShape, toDatabaseSettings } from './env/database-env';
import { ConfigError, parseEnv } from './env/parse-env';
import { migrate } from './postgres/migrations';
import { createPool } from './postgres/pool';

/**
 * `npm run migrate` (or `node dist/app/migrate.js`): brings the PostgreSQL at DATABASE_URL to the
 * schema this build expects. Safe to run from every instance at once, and again: it applies only what
 * is pending. Exit 0 when up to date, 1 when a migration failed, 78 on a bad configuration.
 */
async function main(): Promise<number> {
  let settings;
  try {
    settings = toDatabaseSettings(parseEnv(z.object(requiredDatabaseEnvShape), process.env));
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`migrate: ${error.message}\n`);
      return 78;
    }
    throw error;
  }
  const pool = createPool(settings, 'flash-sale migrate');
  try {
    const applied = await migrate(pool);
    process.stdout.write(
      applied.length === 0 ? 'migrate: up to date\n' : `migrate: applied ${applied.join(', ')}\n`,
    );
    return 0;
  } catch (error) {
    process.stderr.write(`migrate: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  } finally {
    await pool.end();
  }
}

void main().then((code) => {
  process.exitCode = code;
});
