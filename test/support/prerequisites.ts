import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { postgresBinDir } from '../../attack/local/postgres-server';

/**
 * The programs `npm test` runs, each with how it is found (the same overrides the helpers that start it
 * read) and the package that installs it. The global setup checks them first, so that a machine that
 * lacks one fails at once with one line naming what to install, not deep inside a suite.
 */
interface Prerequisite {
  readonly program: string;
  readonly apt: string;
  readonly brew: string;
  readonly present: (env: NodeJS.ProcessEnv) => boolean;
}

/** `name` as an executable file: the override when set, else on the PATH or in `extraDirs` */
function findable(
  name: string,
  override: string | undefined,
  env: NodeJS.ProcessEnv,
  extraDirs: string[] = [],
): boolean {
  if (override) return existsSync(override);
  const dirs = [...(env.PATH ?? '').split(delimiter).filter(Boolean), ...extraDirs];
  return dirs.some((dir) => existsSync(join(dir, name)));
}

const runs = (binary: string, env: NodeJS.ProcessEnv): boolean =>
  spawnSync(binary, ['--version'], { stdio: 'ignore', env }).status === 0;

export const PREREQUISITES: readonly Prerequisite[] = [
  {
    program: 'redis-server',
    apt: 'redis-server',
    brew: 'redis',
    // Sentinel is redis-server --sentinel: the same binary
    present: (env) => runs(env.REDIS_SERVER_BIN ?? 'redis-server', env),
  },
  {
    program: 'redis-cli',
    apt: 'redis-tools',
    brew: 'redis',
    present: (env) => findable('redis-cli', env.REDIS_CLI_BIN, env),
  },
  {
    program: 'haproxy',
    apt: 'haproxy',
    brew: 'haproxy',
    // Debian installs it in /usr/sbin, which a non-root PATH may lack
    present: (env) => findable('haproxy', env.HAPROXY_BIN, env, ['/usr/sbin', '/usr/local/sbin']),
  },
  { program: 'jq', apt: 'jq', brew: 'jq', present: (env) => findable('jq', undefined, env) },
  // infra-cdk/test/boot-script.test.ts lints the instances' boot script with it
  {
    program: 'shellcheck',
    apt: 'shellcheck',
    brew: 'shellcheck',
    present: (env) => findable('shellcheck', undefined, env),
  },
  {
    program: 'PostgreSQL (initdb, postgres)',
    apt: 'postgresql',
    brew: 'postgresql@16',
    present: (env) => env.DATABASE_URL !== undefined || postgresBinDir(env) !== undefined,
  },
  {
    program: 'chromium',
    apt: 'chromium',
    brew: '--cask chromium',
    present: (env) =>
      env.CHROMIUM_BIN
        ? existsSync(env.CHROMIUM_BIN)
        : ['chromium', 'chromium-browser', 'google-chrome'].some((name) => findable(name, undefined, env)) ||
          existsSync('/Applications/Chromium.app/Contents/MacOS/Chromium'),
  },
];

/** the programs missing here, as one line saying what to install; undefined when none is */
export function missingPrerequisites(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const missing = PREREQUISITES.filter((p) => !p.present(env));
  if (missing.length === 0) return undefined;
  const apt = [...new Set(missing.map((p) => p.apt))].join(' ');
  const brew = [...new Set(missing.map((p) => p.brew))];
  const formulae = brew.filter((b) => !b.startsWith('--cask'));
  const brewLine = [
    ...(formulae.length > 0 ? [`brew install ${formulae.join(' ')}`] : []),
    ...brew.filter((b) => b.startsWith('--cask')).map((b) => `brew install ${b}`),
  ].join(' && ');
  return `npm test needs ${missing.map((p) => p.program).join(', ')}: sudo apt-get install ${apt} (Debian/Ubuntu) or ${brewLine} (macOS)`;
}
