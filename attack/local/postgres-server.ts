import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess, SpawnSyncOptions } from 'node:child_process';
import { once } from 'node:events';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { userInfo } from 'node:os';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Client } from 'pg';
import { freePort } from './free-port';
import { stoppable } from './server-process';
import type { StoppableServer } from './server-process';

/**
 * A private PostgreSQL on a free port of 127.0.0.1, for the tests, the demo and the benchmark, as
 * redis-server.ts is for Redis: it never touches a server someone else runs. Its cluster is made with the
 * machine's own initdb in a temporary directory, removed when it stops.
 *
 * initdb and postgres refuse to run as root: as root, both run as the `postgres` user (Debian's package
 * creates it), and the directory is handed to that user.
 */
export interface LocalPostgres extends StoppableServer {
  readonly port: number;
  /** `postgres://postgres@127.0.0.1:<port>/postgres` */
  readonly url: string;
  readonly process: ChildProcess;
  readonly dir: string;
}

const BIN_ROOT = '/usr/lib/postgresql';

/**
 * The directory holding initdb and postgres: PG_BIN when set, else the newest version under
 * /usr/lib/postgresql (Debian and Ubuntu), else whatever is on the PATH.
 */
export function postgresBinDir(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (env.PG_BIN) return existsSync(join(env.PG_BIN, 'initdb')) ? env.PG_BIN : undefined;
  if (existsSync(BIN_ROOT)) {
    const versions = readdirSync(BIN_ROOT)
      .filter((name) => /^\d+$/.test(name) && existsSync(join(BIN_ROOT, name, 'bin', 'initdb')))
      .sort((a, b) => Number(b) - Number(a));
    if (versions[0]) return join(BIN_ROOT, versions[0], 'bin');
  }
  const onPath = spawnSync('initdb', ['--version'], { stdio: 'ignore' });
  return onPath.status === 0 ? '' : undefined;
}

/** true when a PostgreSQL server can be started here */
export function hasPostgres(): boolean {
  return postgresBinDir() !== undefined && (!isRoot() || postgresUser() !== undefined);
}

const isRoot = (): boolean => process.getuid?.() === 0;

function postgresUser(): { uid: number; gid: number } | undefined {
  const id = spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' });
  const gid = spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' });
  if (id.status !== 0 || gid.status !== 0) return undefined;
  return { uid: Number(id.stdout.trim()), gid: Number(gid.stdout.trim()) };
}

export interface StartPostgresOptions {
  readonly port?: number;
  /**
   * a cluster directory that outlives the server (to stop and start it again with its data); the
   * caller removes it. Without one, a fresh cluster is made and removed on stop.
   */
  readonly dir?: string;
  /**
   * no fsync: a test gains seconds and risks nothing (an OS crash, not a killed server, loses unsynced
   * data). The demo and the benchmark keep PostgreSQL's defaults, so their figures are honest.
   */
  readonly fast?: boolean;
  /** its own process group, so that a Ctrl-C in the terminal reaches only the demo (see redis-server.ts) */
  readonly ownProcessGroup?: boolean;
}

/** Makes a cluster in `dir` (empty or missing), owned by whoever will run the server. */
export function initCluster(dir: string): void {
  const bin = postgresBinDir();
  if (bin === undefined) throw new Error('PostgreSQL is not installed (no initdb found)');
  const runAs = asServerUser();
  if (runAs.uid !== undefined && runAs.gid !== undefined) chownSync(dir, runAs.uid, runAs.gid);
  const result = spawnSync(
    join(bin, 'initdb'),
    ['-D', dir, '-U', 'postgres', '--auth=trust', '--no-sync', '-E', 'UTF8', '--locale=C'],
    { ...runAs, encoding: 'utf8' },
  );
  if (result.status !== 0) {
    throw new Error(`initdb failed (${String(result.status)}): ${result.stderr || result.stdout}`);
  }
}

function asServerUser(): Pick<SpawnSyncOptions, 'uid' | 'gid'> {
  if (!isRoot()) return {};
  const user = postgresUser();
  if (!user) throw new Error(`${userInfo().username} may not run PostgreSQL and there is no postgres user`);
  return user;
}

export async function startPostgres(options: StartPostgresOptions = {}): Promise<LocalPostgres> {
  const bin = postgresBinDir();
  if (bin === undefined) throw new Error('PostgreSQL is not installed (no initdb found)');
  const port = options.port ?? (await freePort());
  const ownDir = options.dir === undefined;
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'flash-sale-postgres-'));
  const removeDir = (): void => {
    if (ownDir) rmSync(dir, { recursive: true, force: true });
  };
  try {
    if (!existsSync(join(dir, 'PG_VERSION'))) initCluster(dir);
  } catch (error) {
    removeDir();
    throw error;
  }
  const child = spawn(
    join(bin, 'postgres'),
    [
      '-D',
      dir,
      '-p',
      String(port),
      '-c',
      'listen_addresses=127.0.0.1',
      // the socket in the cluster's own directory, not /var/run/postgresql, which may not be ours
      '-c',
      `unix_socket_directories=${dir}`,
      '-c',
      'max_connections=200',
      ...(options.fast
        ? ['-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off']
        : []),
    ],
    { ...asServerUser(), stdio: ['ignore', 'ignore', 'pipe'], detached: options.ownProcessGroup === true },
  );
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
  });
  const exited = once(child, 'exit');
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  try {
    const early = await Promise.race([
      waitForPostgres(url).then(() => undefined),
      exited.then(([code]) => `postgres exited with code ${String(code)} before answering: ${stderr}`),
    ]);
    if (early !== undefined) throw new Error(early);
  } catch (error) {
    child.kill('SIGKILL');
    removeDir();
    throw error;
  }
  return {
    port,
    url,
    process: child,
    dir,
    // SIGINT: PostgreSQL's "fast" shutdown, open sessions rolled back and closed at once
    ...stoppable(child, exited, 'SIGINT', removeDir),
  };
}

/** Resolves once a connection to `url` answers a query, or rejects after `timeoutMs`. */
export async function waitForPostgres(url: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const client = new Client({ connectionString: url, connectionTimeoutMillis: 1000 });
    client.on('error', () => undefined);
    try {
      await client.connect();
      await client.query('SELECT 1');
      return;
    } catch (error) {
      if (Date.now() > deadline) {
        throw new Error(`PostgreSQL at ${url} did not answer in ${timeoutMs} ms: ${String(error)}`, {
          cause: error,
        });
      }
      await sleep(100);
    } finally {
      await client.end().catch(() => undefined);
    }
  }
}
