import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parse, stringify } from 'yaml';
import { loadConfig } from '../../app/config';
import { loadWorkerConfig } from '../../app/pipeline/worker-config';
import { startRedis } from '../../attack/local/redis-server';
import type { LocalRedis } from '../../attack/local/redis-server';
import { startTestService } from '../support/fixtures';
import type { TestService } from '../support/fixtures';
import { imageConfig, parseStages } from './dockerfile';
import { haproxyBinary } from './haproxy';

/**
 * docker-compose.yml, without a Docker engine: validated against the Compose Specification's JSON schema
 * by dclint (docker-compose-linter), then read for what the demo depends on, cross-checked against the
 * Dockerfile and the haproxy.cfg that test/docker/load-balancer.test.ts runs.
 */
const ROOT = join(__dirname, '..', '..');
const COMPOSE = join(ROOT, 'docker-compose.yml');
const DCLINT = join(dirname(require.resolve('dclint/package.json')), 'bin', 'dclint.cjs');
// Style only: the file lists services in start-up order (redis, app, lb, attack), not alphabetically.
const DCLINT_ARGS = ['--max-warnings', '0', '--disable-rule', 'services-alphabetical-order', '-f', 'json'];

interface LintReport {
  errorCount: number;
  warningCount: number;
  messages: { rule: string; message: string }[];
}

function dclint(file: string): { status: number | null; reports: LintReport[]; output: string } {
  const result = spawnSync(process.execPath, [DCLINT, file, ...DCLINT_ARGS], { encoding: 'utf8' });
  const json = result.stdout.slice(result.stdout.indexOf('['));
  return {
    status: result.status,
    reports: json ? (JSON.parse(json) as LintReport[]) : [],
    output: result.stdout + result.stderr,
  };
}

/** Compose's `${NAME:-default}` / `${NAME-default}`, with nothing set in the environment */
function interpolate(value: string): string {
  return value.replace(
    /\$\{[A-Za-z_][A-Za-z0-9_]*(?::?-([^}]*))?\}/g,
    (_, fallback?: string) => fallback ?? '',
  );
}

/** `20s`, `1m30s`, `500ms` → milliseconds */
function durationMs(value: string): number {
  const units: Record<string, number> = { h: 3_600_000, m: 60_000, s: 1000, ms: 1, us: 0.001 };
  let total = 0;
  const rest = value.replace(/(\d+(?:\.\d+)?)(h|ms|m|s|us)/g, (_, amount: string, unit: string) => {
    total += Number(amount) * (units[unit] ?? Number.NaN);
    return '';
  });
  if (rest !== '') throw new Error(`not a duration: ${value}`);
  return total;
}

interface Service {
  image?: string;
  build?: string | { context: string; target?: string };
  command?: string[];
  environment?: Record<string, string | number | boolean | null>;
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: { test: string[] };
  volumes?: string[];
  ports?: string[];
  profiles?: string[];
  stop_grace_period?: string;
  hostname?: string;
}

const text = readFileSync(COMPOSE, 'utf8');
const compose = parse(text, { merge: true }) as { services: Record<string, Service> };
const service = (name: string): Service => {
  const found = compose.services[name];
  if (!found) throw new Error(`docker-compose.yml has no service ${name}`);
  return found;
};
const APPS = ['app1', 'app2', 'app3'];

describe('docker-compose.yml against the Compose Specification', () => {
  it('when dclint checks it, then it validates, with no warning from the linter either', () => {
    const { status, reports, output } = dclint(COMPOSE);
    expect(reports.flatMap((r) => r.messages)).toEqual([]);
    expect({ status, output }).toMatchObject({ status: 0 });
  });

  it('when a file breaks the specification, then dclint rejects it, so the validation above means something', () => {
    const broken = parse(text, { merge: true }) as { services: Record<string, Record<string, unknown>> };
    const lb = broken.services.lb ?? {};
    lb.depends_on = { app1: { condition: 'healthy' } }; // not one of the spec's conditions
    const dir = mkdtempSync(join(tmpdir(), 'flash-sale-compose-'));
    try {
      const file = join(dir, 'docker-compose.yml');
      writeFileSync(file, stringify(broken));
      const { status, reports } = dclint(file);
      expect(status).not.toBe(0);
      expect(reports.flatMap((r) => r.messages.map((m) => m.rule))).toContain('invalid-schema');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('docker-compose.yml, read for the demo', () => {
  const image = imageConfig(parseStages(readFileSync(join(ROOT, 'Dockerfile'), 'utf8')));
  const haproxyCfg = readFileSync(join(ROOT, 'deploy', 'haproxy', 'haproxy.cfg'), 'utf8');

  it('when its redis service is read, then it runs Redis 7 that never evicts stock, with its own health check', () => {
    const redis = service('redis');
    expect(redis.image).toMatch(/^redis:7(\.|-|$)/);
    expect(redis.command?.join(' ')).toContain('--maxmemory-policy noeviction');
    expect(redis.healthcheck?.test).toEqual(['CMD', 'redis-cli', 'ping']);
  });

  it.each(APPS)(
    'when %s is read with the image ENV, then it runs from the Dockerfile, after Redis is healthy, with a valid production configuration',
    (name) => {
      const app = service(name);
      expect(app.build).toBe('.');
      expect(app.depends_on?.redis).toEqual({ condition: 'service_healthy' });
      const env = Object.fromEntries(
        Object.entries({ ...image.env, ...app.environment }).map(([k, v]) => [
          k,
          interpolate(String(v ?? '')),
        ]),
      );
      const config = loadConfig(env);
      expect(config.env).toBe('production');
      expect(config.redis.url).toBe('redis://redis:6379');
      // Docker's SIGKILL must not come before the drain and the in-flight requests are done
      expect(durationMs(app.stop_grace_period ?? '10s')).toBeGreaterThan(
        config.shutdownDrainMs + config.shutdownTimeoutMs,
      );
    },
  );

  describe('each instance health check', () => {
    let redis: LocalRedis;
    let svc: TestService;
    beforeAll(async () => {
      redis = await startRedis();
      svc = await startTestService({ REDIS_URL: redis.url });
    });
    afterAll(async () => {
      await svc.stop();
      await redis.stop();
    });

    /**
     * the check as Docker runs it: exec form, inside the container, where PORT is the service's. Spawned
     * asynchronously: the service answers from this very process.
     */
    const check = async (name: string): Promise<number | null> => {
      const [form, command, ...args] = service(name).healthcheck?.test ?? [];
      expect(form).toBe('CMD');
      expect(command).toBe('node');
      const child = spawn(process.execPath, args, {
        env: { PATH: process.env.PATH, PORT: String(svc.service.port) },
        stdio: 'ignore',
        timeout: 10_000,
      });
      const [code] = (await once(child, 'exit')) as [number | null];
      return code;
    };

    it.each(APPS)(
      'when %s can sell, then its check passes; when its Redis is gone, then it fails (the balancer and `up --wait` wait for /health, not /health/live)',
      async (name) => {
        expect(await check(name)).toBe(0);
        await redis.stop();
        try {
          expect(await check(name)).toBe(1);
        } finally {
          redis = await startRedis({ port: redis.port });
          for (let attempt = 0; attempt < 100 && (await check(name)) !== 0; attempt += 1) await sleep(100);
        }
        expect(await check(name)).toBe(0);
      },
    );
  });

  it('when the lb service and haproxy.cfg are read, then they put the balancer in front of exactly those services, on the port the image listens on', () => {
    const servers = [...haproxyCfg.matchAll(/^\s*server\s+(\S+)\s+"\$\{APP\d_ADDR-([^:}]+):(\d+)\}"/gm)].map(
      (m) => ({ host: m[2], port: m[3] }),
    );
    expect(servers).toEqual(APPS.map((host) => ({ host, port: image.env.PORT })));
    const lb = service('lb');
    expect(Object.keys(lb.depends_on ?? {}).sort()).toEqual(APPS);
    expect(lb.volumes).toContain('./deploy/haproxy/haproxy.cfg:/usr/local/etc/haproxy/haproxy.cfg:ro');
    const bind = /^\s*bind\s+"\$\{LB_BIND-:(\d+)\}"/m.exec(haproxyCfg)?.[1];
    expect(lb.ports).toEqual([`127.0.0.1:8080:${String(bind)}`]);
  });

  it('when the lb service is read, then it uses the HAProxy version the load-balancer test runs', () => {
    const local = spawnSync(haproxyBinary(), ['-v'], { encoding: 'utf8' });
    const version = /version (\d+\.\d+)/.exec(local.stdout)?.[1];
    expect(version).toBeDefined();
    expect(service('lb').image).toBe(`haproxy:${String(version)}`);
  });

  it('when the postgres, migrate and worker services are read, then it runs PostgreSQL 15 with a volume and a readiness check, the migrations once it is ready, and the worker once they are done', () => {
    const postgres = service('postgres');
    expect(postgres.image).toMatch(/^postgres:15(\.|-|$)/);
    expect(postgres.volumes).toContain('postgres-data:/var/lib/postgresql/data');
    expect(postgres.healthcheck?.test.slice(0, 2)).toEqual(['CMD', 'pg_isready']);
    const migrate = service('migrate');
    expect(migrate.build).toBe('.');
    expect(migrate.command).toEqual(['node', 'dist/app/migrate.js']);
    expect(migrate.depends_on?.postgres).toEqual({ condition: 'service_healthy' });
    const worker = service('worker');
    expect(worker.build).toBe('.');
    expect(worker.command).toEqual(['node', 'dist/app/worker.js']);
    expect(worker.depends_on).toEqual({
      migrate: { condition: 'service_completed_successfully' },
      redis: { condition: 'service_healthy' },
    });
  });

  it("when each service's DATABASE_URL is read, then it gives the worker, the migrations and every instance the same PostgreSQL, whose user and password are the server's, in a configuration each accepts", () => {
    const env = (name: string): Record<string, string> =>
      Object.fromEntries(
        Object.entries({ ...image.env, ...service(name).environment }).map(([k, v]) => [
          k,
          interpolate(String(v ?? '')),
        ]),
      );
    const url = new URL(env('worker').DATABASE_URL ?? '');
    const server = env('postgres');
    expect({ user: url.username, password: url.password, db: url.pathname, host: url.hostname }).toEqual({
      user: server.POSTGRES_USER,
      password: server.POSTGRES_PASSWORD,
      db: `/${server.POSTGRES_DB ?? ''}`,
      host: 'postgres',
    });
    const worker = loadWorkerConfig(env('worker'));
    expect(worker.redis.url).toBe('redis://redis:6379');
    expect(durationMs(service('worker').stop_grace_period ?? '10s')).toBeGreaterThan(
      worker.shutdownTimeoutMs,
    );
    for (const name of ['migrate', 'verify', ...APPS]) {
      expect({ name, url: env(name).DATABASE_URL }).toEqual({ name, url: url.toString() });
    }
    for (const name of APPS) expect(loadConfig(env(name)).database?.url).toBe(url.toString());
  });

  it('when the attack service is read, then it runs the attack once, on demand, through the balancer', () => {
    const attack = service('attack');
    expect(attack.profiles).toEqual(['demo']);
    const command = (attack.command ?? []).map(interpolate);
    expect(command.slice(0, 3)).toEqual(['npm', 'run', 'attack']);
    expect(command[command.indexOf('--target') + 1]).toBe('http://lb:8080');
    expect(command[command.indexOf('--mode') + 1]).toBe('both');
    // the token it stocks the SKU with is the one the instances check
    expect(command[command.indexOf('--admin-token') + 1]).toBe(
      interpolate(String(service('app1').environment?.ADMIN_TOKEN ?? '')),
    );
    const stages = parseStages(readFileSync(join(ROOT, 'Dockerfile'), 'utf8')).map((s) => s.name);
    const build = attack.build;
    expect(typeof build === 'object' ? stages : []).toContain(
      typeof build === 'object' ? build.target : undefined,
    );
  });
});
