-- The system of record for orders: one row per order of a SKU's Redis order log, written by the order
-- worker (app/worker.ts) exactly once, whatever is redelivered (ON CONFLICT (order_id) DO NOTHING).
CREATE TABLE orders (
  -- `<sku>:<stream entry id>:<token>`, as the purchase answered it
  order_id text PRIMARY KEY,
  sku text NOT NULL,
  -- the SKU's sale: orders between two resets share it (the reset's time in ms since the epoch)
  sale bigint NOT NULL,
  -- null for an anonymous buyer
  user_id text,
  quantity integer NOT NULL CHECK (quantity > 0),
  method text NOT NULL CHECK (method IN ('safe', 'unsafe')),
  idempotency_key text,
  -- when Redis took the order: the time part of its stream entry id
  created_at timestamptz NOT NULL,
  -- when the worker wrote it here
  exported_at timestamptz NOT NULL DEFAULT now()
);

-- npm run verify: a SKU's current sale, and the orders still in Redis's log window
CREATE INDEX orders_sku_sale ON orders (sku, sale);
CREATE INDEX orders_sku_created_at ON orders (sku, created_at);
-- a purchase looked up by its Idempotency-Key
CREATE INDEX orders_sku_idempotency_key ON orders (sku, idempotency_key) WHERE idempotency_key IS NOT NULL;
