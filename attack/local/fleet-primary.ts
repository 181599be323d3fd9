import { startClusterFleet } from './cluster-fleet';
import type { ClusterFleet } from './cluster-fleet';

/**
 * The fleet's primary in a process of its own: it forks the workers, watches them and stops them. Kept
 * apart from the process that attacks the fleet, so that a Ctrl-C, a crash or a busy event loop there
 * never leaves workers behind or slows their supervision, and the same fleet can serve any client.
 *
 * Protocol with fleet.ts, over IPC: it receives one `start`, answers `ready` or `failed`, and stops its
 * workers and exits on `stop`, on SIGTERM, or when its parent goes away.
 */
export type PrimaryRequest =
  | {
      readonly type: 'start';
      readonly instances: number;
      readonly env: Record<string, string>;
      readonly port?: number;
      readonly startTimeoutMs?: number;
    }
  | { readonly type: 'stop' };

export type PrimaryReply =
  | { readonly type: 'ready'; readonly port: number; readonly instanceIds: readonly string[] }
  | { readonly type: 'failed'; readonly message: string };

function reply(message: PrimaryReply): void {
  process.send?.(message);
}

let fleet: ClusterFleet | undefined;
let stopping = false;

function stopAndExit(code: number): void {
  if (stopping) return;
  stopping = true;
  const stopped = fleet ? fleet.stop() : Promise.resolve();
  stopped.then(
    () => process.exit(code),
    () => process.exit(1),
  );
}

// Ctrl-C reaches the whole process group: the demo decides when its fleet stops.
process.on('SIGINT', () => undefined);
process.once('SIGTERM', () => {
  stopAndExit(0);
});
process.once('disconnect', () => {
  stopAndExit(0);
});
process.on('message', (message: PrimaryRequest) => {
  if (message.type === 'stop') {
    stopAndExit(0);
    return;
  }
  startClusterFleet({ ...message, log: process.stdout }).then(
    (started) => {
      fleet = started;
      if (stopping) {
        void started.stop();
        return;
      }
      reply({ type: 'ready', port: started.port, instanceIds: started.instanceIds });
    },
    (error: unknown) => {
      reply({ type: 'failed', message: error instanceof Error ? error.message : String(error) });
      process.exitCode = 1;
      process.disconnect();
    },
  );
});
