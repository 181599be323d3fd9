import type { Pool } from 'pg';
import type { OrderArchive } from '../domain/catalogue';
import type { OrderSink } from '../domain/order-export';
import type { ArchivedOrders } from '../domain/reconcile';
import type { OrderRecord } from '../domain/types';

/** a row of `orders`, as node-postgres returns it */
export interface OrderRow {
  order_id: string;
  sku: string;
  /** bigint: node-postgres returns it as text */
  sale: string;
  user_id: string | null;
  quantity: number;
  method: string;
  idempotency_key: string | null;
  created_at: Date;
}

const COLUMNS = 'order_id, sku, sale, user_id, quantity, method, idempotency_key, created_at';

function toRecord(row: OrderRow): OrderRecord {
  return {
    orderId: row.order_id,
    sku: row.sku,
    sale: Number(row.sale),
    userId: row.user_id,
    quantity: row.quantity,
    method: row.method === 'unsafe' ? 'unsafe' : 'safe',
    idempotencyKey: row.idempotency_key,
    createdAt: row.created_at,
  };
}

/**
 * The `orders` table (migrations/0001_create_orders.sql): where the worker writes, and what a lookup and
 * `verify` read.
 */
export class PostgresOrderArchive implements OrderArchive, OrderSink, ArchivedOrders {
  constructor(private readonly pool: Pool) {}

  /**
   * One statement, so one transaction, for the whole batch: every row is written or none is. A row
   * already there (a redelivered order) is skipped by its primary key. Returns the rows written.
   */
  async insert(orders: readonly OrderRecord[]): Promise<number> {
    if (orders.length === 0) return 0;
    const result = await this.pool.query(
      `INSERT INTO orders (${COLUMNS})
       SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::text[], $5::integer[], $6::text[],
                            $7::text[], $8::timestamptz[])
       ON CONFLICT (order_id) DO NOTHING`,
      [
        orders.map((o) => o.orderId),
        orders.map((o) => o.sku),
        orders.map((o) => o.sale),
        orders.map((o) => o.userId),
        orders.map((o) => o.quantity),
        orders.map((o) => o.method),
        orders.map((o) => o.idempotencyKey),
        orders.map((o) => o.createdAt.toISOString()),
      ],
    );
    return result.rowCount ?? 0;
  }

  async findOrder(orderId: string): Promise<OrderRecord | null> {
    const result = await this.pool.query<OrderRow>(`SELECT ${COLUMNS} FROM orders WHERE order_id = $1`, [
      orderId,
    ]);
    const row = result.rows[0];
    return row ? toRecord(row) : null;
  }

  async findByIdempotencyKey(sku: string, key: string): Promise<OrderRecord | null> {
    const result = await this.pool.query<OrderRow>(
      `SELECT ${COLUMNS} FROM orders WHERE sku = $1 AND idempotency_key = $2 ORDER BY created_at DESC LIMIT 1`,
      [sku, key],
    );
    const row = result.rows[0];
    return row ? toRecord(row) : null;
  }

  async forReconciliation(
    sku: string,
    sale: number,
    since: Date,
    orderIds: readonly string[],
  ): Promise<OrderRecord[]> {
    const result = await this.pool.query<OrderRow>(
      `SELECT ${COLUMNS} FROM orders
       WHERE order_id = ANY($4::text[]) OR (sku = $1 AND (sale = $2 OR created_at >= $3))`,
      [sku, sale, since.toISOString(), orderIds],
    );
    return result.rows.map(toRecord);
  }
}
