import { OrderExporter } from '../../app/domain/order-export';
import type {
  Backlog,
  ExportObserver,
  OrderOutbox,
  OrderSink,
  OutboxEntry,
} from '../../app/domain/order-export';
import type { OrderRecord } from '../../app/domain/types';

/**
 * The export loop's own decisions, with an outbox and a sink in memory (the real Redis and PostgreSQL
 * sides are in export.test.ts and the fault tests): what it keeps, retries and reports.
 */
const order = (sku: string, n: number): OutboxEntry => {
  const record: OrderRecord = {
    orderId: `${sku}:${n}-0:AAAAAAAAAAAAAAAA`,
    sku,
    sale: 1,
    userId: null,
    quantity: 1,
    method: 'safe',
    idempotencyKey: null,
    createdAt: new Date(n),
  };
  return { sku, entryId: `${n}-0`, order: record };
};

class MemoryOutbox implements OrderOutbox {
  readonly pending = new Map<string, OutboxEntry[]>();
  readonly acknowledged: string[] = [];
  failRead = new Set<string>();
  failTrim = 0;
  trims = 0;
  constructor(readonly logs: Record<string, OutboxEntry[]>) {}
  skus(): Promise<string[]> {
    return Promise.resolve(Object.keys(this.logs));
  }
  join(): Promise<void> {
    return Promise.resolve();
  }
  readNew(sku: string, count: number): Promise<OutboxEntry[]> {
    if (this.failRead.has(sku)) return Promise.reject(new Error(`read ${sku} failed`));
    const taken = (this.logs[sku] ?? []).splice(0, count);
    this.pending.set(sku, [...(this.pending.get(sku) ?? []), ...taken]);
    return Promise.resolve(taken);
  }
  claimStale(): Promise<OutboxEntry[]> {
    return Promise.resolve([]);
  }
  acknowledge(sku: string, ids: readonly string[]): Promise<void> {
    this.acknowledged.push(...ids.map((id) => `${sku}/${id}`));
    return Promise.resolve();
  }
  trimExported(): Promise<number> {
    this.trims += 1;
    if (this.failTrim > 0) {
      this.failTrim -= 1;
      return Promise.reject(new Error('trim failed'));
    }
    return Promise.resolve(0);
  }
  backlog(): Promise<Backlog> {
    return Promise.resolve({ pending: 0, oldest: null });
  }
}

class MemorySink implements OrderSink {
  readonly rows = new Map<string, OrderRecord>();
  failures = 0;
  insert(orders: readonly OrderRecord[]): Promise<number> {
    if (this.failures > 0) {
      this.failures -= 1;
      return Promise.reject(new Error('database down'));
    }
    let written = 0;
    for (const o of orders) {
      if (!this.rows.has(o.orderId)) written += 1;
      this.rows.set(o.orderId, o);
    }
    return Promise.resolve(written);
  }
}

/** an observer that keeps what it was told of failures */
const quiet = (): ExportObserver & { readonly failures: string[] } => {
  const failures: string[] = [];
  return {
    failures,
    committed: () => undefined,
    redelivered: () => undefined,
    trimmed: () => undefined,
    backlog: () => undefined,
    failed: (stage) => {
      failures.push(stage);
    },
    recovered: () => undefined,
  };
};

const options = {
  batchSize: 3,
  claimIdleMs: 30_000,
  retentionMs: 600_000,
  maxIdleWaitMs: 50,
  backlogEveryMs: 5000,
  concurrency: 4,
};

describe('the export loop', () => {
  it('when one SKU cannot be read, then the entries read from the others are still written and acknowledged', async () => {
    const outbox = new MemoryOutbox({ a: [order('a', 1), order('a', 2)], b: [order('b', 3)] });
    outbox.failRead.add('b');
    const sink = new MemorySink();
    const observer = quiet();
    const exporter = new OrderExporter(outbox, sink, options, observer);
    expect(await exporter.pass()).toBe(2);
    expect([...sink.rows.keys()]).toHaveLength(2);
    expect(outbox.acknowledged).toEqual(['a/1-0', 'a/2-0']);
    expect(exporter.failingStages).toEqual(['read']);
    expect(observer.failures).toEqual(['read']);
  });

  it('when the write fails, then the batch stays in hand, is written once the sink is back, and only then acknowledged', async () => {
    const outbox = new MemoryOutbox({ a: [order('a', 1), order('a', 2), order('a', 3), order('a', 4)] });
    const sink = new MemorySink();
    sink.failures = 2;
    const exporter = new OrderExporter(outbox, sink, options, quiet());
    expect(await exporter.pass()).toBe(3);
    expect(sink.rows.size).toBe(3);
    expect(outbox.acknowledged).toEqual(['a/1-0', 'a/2-0', 'a/3-0']);
    // the batch was retried, not dropped, and nothing more was read meanwhile
    expect(outbox.logs.a).toHaveLength(1);
  });

  it('when told to give up while the write keeps failing, then it returns with nothing acknowledged', async () => {
    const outbox = new MemoryOutbox({ a: [order('a', 1)] });
    const sink = new MemorySink();
    sink.failures = Number.POSITIVE_INFINITY;
    const exporter = new OrderExporter(outbox, sink, options, quiet());
    const stop = new AbortController();
    const giveUp = new AbortController();
    const running = exporter.run(stop.signal, giveUp.signal);
    await new Promise((resolve) => setTimeout(resolve, 300));
    stop.abort();
    giveUp.abort();
    await running;
    expect(outbox.acknowledged).toEqual([]);
    expect(outbox.pending.get('a')).toHaveLength(1);
  });

  it('when a periodic stage fails once, then it runs again within a second, not a period later, and stops being reported', async () => {
    let clock = 0;
    const outbox = new MemoryOutbox({ a: [] });
    outbox.failTrim = 1;
    const exporter = new OrderExporter(outbox, new MemorySink(), options, quiet(), () => clock);
    await exporter.pass();
    expect(exporter.failingStages).toEqual(['trim']);
    clock += 1000;
    await exporter.pass();
    expect(outbox.trims).toBe(2);
    expect(exporter.failingStages).toEqual([]);
    // then back to its period (a tenth of the retention, at most a minute)
    clock += 1000;
    await exporter.pass();
    expect(outbox.trims).toBe(2);
  });
});
