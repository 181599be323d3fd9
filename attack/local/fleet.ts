import { fork } from 'node:child_process';
import { once } from 'node:events';
import type { Writable } from 'node:stream';
import { entryPoint } from './cluster-fleet';
import type { PrimaryReply, PrimaryRequest } from './fleet-primary';

/**
 * A local fleet for the demo and the tests: N stateless instances of the service behind one port. Its
 * node:cluster primary runs in a child process (fleet-primary.ts), playing the load balancer, so that the
 * process that attacks the fleet never competes with the one that accepts its connections.
 */
export interface Fleet {
  readonly url: string;
  readonly port: number;
  readonly instanceIds: readonly string[];
  /** graceful: every instance finishes its in-flight requests and closes Redis; SIGKILL after a while */
  stop(): Promise<void>;
}

export interface FleetOptions {
  readonly instances: number;
  /**
   * environment of every instance on top of this process's: REDIS_URL, ADMIN_TOKEN, UNSAFE_DELAY_MS... This
   * process's own REDIS_* variables are left out unless keepRedisEnv is set (see fleetBaseEnv)
   */
  readonly env: Record<string, string>;
  /** pass this process's REDIS_* variables on: for a Redis the user named, not one the harness started */
  readonly keepRedisEnv?: boolean;
  /** a free one otherwise */
  readonly port?: number;
  /** where the instances' log lines go; the last lines are kept for error messages otherwise */
  readonly log?: Writable;
  readonly startTimeoutMs?: number;
  /** gives up starting (Ctrl-C) */
  readonly signal?: AbortSignal;
}

const KEEP_LOG_LINES = 40;
const STOP_TIMEOUT_MS = 20_000;

function isReply(message: unknown): message is PrimaryReply {
  return typeof message === 'object' && message !== null && 'type' in message;
}

/**
 * The environment the fleet's processes start from. app/config.ts prefers REDIS_NODES, REDIS_USERNAME,
 * REDIS_PASSWORD and REDIS_TLS to REDIS_URL, and REDIS_MODE, REDIS_WAIT_REPLICAS and the like change what
 * the client does: one of them left in the user's shell would send a fleet meant for the harness's own
 * Redis to another one. So they are all dropped, unless the user chose the Redis and they go with it.
 */
export function fleetBaseEnv(parent: NodeJS.ProcessEnv, keepRedisEnv: boolean): NodeJS.ProcessEnv {
  if (keepRedisEnv) return { ...parent };
  return Object.fromEntries(Object.entries(parent).filter(([name]) => !name.startsWith('REDIS_')));
}

export async function startFleet(options: FleetOptions): Promise<Fleet> {
  const { exec, execArgv } = entryPoint('fleet-primary');
  // The primary's environment is its workers' too (cluster.fork adds `env` on top of it).
  const primary = fork(exec, [], {
    execArgv,
    env: fleetBaseEnv(process.env, options.keepRedisEnv === true),
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  const exited = once(primary, 'exit');
  const recent: string[] = [];
  const record = (chunk: Buffer): void => {
    if (options.log) {
      options.log.write(chunk);
      return;
    }
    recent.push(...chunk.toString().split('\n').filter(Boolean));
    recent.splice(0, Math.max(0, recent.length - KEEP_LOG_LINES));
  };
  primary.stdout?.on('data', record);
  primary.stderr?.on('data', record);

  const stop = async (): Promise<void> => {
    if (primary.exitCode !== null || primary.signalCode !== null) return;
    if (primary.connected) primary.send({ type: 'stop' } satisfies PrimaryRequest);
    else primary.kill('SIGTERM');
    const timer = setTimeout(() => primary.kill('SIGKILL'), STOP_TIMEOUT_MS);
    await exited;
    clearTimeout(timer);
  };

  let onAbort = (): void => undefined;
  try {
    const reply = await new Promise<PrimaryReply>((resolve, reject) => {
      primary.on('message', (message: unknown) => {
        if (isReply(message)) resolve(message);
      });
      primary.once('exit', (code) => {
        reject(new Error(`the fleet's primary exited with code ${String(code)} while starting`));
      });
      onAbort = () => {
        reject(new Error('interrupted while the fleet was starting'));
      };
      options.signal?.addEventListener('abort', onAbort, { once: true });
      if (options.signal?.aborted) onAbort();
      primary.send({
        type: 'start',
        instances: options.instances,
        env: options.env,
        ...(options.port === undefined ? {} : { port: options.port }),
        ...(options.startTimeoutMs === undefined ? {} : { startTimeoutMs: options.startTimeoutMs }),
      } satisfies PrimaryRequest);
    });
    if (reply.type === 'failed') throw new Error(reply.message);
    let stopping: Promise<void> | undefined;
    return {
      url: `http://127.0.0.1:${reply.port}`,
      port: reply.port,
      instanceIds: reply.instanceIds,
      stop: () => (stopping ??= stop()),
    };
  } catch (error) {
    await stop();
    const lines = recent.length > 0 ? `\n${recent.join('\n')}` : '';
    throw new Error(`${error instanceof Error ? error.message : String(error)}${lines}`);
  } finally {
    options.signal?.removeEventListener('abort', onAbort);
  }
}
