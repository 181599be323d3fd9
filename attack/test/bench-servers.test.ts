import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startServer } from '../bench/servers';

/** the process group of a process, from /proc/<pid>/stat (the field after the state) */
function processGroupOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2]);
}

/**
 * Ctrl-C in a terminal reaches the whole foreground process group. The bench's servers (and its Redis)
 * must not stop under it: the bench still reads their figures and prints what was measured, then stops
 * them itself.
 */
describe('a server the bench starts', () => {
  it('when started, then it leads a process group of its own, and kill() ends it at once', async () => {
    const server = await startServer(
      'bare route',
      join(__dirname, '..', 'bench', 'bare-server.ts'),
      {},
      { nodeFlags: ['-r', 'ts-node/register/transpile-only'], readyPath: '/purchase/safe', readyStatus: 200 },
    );
    try {
      const pid = server.pid ?? NaN;
      expect(processGroupOf(pid)).toBe(pid);
      expect(processGroupOf(pid)).not.toBe(processGroupOf(process.pid));
      server.kill();
      await server.stop();
      expect(() => process.kill(pid, 0)).toThrow();
    } finally {
      await server.stop();
    }
  });
});
