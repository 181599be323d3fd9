import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readFileSync, readdirSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Redis } from 'ioredis';
import { freePort } from '../../attack/local/free-port';
import { TEST_ADMIN_TOKEN, redisClient, testRedisUrl, uniqueSku } from '../support/fixtures';
import { expectConserved, readSkuState } from '../support/invariants';
import { imageConfig, parseStages, replay } from './dockerfile';
import type { ImageConfig, ReplayedStage } from './dockerfile';
import { loadDockerignore } from './dockerignore';
import { startRedis } from '../../attack/local/redis-server';
import type { LocalRedis } from '../../attack/local/redis-server';
import { newOrderToken } from '../../app/domain/order-id';
import { RedisInventoryStore } from '../../app/redis/inventory-store';
import { defineScripts, readScripts } from '../../app/redis/scripts';
import { ordersOf, scratchDatabase, testPool } from '../support/database';
import { eventually } from '../support/pipeline';

/**
 * The image's production start path, without a Docker engine: the Dockerfile's stages are replayed in
 * temporary directories (the real `npm run build`, the real `npm ci --omit=dev`), then the final stage's
 * files are started with the image's own CMD, WORKDIR and ENV. A .lua file or a production dependency the
 * Dockerfile forgets, or a dev-only import in the service, makes this fail.
 */
const ROOT = join(__dirname, '..', '..');
const DOCKERFILE = join(ROOT, 'Dockerfile');

jest.setTimeout(300_000);

describe('Dockerfile', () => {
  const stages = parseStages(readFileSync(DOCKERFILE, 'utf8'));
  const image: ImageConfig = imageConfig(stages);

  it('when the Dockerfile is read, then it ships a slim image of a Node.js LTS line still supported (24: until April 2028), run as a non-root user', () => {
    // Node 20 reached its end of life in April 2026: no more security fixes for the image
    expect(image.base).toMatch(/^node:24[.-].*slim$/);
    expect(stages.map((stage) => stage.base)).toEqual(stages.map(() => image.base));
    expect(image.user).toBeDefined();
    expect(['root', '0']).not.toContain(image.user?.split(':')[0]);
    expect(image.env.NODE_ENV).toBe('production');
  });

  it('when .nvmrc names the Node.js line, then the image, engines, @types/node and the node running these tests are all on it', () => {
    const line = readFileSync(join(ROOT, '.nvmrc'), 'utf8').trim().split('.')[0] ?? '';
    expect(image.base).toMatch(new RegExp(`^node:${line}[.-].*slim$`));
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
      engines: { node: string };
      devDependencies: Record<string, string>;
    };
    expect(pkg.engines.node).toBe(`>=${line}`);
    expect(pkg.devDependencies['@types/node']).toMatch(new RegExp(`^\\^${line}\\.`));
    expect(process.versions.node.split('.')[0]).toBe(line);
  });

  it('when its CMD is read, then it starts node itself (exec form, not npm start), so that SIGTERM reaches the service', () => {
    expect(image.cmd[0]).toBe('node');
    expect(image.cmd).not.toContain('npm');
  });

  it('when its HEALTHCHECK is read, then it needs nothing but node, which the slim image has', () => {
    expect(image.healthcheck?.command[0]).toBe('node');
  });

  it('when any stage installs packages, then it installs from package-lock.json (npm ci)', () => {
    const installs = stages.flatMap((stage) =>
      stage.instructions.filter((i) => i.keyword === 'RUN' && /npm (ci|install|i)\b/.test(i.args)),
    );
    expect(installs.length).toBeGreaterThan(0);
    for (const install of installs) expect(install.args).toMatch(/^npm ci\b/);
  });

  it('when .dockerignore is applied, then it keeps the build context to what the build needs', () => {
    const ignore = loadDockerignore(ROOT);
    for (const path of ['node_modules/express/package.json', 'dist/app/main.js', '.git/HEAD', '.env']) {
      expect({ path, excluded: ignore.excludes(path) }).toEqual({ path, excluded: true });
    }
    for (const path of ['package-lock.json', 'app/main.ts', 'app/redis/lua/purchase-5.lua']) {
      expect({ path, excluded: ignore.excludes(path) }).toEqual({ path, excluded: false });
    }
  });
});

describe('the image, replayed without a Docker engine', () => {
  const image = imageConfig(parseStages(readFileSync(DOCKERFILE, 'utf8')));
  let workspace: string;
  let replayed: ReplayedStage[];
  let srv: string;

  beforeAll(() => {
    workspace = mkdtempSync(join(tmpdir(), 'flash-sale-image-'));
    replayed = replay({
      dockerfile: DOCKERFILE,
      context: ROOT,
      workspace,
      devNodeModules: realpathSync(join(ROOT, 'node_modules')),
    });
    const final = replayed.at(-1);
    if (!final) throw new Error('no stage replayed');
    srv = join(final.root, image.workdir);
  });
  afterAll(() => {
    rmSync(workspace, { recursive: true, force: true });
  });

  it('when the final stage is replayed, then it holds the compiled service, the worker, every Lua script and every migration beside them', () => {
    expect(existsSync(join(srv, 'dist', 'app', 'main.js'))).toBe(true);
    expect(existsSync(join(srv, 'dist', 'app', 'worker.js'))).toBe(true);
    expect(existsSync(join(srv, 'dist', 'app', 'migrate.js'))).toBe(true);
    const migrations = readdirSync(join(ROOT, 'app', 'postgres', 'migrations'));
    expect(readdirSync(join(srv, 'dist', 'app', 'postgres', 'migrations')).sort()).toEqual(migrations.sort());
    const sources = readdirSync(join(ROOT, 'app', 'redis', 'lua')).filter((f) => f.endsWith('.lua'));
    expect(sources.length).toBeGreaterThan(0);
    expect(readdirSync(join(srv, 'dist', 'app', 'redis', 'lua')).sort()).toEqual(sources.sort());
  });

  it('when the final stage is replayed, then it holds production dependencies only, and no TypeScript sources', () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
      dependencies: Record<string, string>;
    };
    for (const dependency of Object.keys(pkg.dependencies)) {
      expect({ dependency, present: existsSync(join(srv, 'node_modules', dependency)) }).toEqual({
        dependency,
        present: true,
      });
    }
    for (const devOnly of ['typescript', 'ts-node', 'jest', 'eslint', 'autocannon', 'aws-cdk-lib']) {
      expect({ devOnly, present: existsSync(join(srv, 'node_modules', devOnly)) }).toEqual({
        devOnly,
        present: false,
      });
    }
    expect(existsSync(join(srv, 'app'))).toBe(false);
    expect(existsSync(join(srv, 'dist', 'attack'))).toBe(false);
  });

  describe('started with the image CMD, WORKDIR and ENV', () => {
    let child: ChildProcess;
    let exited: Promise<number | null>;
    let output = '';
    let url: string;
    let env: Record<string, string>;
    let redis: Redis;

    /** what `docker run` gives the process: PATH, the image's ENV, and what the deployer sets */
    const containerEnv = (port: number): Record<string, string> => ({
      PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
      HOME: workspace,
      ...image.env,
      // The only value changed from the image's: 3000 may be taken on a shared machine.
      PORT: String(port),
      REDIS_URL: testRedisUrl(),
      ADMIN_TOKEN: TEST_ADMIN_TOKEN,
    });

    /** argv[0] `node` is the image's node; here, the node running the tests */
    const resolveArgv = (argv: readonly string[]): [string, string[]] => {
      const [command = '', ...args] = argv;
      return [command === 'node' ? process.execPath : command, args];
    };

    const healthcheck = (): number | null => {
      if (!image.healthcheck) throw new Error('no HEALTHCHECK');
      const [command, args] = resolveArgv(image.healthcheck.command);
      return spawnSync(command, args, { cwd: srv, env, timeout: 10_000 }).status;
    };

    beforeAll(async () => {
      redis = redisClient();
      const port = await freePort();
      env = containerEnv(port);
      url = `http://127.0.0.1:${port}`;
      const [command, args] = resolveArgv(image.cmd);
      child = spawn(command, args, { cwd: srv, env, stdio: ['ignore', 'pipe', 'pipe'] });
      exited = once(child, 'exit').then(([code]) => code as number | null);
      child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
      child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
      const deadline = Date.now() + 30_000;
      for (;;) {
        if (child.exitCode !== null) throw new Error(`the service exited with ${child.exitCode}:\n${output}`);
        const status = await fetch(`${url}/health`).then(
          (res) => res.status,
          () => 0,
        );
        if (status === 200) break;
        if (Date.now() > deadline) throw new Error(`the service never became healthy:\n${output}`);
        await sleep(200);
      }
    });
    afterAll(async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
      await redis.quit();
    });

    it('then a stocked SKU sells exactly its stock, then 409 sold_out', async () => {
      const sku = uniqueSku('image');
      const put = await fetch(`${url}/products/${sku}`, {
        method: 'PUT',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${TEST_ADMIN_TOKEN}` },
        body: JSON.stringify({ name: 'Image test', price: 1, stock: 3 }),
      });
      expect([200, 201]).toContain(put.status);

      const buy = () =>
        fetch(`${url}/purchase/safe`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ sku }),
        });
      const answers = [];
      for (let i = 0; i < 4; i++) answers.push(await buy());
      expect(answers.map((res) => res.status)).toEqual([200, 200, 200, 409]);
      expect(answers[0]?.headers.get('x-instance-id')).toBeTruthy();

      const stock = (await (await fetch(`${url}/stock?sku=${sku}`)).json()) as Record<string, unknown>;
      expect(stock).toMatchObject({ current_stock: 0, initial_stock: 3, sold: 3 });
      const state = await readSkuState(redis, sku);
      expect(state.orders).toHaveLength(3);
      expectConserved(state);
    });

    it('then the race demo endpoint is off, as production wants', async () => {
      const res = await fetch(`${url}/purchase/unsafe`, { method: 'POST' });
      expect(res.status).toBe(404);
    });

    it('then the HEALTHCHECK command passes while it runs, and SIGTERM stops it cleanly, after which the check fails', async () => {
      expect(healthcheck()).toBe(0);
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
      expect(output).toContain('stopped');
      expect(healthcheck()).not.toBe(0);
    });
  });

  describe('the same image with another command: the migrations, then the order worker', () => {
    let database: { url: string; drop: () => Promise<void> };
    let privateRedis: LocalRedis;
    let worker: ChildProcess | undefined;
    let output = '';

    beforeAll(async () => {
      database = await scratchDatabase();
      privateRedis = await startRedis();
    });
    afterAll(async () => {
      if (worker && worker.exitCode === null && worker.signalCode === null) worker.kill('SIGKILL');
      await privateRedis.stop();
      await database.drop();
    });

    const run = (argv: string[], env: Record<string, string>) => {
      const [command = '', ...args] = argv;
      return {
        command: command === 'node' ? process.execPath : command,
        args,
        env: { PATH: process.env.PATH ?? '', HOME: workspace, ...image.env, ...env },
      };
    };

    it('then `node dist/app/migrate.js` applies the migrations the image ships, and again applies nothing', () => {
      const migrateOnce = () => {
        const { command, args, env } = run(['node', 'dist/app/migrate.js'], { DATABASE_URL: database.url });
        return spawnSync(command, args, { cwd: srv, env, encoding: 'utf8', timeout: 30_000 });
      };
      const first = migrateOnce();
      expect({ status: first.status, stdout: first.stdout, stderr: first.stderr }).toEqual({
        status: 0,
        stdout: 'migrate: applied 0001_create_orders.sql\n',
        stderr: '',
      });
      expect(migrateOnce().stdout).toBe('migrate: up to date\n');
    });

    it('then `node dist/app/worker.js` exports orders, and the image HEALTHCHECK passes against it', async () => {
      const port = await freePort();
      const sku = uniqueSku('image-worker');
      const seed = redisClient(privateRedis.url);
      try {
        const scripts = readScripts();
        defineScripts(seed, scripts);
        const store = new RedisInventoryStore(seed);
        await store.putProduct(sku, { name: 'Image worker', price: 1, stock: 5, perUserLimit: 0 }, false);
        for (let i = 0; i < 3; i += 1) await store.purchase(sku, 1, '', '', 'safe', newOrderToken());
      } finally {
        await seed.quit();
      }
      const { command, args, env } = run(['node', 'dist/app/worker.js'], {
        PORT: String(port),
        REDIS_URL: privateRedis.url,
        DATABASE_URL: database.url,
        WORKER_IDLE_WAIT_MS: '50',
      });
      worker = spawn(command, args, { cwd: srv, env, stdio: ['ignore', 'pipe', 'pipe'] });
      const exited = once(worker, 'exit').then(([code]) => code as number | null);
      worker.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
      worker.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
      const pool = testPool(database.url);
      try {
        await eventually(
          async () => (await ordersOf(pool, sku)).length === 3,
          30_000,
          `the orders exported:\n${output}`,
        );
      } finally {
        await pool.end();
      }
      if (!image.healthcheck) throw new Error('no HEALTHCHECK');
      const [check = '', ...checkArgs] = image.healthcheck.command;
      const probe = run([check, ...checkArgs], { PORT: String(port) });
      expect(spawnSync(probe.command, probe.args, { cwd: srv, env: probe.env, timeout: 10_000 }).status).toBe(
        0,
      );
      worker.kill('SIGTERM');
      expect(await exited).toBe(0);
      expect(output).toContain('order worker stopped');
    });
  });
});
