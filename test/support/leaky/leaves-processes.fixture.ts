import { spawn } from 'node:child_process';
import { appendFileSync } from 'node:fs';

/**
 * Run only by test/prerequisites.test.ts, in a jest of its own: a suite whose beforeAll starts two
 * processes (one in its own process group) and fails before anything could stop them.
 */
const pidsFile = process.env.LEAK_PIDS_FILE ?? '';

describe('a suite that fails half-way through starting its processes', () => {
  beforeAll(() => {
    const forever = ['-e', 'setInterval(() => {}, 1000)'];
    const plain = spawn(process.execPath, forever, { stdio: 'ignore' });
    const grouped = spawn(process.execPath, forever, { stdio: 'ignore', detached: true });
    appendFileSync(pidsFile, `${String(plain.pid)}\n${String(grouped.pid)}\n`);
    throw new Error('haproxy is not installed');
  });

  it('when its beforeAll has failed, then it never gets here', () => {
    expect(true).toBe(true);
  });
});
