import { Redis } from 'ioredis';
import type { RedisClient } from '../../app/redis/scripts';
import { skuKeys } from '../../app/redis/keys';
import { auth, startTestService, uniqueSku } from './fixtures';
import { recordFigures } from './figures';
import type { TestService } from './fixtures';
import { send } from './http-client';
import { expectConserved, expectLogMatchesAnswers, readSkuState } from './invariants';
import { storm } from './storm';

/**
 * A Redis deployment the purchase-invariant suite runs on. The suite is written once and run on every
 * topology (standalone, cluster), the way redlock runs one suite on a single instance and on a cluster.
 */
export interface TopologyUnderTest {
  /** environment that points the service at it (REDIS_MODE, REDIS_URL, REDIS_NODES) */
  readonly env: Record<string, string>;
  /** how many shards hold data: SKUs are picked so that each lands on a different one */
  readonly shards: number;
  /** the primaries, for SCRIPT FLUSH and INFO errorstats */
  readonly primaryPorts: readonly number[];
  /** a plain client for reading what the service wrote */
  client(): RedisClient;
  /** which primary serves a SKU's keys (its port) */
  shardOf(sku: string): Promise<number>;
  stop(): Promise<void>;
}

async function onEachPrimary<T>(
  ports: readonly number[],
  command: (redis: Redis) => Promise<T>,
): Promise<T[]> {
  return Promise.all(
    ports.map(async (port) => {
      const redis = new Redis({ host: '127.0.0.1', port, maxRetriesPerRequest: 1 });
      try {
        return await command(redis);
      } finally {
        redis.disconnect();
      }
    }),
  );
}

/** Redis counts every error reply it sent, by its first word (INFO errorstats). */
async function errorReplies(ports: readonly number[], kind: string): Promise<number> {
  const infos = await onEachPrimary(ports, (redis) => redis.info('errorstats'));
  return infos.reduce(
    (sum, info) => sum + Number(new RegExp(`errorstat_${kind}:count=(\\d+)`).exec(info)?.[1] ?? 0),
    0,
  );
}

export function describePurchaseInvariants(
  topologyName: string,
  startTopology: () => Promise<TopologyUnderTest>,
): void {
  describe(`purchase invariants on ${topologyName}`, () => {
    let topology: TopologyUnderTest;
    let redis: RedisClient;
    const services: TestService[] = [];
    let urls: string[] = [];

    beforeAll(async () => {
      topology = await startTopology();
      redis = topology.client();
      // Two stateless instances on the same store, as behind a load balancer.
      for (let i = 0; i < 2; i += 1) services.push(await startTestService(topology.env));
      urls = services.map((service) => service.url);
    }, 60_000);

    afterAll(async () => {
      await Promise.all(services.map((service) => service.stop()));
      redis.disconnect();
      await topology.stop();
    });

    /** one SKU per shard (a single one on standalone), each created through the admin API */
    async function productsOnEveryShard(stock: number, perUserLimit = 0): Promise<string[]> {
      const byShard = new Map<number, string>();
      for (let attempt = 0; byShard.size < topology.shards && attempt < 200; attempt += 1) {
        const sku = uniqueSku('inv');
        const shard = await topology.shardOf(sku);
        if (!byShard.has(shard)) byShard.set(shard, sku);
      }
      const skus = [...byShard.values()];
      expect(skus).toHaveLength(topology.shards);
      for (const sku of skus) {
        const res = await send(urls[0] ?? '', {
          method: 'PUT',
          path: `/products/${sku}`,
          body: { name: `Item ${sku}`, price: 9.5, stock, perUserLimit },
          headers: auth,
        });
        expect(res.status).toBe(201);
      }
      return skus;
    }

    it('when SKUs are picked for every shard, then their keys land on different shards, each SKU entirely on one', async () => {
      const skus = await productsOnEveryShard(1);
      const shards = await Promise.all(skus.map((sku) => topology.shardOf(sku)));
      expect(new Set(shards).size).toBe(topology.shards);
      for (const sku of skus) {
        const k = skuKeys(sku);
        const keys = [k.stock, k.product, k.buyers, k.orders, k.idempotency];
        expect(new Set(await Promise.all(keys.map((key) => topology.shardOf(key))))).toEqual(
          new Set([await topology.shardOf(sku)]),
        );
      }
    });

    it('when buyers storm every shard at once, then each SKU sells exactly its stock and every 200 names an order in its log', async () => {
      const stock = 20;
      const skus = await productsOnEveryShard(stock);
      const result = await storm({
        urls,
        path: '/purchase/safe',
        requests: 50 * skus.length,
        body: (i) => ({ sku: skus[i % skus.length] }),
      });
      expect(result.transportErrors).toBe(0);
      expect(result.count(200)).toBe(stock * skus.length);
      expect(result.count(409)).toBe(50 * skus.length - stock * skus.length);
      const orderIds = result.successes.map((success) => success.orderId);
      expect(new Set(orderIds).size).toBe(orderIds.length);
      for (const sku of skus) {
        const state = await readSkuState(redis, sku);
        expectConserved(state);
        expect(state.stock).toBe(0);
        expectLogMatchesAnswers(sku, state, orderIds);
      }
    });

    it('when quantities vary, then the units answered 200 are exactly the units in the log and never more than stocked', async () => {
      const stock = 25;
      const skus = await productsOnEveryShard(stock);
      const result = await storm({
        urls,
        path: '/purchase/safe',
        requests: 30 * skus.length,
        body: (i) => ({ sku: skus[i % skus.length], quantity: 1 + (i % 3) }),
      });
      expect(result.transportErrors).toBe(0);
      expect(result.count(200) + result.count(409)).toBe(30 * skus.length);
      for (const sku of skus) {
        const state = await readSkuState(redis, sku);
        expectConserved(state);
        const answeredUnits = result.successes
          .filter((success) => success.sku === sku)
          .reduce((sum, success) => sum + success.quantity, 0);
        expect(answeredUnits).toBe(state.unitsInLog);
        expect(state.stock).toBeLessThan(3);
        expectLogMatchesAnswers(
          sku,
          state,
          result.successes.map((success) => success.orderId),
        );
      }
    });

    it('when each user sends more concurrent purchases than the limit, then nobody holds more than the limit', async () => {
      const limit = 2;
      const skus = await productsOnEveryShard(100, limit);
      const users = ['ada', 'bob', 'cy', 'di', 'ed'];
      const result = await storm({
        urls,
        path: '/purchase/safe',
        requests: skus.length * users.length * 6,
        body: (i) => ({ sku: skus[i % skus.length], userId: users[i % users.length] }),
      });
      expect(result.transportErrors).toBe(0);
      expect(result.count(200)).toBe(skus.length * users.length * limit);
      for (const sku of skus) {
        const state = await readSkuState(redis, sku);
        expectConserved(state);
        expect(Object.values(state.buyers).every((units) => units === limit)).toBe(true);
        expect(Object.keys(state.buyers).sort()).toEqual([...users].sort());
      }
    });

    it('when the same Idempotency-Key is sent many times at once, then one order is taken and every answer names it', async () => {
      const skus = await productsOnEveryShard(50);
      const keys = Array.from({ length: 6 }, (_, i) => `idem-${i}`);
      const copies = 5;
      const result = await storm({
        urls,
        path: '/purchase/safe',
        requests: skus.length * keys.length * copies,
        body: (i) => ({ sku: skus[Math.floor(i / keys.length) % skus.length], quantity: 2 }),
        headers: (i) => ({ 'idempotency-key': keys[i % keys.length] ?? '' }),
      });
      expect(result.count(200)).toBe(skus.length * keys.length * copies);
      for (const sku of skus) {
        const state = await readSkuState(redis, sku);
        expectConserved(state);
        expect(state.orders).toHaveLength(keys.length);
        expect(new Set(state.orders.map((order) => order.key))).toEqual(new Set(keys));
        const answered = new Set(
          result.successes.filter((success) => success.sku === sku).map((success) => success.orderId),
        );
        expect(answered.size).toBe(keys.length);
        expectLogMatchesAnswers(sku, state, answered);
      }
    });

    it('when the script cache is flushed again and again mid-storm, then not one purchase fails', async () => {
      const requests = 80 * topology.shards;
      const skus = await productsOnEveryShard(requests);
      let flushes = 0;
      const stopFlushing = new AbortController();
      const flusher = (async () => {
        while (!stopFlushing.signal.aborted) {
          await onEachPrimary(topology.primaryPorts, (node) => node.script('FLUSH'));
          flushes += 1;
          await new Promise((resolve) => setTimeout(resolve, 5));
        }
      })();
      const result = await storm({
        urls,
        path: '/purchase/safe',
        requests,
        connections: 20,
        body: (i) => ({ sku: skus[i % skus.length] }),
      });
      stopFlushing.abort();
      await flusher;
      recordFigures(`script-flush-${topologyName.replace(/\W+/g, '-')}`, {
        purchases: requests,
        scriptCacheFlushesDuringTheStorm: flushes,
        answersByStatus: Object.fromEntries(result.statuses),
      });
      expect(flushes).toBeGreaterThan(0);
      expect(result.transportErrors).toBe(0);
      expect([...result.statuses]).toEqual([[200, requests]]);
      for (const sku of skus) {
        const state = await readSkuState(redis, sku);
        expectConserved(state);
        expectLogMatchesAnswers(
          sku,
          state,
          result.successes.map((success) => success.orderId),
        );
      }
    });

    it('when the catalogue, stock and orders are read, then each SKU answers from its own shard', async () => {
      const skus = await productsOnEveryShard(5);
      const bought = await send(urls[1] ?? '', {
        path: '/purchase/safe',
        body: { sku: skus[0], quantity: 2 },
      });
      expect(bought.status).toBe(200);
      const order = await send(urls[0] ?? '', {
        method: 'GET',
        path: `/orders/${String(bought.body.orderId)}`,
      });
      expect(order).toMatchObject({ status: 200, body: { sku: skus[0], quantity: 2 } });
      const catalogue = await send(urls[0] ?? '', { method: 'GET', path: '/products' });
      const listed = (catalogue.body.products as { sku: string }[]).map((product) => product.sku);
      expect(listed).toEqual(expect.arrayContaining(skus));
      for (const sku of skus) {
        const level = await send(urls[1] ?? '', { method: 'GET', path: `/stock?sku=${sku}` });
        expect(level.status).toBe(200);
        expect(Number(level.body.current_stock) + Number(level.body.sold)).toBe(level.body.initial_stock);
      }
      const reset = await send(urls[0] ?? '', {
        path: `/stock/reset?sku=${skus[0] ?? ''}&amount=7`,
        headers: auth,
      });
      expect(reset.status).toBe(200);
      expect(await readSkuState(redis, skus[0] ?? '')).toMatchObject({ stock: 7, stocked: 7, orders: [] });
    });

    it('when the tests above have run, then the store never received a CROSSSLOT, and no command the service sent was refused or failed', async () => {
      expect(await errorReplies(topology.primaryPorts, 'CROSSSLOT')).toBe(0);
      const stats = await onEachPrimary(topology.primaryPorts, (node) => node.info('commandstats'));
      const refused = stats.flatMap((info) =>
        [...info.matchAll(/cmdstat_([\w|]+):.*rejected_calls=(\d+),failed_calls=(\d+)/g)]
          // NOSCRIPT is the expected answer to an EVALSHA after SCRIPT FLUSH: the client then sends EVAL.
          .filter(
            ([, command, rejected, failed]) => command !== 'evalsha' && Number(rejected) + Number(failed) > 0,
          )
          .map(([line]) => line),
      );
      expect(refused).toEqual([]);
      // The only other error replies: ioredis's CLIENT SETINFO, which Redis 7.0 does not know (ERR).
      const errors = await onEachPrimary(topology.primaryPorts, (node) => node.info('errorstats'));
      const errorKinds = new Set(
        errors.flatMap((info) => [...info.matchAll(/errorstat_(\w+):/g)].map(([, kind]) => kind)),
      );
      expect([...errorKinds].filter((kind) => kind !== 'NOSCRIPT' && kind !== 'ERR')).toEqual([]);
    });
  });
}
