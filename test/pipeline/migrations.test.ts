import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Pool } from 'pg';
import { MigrationError, migrate, readMigrations } from '../../app/postgres/migrations';
import { scratchDatabase } from '../support/database';

/** npm run migrate, on a database of its own each time. */
describe('migrations', () => {
  let database: { url: string; drop: () => Promise<void> };
  let pool: Pool;

  beforeEach(async () => {
    database = await scratchDatabase();
    pool = new Pool({ connectionString: database.url, max: 8 });
  });
  afterEach(async () => {
    await pool.end();
    await database.drop();
  });

  const columns = async (table: string): Promise<Record<string, { type: string; nullable: string }>> => {
    const { rows } = await pool.query<{ column_name: string; data_type: string; is_nullable: string }>(
      'SELECT column_name, data_type, is_nullable FROM information_schema.columns WHERE table_name = $1',
      [table],
    );
    return Object.fromEntries(
      rows.map((r) => [r.column_name, { type: r.data_type, nullable: r.is_nullable }]),
    );
  };

  it('when the database is empty, then it creates the orders table with its keys, checks and indexes', async () => {
    expect(await migrate(pool)).toEqual(['0001_create_orders.sql']);
    expect(await columns('orders')).toMatchObject({
      order_id: { type: 'text', nullable: 'NO' },
      sku: { type: 'text', nullable: 'NO' },
      sale: { type: 'bigint', nullable: 'NO' },
      user_id: { type: 'text', nullable: 'YES' },
      quantity: { type: 'integer', nullable: 'NO' },
      method: { type: 'text', nullable: 'NO' },
      idempotency_key: { type: 'text', nullable: 'YES' },
      created_at: { type: 'timestamp with time zone', nullable: 'NO' },
    });
    const { rows } = await pool.query<{ indexname: string }>(
      "SELECT indexname FROM pg_indexes WHERE tablename = 'orders' ORDER BY indexname",
    );
    expect(rows.map((r) => r.indexname)).toEqual([
      'orders_pkey',
      'orders_sku_created_at',
      'orders_sku_idempotency_key',
      'orders_sku_sale',
    ]);
    const insert = (id: string, quantity: number) =>
      pool.query(
        "INSERT INTO orders (order_id, sku, sale, quantity, method, created_at) VALUES ($1, 's', 1, $2, 'safe', now())",
        [id, quantity],
      );
    await insert('a', 1);
    await expect(insert('b', 0)).rejects.toThrow(/check constraint/);
    await expect(insert('a', 1)).rejects.toThrow(/duplicate key/);
  });

  it('when it runs again, then it applies nothing', async () => {
    await migrate(pool);
    expect(await migrate(pool)).toEqual([]);
  });

  it('when every instance of a fleet runs it at once, then one applies the schema and the others find it done', async () => {
    const runs = await Promise.all(Array.from({ length: 6 }, () => migrate(pool)));
    expect(runs.filter((applied) => applied.length > 0)).toEqual([['0001_create_orders.sql']]);
  });

  describe('with migrations of its own', () => {
    let dir: string;
    beforeEach(() => {
      dir = mkdtempSync(join(tmpdir(), 'flash-sale-migrations-'));
    });
    afterEach(() => {
      rmSync(dir, { recursive: true, force: true });
    });

    it('when an applied migration has been edited since, then it stops and says so', async () => {
      writeFileSync(join(dir, '0001_first.sql'), 'CREATE TABLE first (id int);');
      await migrate(pool, readMigrations(dir));
      writeFileSync(join(dir, '0001_first.sql'), 'CREATE TABLE first (id bigint);');
      await expect(migrate(pool, readMigrations(dir))).rejects.toThrow(MigrationError);
      await expect(migrate(pool, readMigrations(dir))).rejects.toThrow(
        /0001_first.sql was changed after it was applied/,
      );
    });

    it('when a migration fails, then none of the pending ones is applied', async () => {
      writeFileSync(join(dir, '0001_good.sql'), 'CREATE TABLE good (id int);');
      writeFileSync(join(dir, '0002_bad.sql'), 'CREATE TABLE bad (id no_such_type);');
      await expect(migrate(pool, readMigrations(dir))).rejects.toThrow(/no_such_type/);
      const { rows } = await pool.query("SELECT to_regclass('good') AS good");
      expect(rows[0]).toEqual({ good: null });
    });

    it('when a file is not named NNNN_name.sql, then reading refuses it', () => {
      writeFileSync(join(dir, 'create.sql'), 'SELECT 1;');
      expect(() => readMigrations(dir)).toThrow(/create.sql is not named NNNN_name.sql/);
    });
  });
});
