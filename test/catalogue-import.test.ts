import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { parse } from 'csv-parse/sync';
import { EXIT, main } from '../app/catalogue-import';
import { importProducts } from '../app/domain/import-products';
import type { ProductToImport } from '../app/domain/import-products';
import { newOrderToken } from '../app/domain/order-id';
import type { ProductInput } from '../app/domain/types';
import { importHelp } from '../app/import/import-options';
import { OLIST_COLUMNS, formatProblem, readCatalogue } from '../app/import/read-catalogue';
import { catalogueKey, skuKeys } from '../app/redis/keys';
import { RedisInventoryStore } from '../app/redis/inventory-store';
import { defineScripts, readScripts } from '../app/redis/scripts';
import { freePort } from '../attack/local/free-port';
import { redisClient, testRedisUrl } from './support/fixtures';

const ROOT = join(__dirname, '..');
const SAMPLE = join(ROOT, 'samples', 'olist-products-sample.csv');
const HEADER = [...OLIST_COLUMNS, 'name', 'price', 'stock', 'per_user_limit'].join(',');

/** a random Olist-style product id: 32 hex characters, so that no two tests share a SKU */
const productId = (): string => randomBytes(16).toString('hex');

interface Row {
  readonly id: string;
  readonly category?: string;
  readonly name?: string;
  readonly price?: string;
  readonly stock?: string;
  readonly limit?: string;
}

/** one line in HEADER's layout, the Olist measurements filled in as the real file has them */
const olistRow = ({
  id,
  category = 'perfumaria',
  name = '',
  price = '',
  stock = '',
  limit = '',
}: Row): string =>
  [id, category, '40', '300', '1', '500', '20', '10', '15', name, price, stock, limit].join(',');

interface Run {
  readonly code: number;
  readonly out: string;
  readonly err: string;
}

describe('catalogue import', () => {
  let dir: string;
  let redis: Redis;
  let store: RedisInventoryStore;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'catalogue-import-'));
    redis = redisClient();
    defineScripts(redis, readScripts());
    store = new RedisInventoryStore(redis);
  });
  afterAll(async () => {
    await redis.quit();
    rmSync(dir, { recursive: true, force: true });
  });

  let files = 0;
  const csvFile = (lines: readonly string[], newline = '\n'): string => {
    files += 1;
    const path = join(dir, `catalogue-${files}.csv`);
    writeFileSync(path, `${lines.join(newline)}${newline}`);
    return path;
  };

  const run = async (args: readonly string[], env: NodeJS.ProcessEnv = { REDIS_URL: testRedisUrl() }) => {
    let out = '';
    let err = '';
    const code = await main(
      args,
      env,
      { write: (text: string) => (out += text) },
      { write: (text: string) => (err += text) },
    );
    return { code, out, err } satisfies Run;
  };

  /** true when Redis holds nothing at all of this SKU: no stock, no product, not in the catalogue */
  const absent = async (sku: string): Promise<boolean> => {
    const k = skuKeys(sku);
    const [keys, listed] = await Promise.all([
      redis.exists(k.stock, k.product),
      redis.zscore(catalogueKey, sku),
    ]);
    return keys === 0 && listed === null;
  };

  describe('the sample', () => {
    it('when the sample is imported with --stock 7, then every product reads back with its name, price, stock and limit', async () => {
      const result = await run(['--stock', '7', SAMPLE]);

      expect(result).toMatchObject({ code: EXIT.ok, err: '' });
      // created or updated: a REDIS_URL shared between runs may hold the sample already
      expect(result.out).toMatch(/^imported 30 products: \d+ created, \d+ updated\n$/);
      const rows = parse<Record<string, string>>(readFileSync(SAMPLE), { columns: true });
      expect(rows).toHaveLength(30);
      const names: string[] = [];
      for (const row of rows) {
        const id = row.product_id ?? '';
        const product = await store.getProduct(id);
        const stock = row.stock ? Number(row.stock) : 7;
        expect(product).toMatchObject({
          price: Number(row.price),
          stock,
          initialStock: stock,
          perUserLimit: Number(row.per_user_limit || '0'),
        });
        if (row.name) expect(product?.name).toBe(row.name);
        names.push(product?.name ?? '');
      }
      // names the file leaves empty are made from the category and the id
      expect(names).toEqual(
        expect.arrayContaining([
          'informatica acessorios c79d825e',
          'product 6d7b5eb3',
          'Caneca "Bom Dia", 350 ml',
        ]),
      );
      expect(await store.listSkus(undefined, 100_000)).toEqual(
        expect.arrayContaining(rows.map((row) => row.product_id)),
      );
    });

    it('when the sample generator runs, then it writes exactly the committed sample', () => {
      const output = join(dir, 'generated-sample.csv');
      const generator = spawnSync(
        process.execPath,
        [join(ROOT, 'scripts', 'generate-catalogue-sample.js'), output],
        {
          encoding: 'utf8',
          timeout: 30_000,
        },
      );
      expect(generator.status).toBe(0);
      expect(readFileSync(output)).toEqual(readFileSync(SAMPLE));
    });
  });

  describe('a file with problems', () => {
    it('when rows are bad, then each problem is reported with its line and nothing is imported', async () => {
      const good = productId();
      const badPrice = productId();
      const negativeStock = productId();
      const tooMuch = productId();
      const longName = productId();
      const alsoGood = productId();
      const file = csvFile([
        HEADER,
        olistRow({ id: good, name: 'Perfume', price: '99.90', stock: '10' }),
        olistRow({ id: badPrice, price: '"12,50"', stock: '10' }),
        olistRow({ id: negativeStock, price: '5', stock: '-5' }),
        olistRow({ id: 'not an id!', price: '5', stock: '1' }),
        olistRow({ id: good, price: '5', stock: '1' }),
        olistRow({ id: tooMuch, price: '5', stock: '1000000001' }),
        olistRow({ id: longName, name: 'x'.repeat(201), price: '5', stock: '1' }),
        olistRow({ id: alsoGood, price: '5', stock: '1' }),
      ]);

      const result = await run([file]);

      expect(result.code).toBe(EXIT.badFile);
      expect(result.out).toBe('');
      expect(result.err.split('\n')).toEqual([
        'line 3: price: must be written in digits, with a point for decimals, such as 12 or 12.50 (got "12,50")',
        'line 4: stock: must be a whole number, written in digits (got "-5")',
        'line 5: product_id: must be 1-64 characters of A-Z a-z 0-9 . _ - (got "not an id!")',
        `line 6: product_id: ${good} is already on line 2`,
        'line 7: stock: Too big: expected number to be <=1000000000',
        'line 8: name: Too big: expected string to have <=200 characters',
        `catalogue-import: 6 problems in ${file}; nothing imported`,
        '',
      ]);
      for (const sku of [good, badPrice, negativeStock, tooMuch, longName, alsoGood]) {
        expect(await absent(sku)).toBe(true);
      }
    });

    it('when the header lacks a required column or has an unknown one, then line 1 names them and nothing is imported', async () => {
      const id = productId();
      const file = csvFile(['product_id,name,price,stock,per_user_limt', `${id},Perfume,10,5,1`]);

      const result = await run([file]);

      expect(result.code).toBe(EXIT.badFile);
      expect(result.err.split('\n')).toEqual([
        'line 1: "per_user_limt": unknown column (expected the Olist products columns and name, price, stock, per_user_limit)',
        'line 1: product_category_name: missing from the header',
        `catalogue-import: 2 problems in ${file}; nothing imported`,
        '',
      ]);
      expect(await absent(id)).toBe(true);
    });

    it('when the file is empty, then line 1 says so and the exit status is 1', async () => {
      const file = join(dir, 'empty.csv');
      writeFileSync(file, '');

      const result = await run([file]);

      expect(result.code).toBe(EXIT.badFile);
      expect(result.err).toMatch(
        /^line 1: the file is empty: expected a header line product_id,product_category_name/,
      );
    });

    it('when a row spans two lines and the file ends lines with CRLF, then a problem names the line its row starts on', () => {
      const content = Buffer.from(
        [
          HEADER,
          olistRow({ id: productId(), name: '"Kit\r\nPresente"', price: '1', stock: '1' }),
          olistRow({ id: productId(), price: 'R$1', stock: '1' }),
          '',
          olistRow({ id: productId(), price: '1', stock: 'ten' }),
          '',
        ].join('\r\n'),
      );

      const { problems, products } = readCatalogue(content, {
        stock: undefined,
        price: undefined,
        perUserLimit: 0,
      });

      expect(problems.map(formatProblem)).toEqual([
        'line 4: price: must be written in digits, with a point for decimals, such as 12 or 12.50 (got "R$1")',
        'line 6: stock: must be a whole number, written in digits (got "ten")',
      ]);
      expect(products.map((product) => product.input.name)).toEqual(['Kit\r\nPresente']);
    });
  });

  describe('defaults and updates', () => {
    it('when a stock cell is empty, then the row is refused without --stock and takes --stock with it', async () => {
      const [empty, given] = [productId(), productId()];
      const file = csvFile([
        HEADER,
        olistRow({ id: empty, price: '10', stock: '' }),
        olistRow({ id: given, price: '10', stock: '3' }),
      ]);

      const refused = await run([file]);
      expect(refused.code).toBe(EXIT.badFile);
      expect(refused.err).toMatch(/^line 2: stock: is empty and no --stock was given\n/);
      expect(await absent(empty)).toBe(true);
      expect(await absent(given)).toBe(true);

      const imported = await run(['--stock', '40', file]);
      expect(imported).toEqual({
        code: EXIT.ok,
        out: 'imported 2 products: 2 created, 0 updated\n',
        err: '',
      });
      expect(await store.getProduct(empty)).toMatchObject({
        stock: 40,
        name: `perfumaria ${empty.slice(0, 8)}`,
      });
      expect(await store.getProduct(given)).toMatchObject({ stock: 3 });
    });

    it('when a file has no price column, then --price prices every row and --per-user-limit limits every empty cell', async () => {
      const id = productId();
      const file = csvFile([OLIST_COLUMNS.join(','), `${id},,10,100,1,200,10,10,10`]);

      expect((await run(['--stock', '5', file])).err).toMatch(/^line 1: price: missing from the header/);
      const result = await run(['--stock', '5', '--price', '19.90', '--per-user-limit', '2', file]);

      expect(result).toEqual({ code: EXIT.ok, out: 'imported 1 product: 1 created, 0 updated\n', err: '' });
      expect(await store.getProduct(id)).toMatchObject({
        name: `product ${id.slice(0, 8)}`,
        price: 19.9,
        stock: 5,
        perUserLimit: 2,
      });
    });

    it('when the same products are imported again, then they are updated and the units already sold stay sold', async () => {
      const [sold, untouched] = [productId(), productId()];
      const first = csvFile([
        HEADER,
        olistRow({ id: sold, name: 'Perfume', price: '5.00', stock: '10' }),
        olistRow({ id: untouched, price: '5.00', stock: '10' }),
      ]);
      expect((await run([first])).out).toBe('imported 2 products: 2 created, 0 updated\n');
      expect(await store.purchase(sold, 3, '', '', 'safe', newOrderToken())).toMatchObject({
        kind: 'purchased',
        remaining: 7,
      });

      const second = csvFile([
        HEADER,
        olistRow({ id: sold, name: 'Perfume 100 ml', price: '6.50', stock: '20' }),
        olistRow({ id: untouched, price: '6.50', stock: '20' }),
      ]);
      const result = await run([second]);

      expect(result).toEqual({ code: EXIT.ok, out: 'imported 2 products: 0 created, 2 updated\n', err: '' });
      expect(await store.getProduct(sold)).toMatchObject({
        name: 'Perfume 100 ml',
        price: 6.5,
        stock: 20,
        sold: 3,
        orders: 1,
        initialStock: 23,
      });
      expect(await store.getProduct(untouched)).toMatchObject({ stock: 20, sold: 0, initialStock: 20 });
    });

    it('when --dry-run is given, then the file is checked, no Redis setting is read and nothing is written', async () => {
      const id = productId();
      const file = csvFile([HEADER, olistRow({ id, price: '1', stock: '1' })]);

      // a REDIS_URL the service would refuse: a dry run does not read it
      const result = await run(['--dry-run', file], { REDIS_URL: 'http://not-redis' });

      expect(result).toEqual({
        code: EXIT.ok,
        out: `dry run: 1 product in ${file}, all valid; nothing written\n`,
        err: '',
      });
      expect(await absent(id)).toBe(true);
    });
  });

  describe('writing', () => {
    it('when many products are imported, then no more than 64 writes are in flight at once', async () => {
      let inFlight = 0;
      let most = 0;
      const counting = {
        putProduct: async (sku: string, input: ProductInput, onlyIfMissing: boolean) => {
          inFlight += 1;
          most = Math.max(most, inFlight);
          try {
            return await store.putProduct(sku, input, onlyIfMissing);
          } finally {
            inFlight -= 1;
          }
        },
      };
      const products: ProductToImport[] = Array.from({ length: 500 }, () => ({
        sku: productId(),
        input: { name: 'bulk', price: 1, stock: 1, perUserLimit: 0 },
      }));

      expect(await importProducts(counting, products, 64)).toEqual({ created: 500, updated: 0 });
      expect(most).toBe(64);
    });

    it('when Redis refuses a write part-way, then it stops, says how many were written and exits 2', async () => {
      const [before, corrupt, after] = [productId(), productId(), productId()];
      await store.putProduct(corrupt, { name: 'x', price: 1, stock: 1, perUserLimit: 0 }, false);
      // a hand-edited counter: put-product-2.lua refuses it with an error reply
      await redis.hset(skuKeys(corrupt).product, 'sold', 'many');
      const file = csvFile([
        HEADER,
        ...[before, corrupt, after].map((id) => olistRow({ id, price: '1', stock: '9' })),
      ]);

      const result = await run([file]);

      expect(result.code).toBe(EXIT.cannotRun);
      expect(result.out).toBe('');
      expect(result.err).toMatch(
        /^catalogue-import: stopped after writing 2 of 3 products \(.*corrupt sold counter.*\); those stay written/,
      );
      expect(result.err.split('\n')).toHaveLength(2);
    });
  });

  describe('the command line', () => {
    it.each([
      { name: 'no file', args: [], says: 'which file? Give the CSV file to import' },
      { name: 'two files', args: ['a.csv', 'b.csv'], says: 'one file at a time (also given: b.csv)' },
      { name: 'a stock in words', args: ['--stock', 'ten', 'a.csv'], says: '--stock must be a whole number' },
      {
        name: 'a stock in exponent form',
        args: ['--stock', '1e3', 'a.csv'],
        says: '--stock must be a whole number',
      },
      { name: 'a negative stock', args: ['--stock=-1', 'a.csv'], says: '--stock must be a whole number' },
      {
        name: 'a price with a comma',
        args: ['--price', '12,5', 'a.csv'],
        says: '--price must be written in digits',
      },
      {
        name: 'a limit over the maximum',
        args: ['--per-user-limit', '1000000001', 'a.csv'],
        says: '--per-user-limit: Too big',
      },
      { name: 'an unknown option', args: ['--stok', '5', 'a.csv'], says: "Unknown option '--stok'" },
    ])(
      'when the command line has $name, then it exits 2 with one line that says so',
      async ({ args, says }) => {
        const result = await run(args);

        expect(result.code).toBe(EXIT.cannotRun);
        expect(result.err).toContain(says);
        expect(result.err).toMatch(/^catalogue-import: [^\n]+ \(see --help\)\n$/);
      },
    );

    it('when --help is given, then every option and the restock rule are described and it exits 0', async () => {
      const result = await run(['--help']);

      expect(result).toEqual({ code: EXIT.ok, out: importHelp(), err: '' });
      for (const option of ['--stock N', '--price P', '--per-user-limit N', '--dry-run', '-h, --help']) {
        expect(result.out).toContain(option);
      }
      expect(result.out).toContain('units already sold stay');
    });

    it('when a Redis variable is bad, then it exits 2 naming the variable', async () => {
      const file = csvFile([HEADER, olistRow({ id: productId(), price: '1', stock: '1' })]);

      const result = await run([file], { REDIS_URL: testRedisUrl(), REDIS_COMMAND_TIMEOUT_MS: '0x10' });

      expect(result).toEqual({
        code: EXIT.cannotRun,
        out: '',
        err: 'catalogue-import: invalid configuration: REDIS_COMMAND_TIMEOUT_MS: must be a whole number, written in digits\n',
      });
    });
  });

  describe('as a process', () => {
    const children: ChildProcess[] = [];
    afterEach(() => {
      // on every path, a failed expectation included: no import outlives its test
      for (const child of children.splice(0)) {
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      }
    });

    const runProcess = (args: readonly string[], redisUrl: string): Promise<Run> => {
      const child = spawn(
        process.execPath,
        ['-r', 'ts-node/register/transpile-only', join(ROOT, 'app', 'catalogue-import.ts'), ...args],
        { cwd: ROOT, env: { ...process.env, REDIS_URL: redisUrl }, stdio: ['ignore', 'pipe', 'pipe'] },
      );
      children.push(child);
      let out = '';
      let err = '';
      child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
      return new Promise((resolve, reject) => {
        child.once('error', reject);
        child.once('close', (code) => {
          resolve({ code: code ?? -1, out, err });
        });
      });
    };

    it('when run as a command, then it exits 0 imported, 1 bad file or 2 could not run, and says which', async () => {
      const [id, other] = [productId(), productId()];
      const good = csvFile([
        HEADER,
        olistRow({ id, price: '10', stock: '5' }),
        olistRow({ id: other, price: '10', stock: '5' }),
      ]);
      const badId = productId();
      const bad = csvFile([HEADER, olistRow({ id: badId, price: 'free', stock: '5' })]);
      const nobody = await freePort();

      const [imported, refused, unreachable, missing] = await Promise.all([
        runProcess([good], testRedisUrl()),
        runProcess([bad], testRedisUrl()),
        runProcess([good], `redis://127.0.0.1:${nobody}`),
        runProcess([join(dir, 'no-such-file.csv')], testRedisUrl()),
      ]);

      expect(imported).toEqual({ code: 0, out: 'imported 2 products: 2 created, 0 updated\n', err: '' });
      expect(await store.getProduct(id)).toMatchObject({ stock: 5, price: 10 });

      expect(refused.code).toBe(1);
      expect(refused.out).toBe('');
      expect(refused.err).toBe(
        'line 2: price: must be written in digits, with a point for decimals, such as 12 or 12.50 (got "free")\n' +
          `catalogue-import: 1 problem in ${bad}; nothing imported\n`,
      );
      expect(await absent(badId)).toBe(true);

      expect(unreachable).toEqual({
        code: 2,
        out: '',
        err: `catalogue-import: cannot reach Redis (connect ECONNREFUSED 127.0.0.1:${nobody}); nothing imported\n`,
      });

      expect(missing.code).toBe(2);
      expect(missing.err).toMatch(/^catalogue-import: cannot read .*no-such-file\.csv: ENOENT[^\n]*\n$/);
    });
  });
});
