import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { newOrderToken } from '../app/domain/order-id';
import { catalogueKey, legacyCatalogueKey, restockChannel, skuKeys } from '../app/redis/keys';
import { startRedis } from '../attack/local/redis-server';
import { PurchaseCode, RedisInventoryStore, toPurchaseOutcome } from '../app/redis/inventory-store';
import { defineScripts, loadScripts, readScripts } from '../app/redis/scripts';
import { expectConserved, readSkuState } from './support/invariants';
import { redisClient, uniqueSku } from './support/fixtures';

/** The Lua scripts, called directly against a real Redis: every outcome code. */
describe('purchase-5.lua', () => {
  let redis: Redis;
  let store: RedisInventoryStore;
  const scripts = readScripts();

  beforeAll(async () => {
    redis = redisClient();
    defineScripts(redis, scripts);
    await loadScripts(redis, scripts);
    store = new RedisInventoryStore(redis);
  });
  afterAll(async () => {
    await redis.quit();
  });

  async function stocked(units: number, perUserLimit = 0): Promise<string> {
    const sku = uniqueSku('lua');
    await store.putProduct(sku, { name: 'Test', price: 1, stock: units, perUserLimit }, false);
    return sku;
  }

  const buy = (sku: string, quantity = 1, userId = '', key = '') => {
    const k = skuKeys(sku);
    return redis.purchase(
      k.stock,
      k.product,
      k.buyers,
      k.orders,
      k.idempotency,
      quantity,
      userId,
      key,
      'safe',
      newOrderToken(),
    );
  };

  it('when there is stock, then it decrements, appends the order and returns code 1 with the remaining units', async () => {
    const sku = await stocked(5);
    const [code, orderRef, quantity, remaining] = await buy(sku, 2);
    expect([code, quantity, remaining]).toEqual([PurchaseCode.Purchased, 2, 3]);
    const state = await readSkuState(redis, sku);
    const [entryId, token] = orderRef.split(':');
    expect(token).toMatch(/^[A-Za-z0-9_-]{16}$/);
    expect(state.orders).toEqual([
      {
        id: entryId,
        orderId: `${sku}:${orderRef}`,
        quantity: 2,
        userId: '',
        method: 'safe',
        key: '',
        sale: state.sale,
      },
    ]);
    expectConserved(state);
  });

  it('when the SKU does not exist, then it returns -1 and creates nothing', async () => {
    const sku = uniqueSku('lua');
    expect((await buy(sku))[0]).toBe(PurchaseCode.UnknownSku);
    expect(await redis.exists(Object.values(skuKeys(sku)) as string[])).toBe(0);
  });

  it('when fewer units are left than asked for, then it returns -2 with what is left and changes nothing', async () => {
    const sku = await stocked(1);
    expect(await buy(sku, 2)).toEqual([PurchaseCode.SoldOut, '', 0, 1]);
    const state = await readSkuState(redis, sku);
    expect(state.stock).toBe(1);
    expect(state.orders).toHaveLength(0);
  });

  it('when the stock is gone, then every further purchase returns -2 and stock stays 0', async () => {
    const sku = await stocked(1);
    expect((await buy(sku))[0]).toBe(PurchaseCode.Purchased);
    expect((await buy(sku))[0]).toBe(PurchaseCode.SoldOut);
    expect((await buy(sku))[0]).toBe(PurchaseCode.SoldOut);
    const state = await readSkuState(redis, sku);
    expect(state.stock).toBe(0);
    expectConserved(state);
  });

  it('when a user reaches the per-user limit, then -3 says how many they may still buy, and other users are not affected', async () => {
    const sku = await stocked(10, 3);
    expect((await buy(sku, 2, 'alice'))[0]).toBe(PurchaseCode.Purchased);
    expect(await buy(sku, 2, 'alice')).toEqual([PurchaseCode.LimitExceeded, '', 0, 1]);
    expect((await buy(sku, 1, 'alice'))[0]).toBe(PurchaseCode.Purchased);
    expect(await buy(sku, 1, 'alice')).toEqual([PurchaseCode.LimitExceeded, '', 0, 0]);
    expect((await buy(sku, 3, 'bob'))[0]).toBe(PurchaseCode.Purchased);
    const state = await readSkuState(redis, sku);
    expect(state.buyers).toEqual({ alice: 3, bob: 3 });
    expectConserved(state);
  });

  it('when the limit is 0, then a user may buy any number of units', async () => {
    const sku = await stocked(30, 0);
    for (let i = 0; i < 3; i += 1) expect((await buy(sku, 10, 'carol'))[0]).toBe(PurchaseCode.Purchased);
    expect((await readSkuState(redis, sku)).buyers).toEqual({ carol: 30 });
  });

  it('when a request is retried with the same Idempotency-Key and body, then it returns code 2 and the same order, and takes no stock', async () => {
    const sku = await stocked(5);
    const first = await buy(sku, 2, 'dave', 'key-1');
    const again = await buy(sku, 2, 'dave', 'key-1');
    expect(first[0]).toBe(PurchaseCode.Purchased);
    expect(again).toEqual([PurchaseCode.Replayed, first[1], 2, 3]);
    const state = await readSkuState(redis, sku);
    expect(state.stock).toBe(3);
    expect(state.orders).toHaveLength(1);
    expect(state.orders[0]?.key).toBe('key-1');
  });

  it('when an Idempotency-Key is reused with another quantity or user, then it returns -4 and changes nothing', async () => {
    const sku = await stocked(5);
    await buy(sku, 1, 'erin', 'key-2');
    expect((await buy(sku, 2, 'erin', 'key-2'))[0]).toBe(PurchaseCode.IdempotencyKeyReused);
    expect((await buy(sku, 1, 'frank', 'key-2'))[0]).toBe(PurchaseCode.IdempotencyKeyReused);
    expect((await buy(sku, 1, '', 'key-2'))[0]).toBe(PurchaseCode.IdempotencyKeyReused);
    const state = await readSkuState(redis, sku);
    expect(state.stock).toBe(4);
    expect(state.orders).toHaveLength(1);
  });

  it('when a key holding "|" is used, then the stored answer still decodes', async () => {
    const sku = await stocked(5);
    const first = await buy(sku, 1, 'a|b', 'k|e|y');
    expect(await buy(sku, 1, 'a|b', 'k|e|y')).toEqual([PurchaseCode.Replayed, first[1], 1, 4]);
    expect(await store.readIdempotentAnswer(sku, 'k|e|y')).toEqual({
      orderRef: first[1],
      quantity: 1,
      remaining: 4,
      fingerprint: '1|a|b',
    });
  });

  it.each([
    ['the stock', (k: ReturnType<typeof skuKeys>) => redis.set(k.stock, '5.5')],
    ['the sold counter', (k: ReturnType<typeof skuKeys>) => redis.hset(k.product, 'sold', 'x')],
    ['the order counter', (k: ReturnType<typeof skuKeys>) => redis.hset(k.product, 'orders', '1.5')],
    ['the per-user limit', (k: ReturnType<typeof skuKeys>) => redis.hset(k.product, 'perUserLimit', 'two')],
    ["the buyer's count", (k: ReturnType<typeof skuKeys>) => redis.hset(k.buyers, 'hana', '0.5')],
  ])(
    'when %s is not an integer, then a purchase with a userId fails with an error and writes nothing',
    async (_what, corrupt) => {
      const sku = await stocked(5, 3);
      const k = skuKeys(sku);
      await corrupt(k);
      const dump = () =>
        Promise.all([
          redis.get(k.stock),
          redis.hgetall(k.product),
          redis.hgetall(k.buyers),
          redis.xlen(k.orders),
          redis.hgetall(k.idempotency),
        ]);
      const before = await dump();
      await expect(buy(sku, 1, 'hana', 'key-corrupt')).rejects.toThrow(/corrupt/);
      expect(await dump()).toEqual(before);
    },
  );

  it('when the script cache is flushed, then the next call still succeeds (EVALSHA falls back to EVAL)', async () => {
    const sku = await stocked(2);
    await redis.script('FLUSH');
    expect((await buy(sku))[0]).toBe(PurchaseCode.Purchased);
  });

  it('when the Lua directory lacks a script, then loading refuses to start rather than fail every purchase', () => {
    const dir = mkdtempSync(join(tmpdir(), 'lua-'));
    try {
      writeFileSync(join(dir, 'reset-stock-4.lua'), 'return 1');
      expect(() => readScripts(dir)).toThrow(/Lua scripts missing from .*: purchase, putProduct/);
      expect(() => readScripts(join(dir, 'absent'))).toThrow(/ENOENT/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("when the script's reply is of the wrong shape, then toPurchaseOutcome refuses it", () => {
    expect(() => toPurchaseOutcome('OK')).toThrow(/unexpected reply/);
    expect(() => toPurchaseOutcome([9, '', 0, 0])).toThrow(/unknown code/);
  });
});

describe('reset-stock-4.lua and put-product-2.lua', () => {
  let redis: Redis;
  let store: RedisInventoryStore;

  beforeAll(async () => {
    redis = redisClient();
    const scripts = readScripts();
    defineScripts(redis, scripts);
    await loadScripts(redis, scripts);
    store = new RedisInventoryStore(redis);
  });
  afterAll(async () => {
    await redis.quit();
  });

  it('when a SKU is reset, then its stock is set, a new sale starts, and its buyers and idempotency records are gone', async () => {
    const sku = uniqueSku('reset');
    await store.putProduct(sku, { name: 'Mug', price: 4.5, stock: 5, perUserLimit: 2 }, false);
    await store.purchase(sku, 2, 'gina', 'key-3', 'safe', newOrderToken());
    const before = await readSkuState(redis, sku);
    expect(await store.resetStock(sku, 7)).toEqual({ created: false });
    const state = await readSkuState(redis, sku);
    expect(state).toMatchObject({ stock: 7, stocked: 7, orders: [], buyers: {} });
    expect(state.sale).toBeGreaterThan(before.sale);
    // the earlier sale's order stays in the log until the order worker has it in PostgreSQL
    expect(state.log).toEqual(before.orders);
    expect(await store.readIdempotentAnswer(sku, 'key-3')).toBeNull();
    // the product itself is kept
    expect(await store.getProduct(sku)).toMatchObject({
      name: 'Mug',
      price: 4.5,
      perUserLimit: 2,
      sold: 0,
      orders: 0,
    });
  });

  it('when a SKU is reset between two purchases in the same millisecond, then the two order ids still differ', async () => {
    const sku = uniqueSku('reset');
    await store.putProduct(sku, { name: 'Mug', price: 1, stock: 5, perUserLimit: 0 }, false);
    // one MULTI: purchase, reset, purchase run back to back, well within one millisecond of Redis time
    const k = skuKeys(sku);
    const replies = await redis
      .multi()
      .purchase(k.stock, k.product, k.buyers, k.orders, k.idempotency, 1, '', '', 'safe', newOrderToken())
      .resetStock(k.stock, k.product, k.buyers, k.idempotency, 5, sku, restockChannel, sku)
      .purchase(k.stock, k.product, k.buyers, k.orders, k.idempotency, 1, '', '', 'safe', newOrderToken())
      .exec();
    const [first, , second] = (replies ?? []).map(([error, reply]) => {
      expect(error).toBeNull();
      return reply as [number, string, number, number];
    });
    const entryIds = [first?.[1], second?.[1]].map((ref) => ref?.split(':')[0]);
    expect(entryIds[0]).not.toBe(entryIds[1]);
    expect(first?.[1]).not.toBe(second?.[1]);
  });

  it('when an unknown SKU is reset, then it is created and listed', async () => {
    const sku = uniqueSku('reset');
    expect(await store.resetStock(sku, 3)).toEqual({ created: true });
    expect(await store.getProduct(sku)).toMatchObject({ name: sku, stock: 3, initialStock: 3, sold: 0 });
    expect(await store.listSkus(undefined, 100_000)).toContain(sku);
  });

  it('when a product is updated after sales, then stocked = stock + sold still holds', async () => {
    const sku = uniqueSku('put');
    expect(await store.putProduct(sku, { name: 'Cap', price: 10, stock: 5, perUserLimit: 0 }, false)).toEqual(
      {
        created: true,
      },
    );
    await store.purchase(sku, 2, '', '', 'safe', newOrderToken());
    expect(
      await store.putProduct(sku, { name: 'Cap 2', price: 12, stock: 10, perUserLimit: 1 }, false),
    ).toEqual({
      created: false,
    });
    expect(await store.getProduct(sku)).toEqual({
      name: 'Cap 2',
      price: 12,
      perUserLimit: 1,
      stock: 10,
      initialStock: 12,
      sold: 2,
      orders: 1,
    });
    expectConserved(await readSkuState(redis, sku));
  });

  it('when only-if-missing is asked and the product exists, then nothing changes', async () => {
    const sku = uniqueSku('put');
    await store.putProduct(sku, { name: 'Hat', price: 1, stock: 5, perUserLimit: 0 }, false);
    await store.purchase(sku, 1, '', '', 'safe', newOrderToken());
    await store.putProduct(sku, { name: 'Other', price: 0, stock: 100, perUserLimit: 0 }, true);
    expect(await store.getProduct(sku)).toMatchObject({ name: 'Hat', stock: 4 });
  });
});

/** What the sold-out marks rely on: every restock is announced, and only once it is written. */
describe('restock announcements', () => {
  let redis: Redis;
  let listener: Redis;
  let store: RedisInventoryStore;
  /** the new stock as Redis had it when each message was received, by SKU */
  const heard = new Map<string, Promise<string | null>[]>();
  const scripts = readScripts();

  beforeAll(async () => {
    redis = redisClient();
    listener = redisClient();
    defineScripts(redis, scripts);
    await loadScripts(redis, scripts);
    store = new RedisInventoryStore(redis);
    listener.on('message', (channel: string, sku: string) => {
      if (channel !== restockChannel) return;
      heard.set(sku, [...(heard.get(sku) ?? []), redis.get(skuKeys(sku).stock)]);
    });
    await listener.subscribe(restockChannel);
  });
  afterAll(async () => {
    await Promise.all([redis.quit(), listener.quit()]);
  });

  /** a PING on the subscribed connection comes back after every message published before it */
  const messagesFor = async (sku: string): Promise<(string | null)[]> => {
    await listener.ping();
    return Promise.all(heard.get(sku) ?? []);
  };

  it('when a SKU is reset or put, then its SKU is published on the restock channel with the new stock already written', async () => {
    const sku = uniqueSku('announce');
    await store.putProduct(sku, { name: 'Scarf', price: 3, stock: 4, perUserLimit: 0 }, false);
    expect(await messagesFor(sku)).toEqual(['4']);
    await store.resetStock(sku, 9);
    expect(await messagesFor(sku)).toEqual(['4', '9']);
  });

  it('when only-if-missing leaves an existing product alone, then nothing is announced', async () => {
    const sku = uniqueSku('announce');
    await store.putProduct(sku, { name: 'Glove', price: 3, stock: 2, perUserLimit: 0 }, true);
    await store.putProduct(sku, { name: 'Glove', price: 3, stock: 50, perUserLimit: 0 }, true);
    expect(await messagesFor(sku)).toEqual(['2']);
  });
});

describe('the catalogue kept as a plain set by an earlier version', () => {
  it('when the service starts on such a Redis, then every SKU of the set is listed', async () => {
    const local = await startRedis();
    const redis = redisClient(local.url);
    try {
      defineScripts(redis, readScripts());
      const store = new RedisInventoryStore(redis);
      await store.putProduct('old-1', { name: 'Old', price: 1, stock: 1, perUserLimit: 0 }, false);
      await redis.zrem(catalogueKey, 'old-1');
      await redis.sadd(legacyCatalogueKey, 'old-1', 'old-2');
      expect(await store.adoptLegacyCatalogue()).toBe(2);
      expect(await store.listSkus(undefined, 10)).toEqual(['old-1', 'old-2']);
      // again: nothing changes
      expect(await store.adoptLegacyCatalogue()).toBe(2);
      expect(await store.listSkus(undefined, 10)).toEqual(['old-1', 'old-2']);
    } finally {
      redis.disconnect();
      await local.stop();
    }
  });
});
