import { randomBytes } from 'node:crypto';
import { Client, Pool } from 'pg';
import { migrate } from '../../app/postgres/migrations';
import type { OrderRow as ArchivedRow } from '../../app/postgres/order-archive';

/** The PostgreSQL the global setup started (or DATABASE_URL), migrated. Tests keep to their own SKUs. */
export function testDatabaseUrl(): string {
  const url = process.env.TEST_DATABASE_URL;
  if (!url) throw new Error('TEST_DATABASE_URL is not set: run the tests through jest (npm test)');
  return url;
}

export async function migrateDatabase(url: string): Promise<string[]> {
  const pool = new Pool({ connectionString: url, max: 1 });
  try {
    return await migrate(pool);
  } finally {
    await pool.end();
  }
}

export function testPool(url = testDatabaseUrl()): Pool {
  const pool = new Pool({ connectionString: url, max: 4 });
  pool.on('error', () => undefined);
  return pool;
}

/**
 * A database of its own on the server at `url`, for a test that must see an empty schema; dropped by
 * the returned function.
 */
export async function scratchDatabase(
  url = testDatabaseUrl(),
): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = `flash_sale_test_${randomBytes(5).toString('hex')}`;
  const admin = new Client({ connectionString: url });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const scratch = new URL(url);
  scratch.pathname = `/${name}`;
  return {
    url: scratch.toString(),
    drop: async () => {
      const client = new Client({ connectionString: url });
      await client.connect();
      try {
        // A pool's end() resolves once it has asked its connections to close, not once they have: wait
        // for them, since forcing them closed would make a closing client report an error nobody hears.
        for (let waited = 0; waited < 5000; waited += 50) {
          const { rows } = await client.query<{ n: string }>(
            'SELECT count(*) AS n FROM pg_stat_activity WHERE datname = $1',
            [name],
          );
          if (Number(rows[0]?.n ?? 0) === 0) break;
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
        await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await client.end();
      }
    },
  };
}

/** a row of `orders` as the tests read it back */
export type OrderRow = Omit<ArchivedRow, 'created_at'>;

export async function ordersOf(pool: Pool, sku: string): Promise<OrderRow[]> {
  return (
    await pool.query<OrderRow>(
      'SELECT order_id, sku, sale, user_id, quantity, method, idempotency_key FROM orders WHERE sku = $1 ORDER BY order_id',
      [sku],
    )
  ).rows;
}
