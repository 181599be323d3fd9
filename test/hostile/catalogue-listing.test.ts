import autocannon from 'autocannon';
import { startRedis } from '../../attack/local/redis-server';
import type { LocalRedis } from '../../attack/local/redis-server';
import { importProducts } from '../../app/domain/import-products';
import { RedisInventoryStore } from '../../app/redis/inventory-store';
import { defineScripts, readScripts } from '../../app/redis/scripts';
import { spawnApp } from '../support/app-process';
import type { AppProcess } from '../support/app-process';
import { TEST_ADMIN_TOKEN, redisClient } from '../support/fixtures';
import { recordFigures, round } from '../support/figures';
import { send } from '../support/http-client';

/**
 * GET /products on a catalogue of 10,000 SKUs while a purchase storm runs: pages of at most 100 cost the
 * same whatever the catalogue's size, so 20 clients walking the whole catalogue at once do not take the
 * service down. Measured (purchases' p99 with and without the listing, the process's memory), and
 * recorded, not asserted: the machine is shared. Asserted: every call answered, every SKU listed once.
 */
jest.setTimeout(120_000);

const SKUS = 10_000;
const LISTERS = 20;
const STORM_SECONDS = 4;

describe('listing a catalogue of 10,000 SKUs during a sale', () => {
  let redis: LocalRedis;
  let app: AppProcess | undefined;

  beforeAll(async () => {
    redis = await startRedis();
    const seed = redisClient(redis.url);
    try {
      defineScripts(seed, readScripts());
      const store = new RedisInventoryStore(seed);
      const products = Array.from({ length: SKUS }, (_, i) => ({
        sku: `listed-${String(i).padStart(5, '0')}`,
        input: { name: `Product ${i}`, price: 10, stock: 100, perUserLimit: 0 },
      }));
      await importProducts(
        store,
        [
          ...products,
          { sku: 'on-sale', input: { name: 'On sale', price: 1, stock: 10_000_000, perUserLimit: 0 } },
        ],
        64,
      );
    } finally {
      seed.disconnect();
    }
    app = await spawnApp({ REDIS_URL: redis.url, ADMIN_TOKEN: TEST_ADMIN_TOKEN });
  });
  afterAll(async () => {
    await app?.stop('SIGKILL');
    await redis.stop();
  });

  const url = (): string => {
    if (!app) throw new Error('the app did not start');
    return app.url;
  };

  const rssMiB = async (): Promise<number> => {
    const text = String((await send(url(), { method: 'GET', path: '/metrics' })).body.text);
    return Number(/^flashsale_process_resident_memory_bytes (\S+)$/m.exec(text)?.[1]) / 2 ** 20;
  };

  const storm = (): Promise<autocannon.Result> =>
    new Promise((resolve, reject) => {
      autocannon(
        {
          url: `${url()}/purchase/safe`,
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ sku: 'on-sale' }),
          connections: 20,
          duration: STORM_SECONDS,
        },
        (error: Error | null, result: autocannon.Result) => {
          if (error) reject(error);
          else resolve(result);
        },
      );
    });

  /** walks the whole catalogue, 100 at a time; returns the SKUs seen and every status */
  async function walk(stopAt: number): Promise<{ skus: string[]; statuses: number[]; pages: number }> {
    const skus: string[] = [];
    const statuses: number[] = [];
    let pages = 0;
    let cursor: string | null = null;
    do {
      const page = await send(url(), {
        method: 'GET',
        path: `/products?limit=100${cursor === null ? '' : `&cursor=${cursor}`}`,
      });
      statuses.push(page.status);
      pages += 1;
      const body = page.body as { products?: { sku: string }[]; nextCursor?: string | null };
      skus.push(...(body.products ?? []).map((p) => p.sku));
      cursor = body.nextCursor ?? null;
    } while (cursor !== null && Date.now() < stopAt);
    return { skus, statuses, pages };
  }

  it('when 20 clients page through it during a purchase storm, then every call is answered and purchases keep going', async () => {
    // the listing, alone: every SKU once, in order
    const whole = await walk(Date.now() + 60_000);
    // the 10,000, the SKU on sale and the default SKU the service seeds
    expect(whole.skus).toHaveLength(SKUS + 2);
    expect(new Set(whole.skus).size).toBe(SKUS + 2);
    expect(whole.skus).toEqual([...whole.skus].sort());
    expect(whole.statuses.every((status) => status === 200)).toBe(true);

    const rssBefore = await rssMiB();
    const alone = await storm();
    const stopAt = Date.now() + STORM_SECONDS * 1000;
    const [withListing, ...walks] = await Promise.all([
      storm(),
      ...Array.from({ length: LISTERS }, async () => {
        const pages = { skus: 0, statuses: [] as number[], pages: 0 };
        while (Date.now() < stopAt) {
          const pass = await walk(stopAt);
          pages.skus += pass.skus.length;
          pages.statuses.push(...pass.statuses);
          pages.pages += pass.pages;
        }
        return pages;
      }),
    ]);
    const rssAfter = await rssMiB();
    const listCalls = walks.reduce((sum, w) => sum + w.pages, 0);
    recordFigures('catalogue-listing-during-a-storm', {
      skus: SKUS,
      listers: LISTERS,
      stormSeconds: STORM_SECONDS,
      purchasesPerSecondAlone: round(alone.requests.average, 0),
      purchasesPerSecondWithListing: round(withListing.requests.average, 0),
      purchaseP99MsAlone: alone.latency.p99,
      purchaseP99MsWithListing: withListing.latency.p99,
      listCallsDuringTheStorm: listCalls,
      productsListedDuringTheStorm: walks.reduce((sum, w) => sum + w.skus, 0),
      rssMiBBefore: round(rssBefore),
      rssMiBAfter: round(rssAfter),
    });
    for (const result of [alone, withListing]) {
      expect(result.errors).toBe(0);
      expect(result.non2xx).toBe(0);
    }
    expect(walks.flatMap((w) => w.statuses).every((status) => status === 200)).toBe(true);
    expect(listCalls).toBeGreaterThan(LISTERS);
  });
});
