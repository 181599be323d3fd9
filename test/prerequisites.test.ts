import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { missingPrerequisites } from './support/prerequisites';

const ROOT = join(__dirname, '..');
const JEST = join(ROOT, 'node_modules', 'jest', 'bin', 'jest.js');

async function runJest(
  args: string[],
  env: Record<string, string>,
): Promise<{ code: number | null; stderr: string }> {
  const child = spawn(process.execPath, [JEST, ...args], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const [code] = (await once(child, 'exit')) as [number | null];
  return { code, stderr };
}

const isAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('the programs npm test needs', () => {
  it('when every one is here, then nothing is missing', () => {
    expect(missingPrerequisites()).toBeUndefined();
  });

  it('when some are missing, then one line names them and the packages to install on each platform', () => {
    const nothing = '/nonexistent';
    const bare = {
      PATH: '',
      REDIS_SERVER_BIN: nothing,
      REDIS_CLI_BIN: nothing,
      HAPROXY_BIN: nothing,
      PG_BIN: nothing,
      CHROMIUM_BIN: nothing,
    };
    expect(missingPrerequisites(bare)).toBe(
      'npm test needs redis-server, redis-cli, haproxy, jq, shellcheck, PostgreSQL (initdb, postgres), chromium: ' +
        'sudo apt-get install redis-server redis-tools haproxy jq shellcheck postgresql chromium (Debian/Ubuntu) ' +
        'or brew install redis haproxy jq shellcheck postgresql@16 && brew install --cask chromium (macOS)',
    );
    expect(missingPrerequisites({ ...bare, DATABASE_URL: 'postgres://elsewhere/db' })).not.toContain(
      'PostgreSQL',
    );
  });

  it('when jest starts on a machine without haproxy, then it stops at once with that line and exit code 1', async () => {
    const { code, stderr } = await runJest(['test/openapi-contract-checker.test.ts'], {
      HAPROXY_BIN: '/nonexistent/haproxy',
    });
    expect(code).toBe(1);
    expect(stderr).toContain(
      'npm test needs haproxy: sudo apt-get install haproxy (Debian/Ubuntu) or brew install haproxy (macOS)',
    );
    // no suite ran
    expect(stderr).not.toContain('PASS');
  });
});

describe('the processes a test file starts', () => {
  it('when its beforeAll fails before it could stop them, then they are killed with the file all the same', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'flash-sale-leak-'));
    const pidsFile = join(dir, 'pids');
    try {
      const config = {
        rootDir: ROOT,
        preset: 'ts-jest',
        testEnvironment: '<rootDir>/test/support/test-environment.ts',
        testMatch: ['<rootDir>/test/support/leaky/*.fixture.ts'],
      };
      const { code, stderr } = await runJest(['--config', JSON.stringify(config)], {
        LEAK_PIDS_FILE: pidsFile,
      });
      expect({ code, failed: stderr.includes('haproxy is not installed') }).toEqual({
        code: 1,
        failed: true,
      });
      const pids = readFileSync(pidsFile, 'utf8').trim().split('\n').map(Number);
      expect(pids).toHaveLength(2);
      expect(pids.filter(isAlive)).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
