import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ts from 'typescript';
import { startRedis } from '../attack/local/redis-server';
import type { LocalRedis } from '../attack/local/redis-server';
import { auth, redisClient, startTestService, uniqueSku } from './support/fixtures';
import type { TestService } from './support/fixtures';
import { send } from './support/http-client';

/**
 * The TypeScript client example of docs/api.md, as the page shows it: type-checked strictly, compiled,
 * and run against a service, including through a Redis paused past the service's command timeout, where
 * its first try gets no answer it can trust and its retry must find the same order.
 */
const API_DOC = join(__dirname, '..', 'docs', 'api.md');

function exampleOf(name: string): string {
  const page = readFileSync(API_DOC, 'utf8');
  const block = new RegExp(
    `<!-- example: ${name.replace('.', '\\.')} -->\\s*\`\`\`ts\\n([\\s\\S]*?)\`\`\``,
  ).exec(page);
  if (!block?.[1]) throw new Error(`docs/api.md has no \`\`\`ts block marked ${name}`);
  return block[1];
}

interface Order {
  orderId: string;
  sku: string;
  quantity: number;
  remaining: number;
}
type Buy = (
  baseUrl: string,
  purchase: { sku: string; quantity?: number; userId?: string },
  tries?: number,
) => Promise<Order>;

describe('the purchase-with-retries example of docs/api.md', () => {
  const dir = mkdtempSync(join(tmpdir(), 'flash-sale-example-'));
  const source = join(dir, 'purchase-with-retries.ts');
  let redis: LocalRedis;
  let service: TestService;
  let buy: Buy;

  beforeAll(async () => {
    writeFileSync(source, exampleOf('purchase-with-retries.ts'));
    const compiled = ts.transpileModule(readFileSync(source, 'utf8'), {
      compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022 },
    });
    const file = join(dir, 'purchase-with-retries.js');
    writeFileSync(file, compiled.outputText);
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    buy = (require(file) as { buy: Buy }).buy;
    redis = await startRedis();
    service = await startTestService({ REDIS_URL: redis.url, REDIS_COMMAND_TIMEOUT_MS: '300' });
  });
  afterAll(async () => {
    await service.stop();
    await redis.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('when it is compiled under strict settings, then it type-checks', () => {
    const program = ts.createProgram([source], {
      strict: true,
      noEmit: true,
      target: ts.ScriptTarget.ES2022,
      module: ts.ModuleKind.Node16,
      moduleResolution: ts.ModuleResolutionKind.Node16,
      types: ['node'],
      typeRoots: [join(__dirname, '..', 'node_modules', '@types')],
    });
    const errors = ts
      .getPreEmitDiagnostics(program)
      .map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'));
    expect(errors).toEqual([]);
  });

  async function stocked(units: number): Promise<string> {
    const sku = uniqueSku('example');
    const put = await send(service.url, {
      method: 'PUT',
      path: `/products/${sku}`,
      body: { name: 'Example', price: 1, stock: units },
      headers: auth,
    });
    expect(put.status).toBe(201);
    return sku;
  }

  it('when the service answers, then it returns the order', async () => {
    const sku = await stocked(5);
    await expect(buy(service.url, { sku, userId: 'ann' })).resolves.toMatchObject({
      sku,
      quantity: 1,
      remaining: 4,
    });
  });

  it('when the first answer is lost (Redis paused), then its retry returns the one order made, and one unit is sold', async () => {
    const sku = await stocked(5);
    const admin = redisClient(redis.url);
    try {
      await admin.client('PAUSE', 800, 'ALL');
      const order = await buy(service.url, { sku, userId: 'ann' });
      expect(order).toMatchObject({ sku, quantity: 1, remaining: 4 });
      const stock = await send(service.url, { method: 'GET', path: `/stock?sku=${sku}` });
      expect(stock.body).toMatchObject({ current_stock: 4, sold: 1, orders: 1 });
      // it did retry: the answer it returned was the replay of its first try
      const metrics = await fetch(`${service.url}/metrics`).then((res) => res.text());
      expect(metrics).toMatch(
        /flashsale_purchases_total\{method="safe",outcome="purchase_outcome_unknown"\} 1/,
      );
      expect(metrics).toMatch(/flashsale_purchases_total\{method="safe",outcome="replayed"\} 1/);
    } finally {
      await admin.quit();
    }
  });

  it('when the purchase is refused, then it throws with the problem code and does not retry', async () => {
    const sku = await stocked(0);
    await expect(buy(service.url, { sku })).rejects.toThrow('409 sold_out');
  });
});
