import type { ChildProcess } from 'node:child_process';

/**
 * How the tooling stops a server it started (redis-server, postgres): `stop()` asks it to shut down
 * with its own signal and removes what was made for it; `kill()` is for an 'exit' listener, where
 * nothing can be awaited: SIGKILL and the same clean-up, at once and synchronously.
 */
export interface StoppableServer {
  stop(): Promise<void>;
  readonly kill: () => void;
}

export function stoppable(
  child: ChildProcess,
  exited: Promise<unknown>,
  /** how the server shuts down cleanly: redis-server on SIGTERM, postgres fast on SIGINT */
  signal: NodeJS.Signals,
  cleanUp: () => void,
): StoppableServer {
  let stopping: Promise<void> | undefined;
  return {
    kill: () => {
      child.kill('SIGKILL');
      try {
        cleanUp();
      } catch {
        // best effort: the caller is on its way out, perhaps with other servers still to kill
      }
    },
    stop: () => {
      stopping ??= (async () => {
        if (child.exitCode === null && child.signalCode === null) {
          child.kill(signal);
          await exited;
        }
        cleanUp();
      })();
      return stopping;
    },
  };
}
