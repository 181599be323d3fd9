import childProcess from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import NodeEnvironment from 'jest-environment-node';

type Spawn = typeof childProcess.spawn;
type Fork = typeof childProcess.fork;

const alive = (child: ChildProcess): boolean => child.exitCode === null && child.signalCode === null;

/**
 * Jest's node environment, plus: every process a test file spawns or forks (a service, a redis-server,
 * haproxy, a fleet) is killed when the file is done, whatever happened in it. A test stops what it
 * starts; when it cannot (a beforeAll that failed half-way, an afterAll that threw first), this does,
 * after every hook has run. The worker's exit does the same for a file cut short.
 *
 * It wraps child_process's spawn and fork for the file's lifetime: Node's core modules are shared by the
 * environment and the code under test, so every helper is covered without knowing about it.
 */
export default class ReapingEnvironment extends NodeEnvironment {
  private readonly children = new Set<ChildProcess>();
  private readonly original = { spawn: childProcess.spawn, fork: childProcess.fork };
  private readonly reapOnExit = (): void => {
    this.reap();
  };

  override async setup(): Promise<void> {
    await super.setup();
    const track = (child: ChildProcess): ChildProcess => {
      this.children.add(child);
      child.once('exit', () => this.children.delete(child));
      return child;
    };
    const { spawn, fork } = this.original;
    childProcess.spawn = ((...args: Parameters<Spawn>) => track(spawn(...args))) as Spawn;
    childProcess.fork = ((...args: Parameters<Fork>) => track(fork(...args))) as Fork;
    process.on('exit', this.reapOnExit);
  }

  override async teardown(): Promise<void> {
    childProcess.spawn = this.original.spawn;
    childProcess.fork = this.original.fork;
    process.off('exit', this.reapOnExit);
    this.reap();
    await super.teardown();
  }

  private reap(): void {
    for (const child of this.children) {
      if (!alive(child) || child.pid === undefined) continue;
      try {
        // a detached child leads its own process group: the group, so that what it started goes too
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        child.kill('SIGKILL'); // not a group leader: it shares ours
      }
    }
    this.children.clear();
  }
}
