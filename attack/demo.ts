import { randomBytes } from 'node:crypto';
import { createWriteStream, mkdirSync } from 'node:fs';
import { once } from 'node:events';
import { dirname, join } from 'node:path';
import { failoverDemo } from './chaos/failover-demo';
import { UsageError } from './cli-options';
import { isFairnessRun } from './fairness/fairness-options';
import { mainFairness } from './fairness/fairness';
import { demoHelp, parseDemoArgs } from './demo-options';
import { startLive } from './live/start-live';
import { stormFeed } from './live/storm-feed';
import { startFleet } from './local/fleet';
import { startOrderPipeline } from './local/order-pipeline';
import { redisAddress, unreachableRedis } from './local/redis-reachable';
import { hasRedisServer, startRedis } from './local/redis-server';
import { EXIT, interruptOnSigint, runSession } from './run-session';
import type { Io } from './run-session';
import { TargetError } from './service-client';

/**
 * `npm run demo`: the whole story in one command. Redis (REDIS_URL, or a private redis-server), a fleet of
 * stateless instances behind one port, the attack on the unsafe endpoint then on the safe one, the
 * comparison, the reports; then everything it started is stopped again, Ctrl-C included.
 */
const NO_REDIS = `demo: no Redis to use. Either install redis-server, e.g.
  Debian/Ubuntu:  sudo apt-get install redis-server
  macOS:          brew install redis
or point the demo at a running Redis:
  REDIS_URL=redis://127.0.0.1:6379 npm run demo
`;

function seconds(sinceMs: number): string {
  return `${((Date.now() - sinceMs) / 1000).toFixed(1)} s`;
}

export async function main(argv: readonly string[], io: Io): Promise<number> {
  if (isFairnessRun(argv)) return mainFairness('demo', argv, io);
  let options;
  try {
    options = parseDemoArgs(argv, io.env);
  } catch (error) {
    if (error instanceof UsageError) {
      io.stderr.write(`demo: ${error.message}\nRun with --help for the options.\n`);
      return EXIT.usage;
    }
    throw error;
  }
  if (options.help) {
    io.stdout.write(demoHelp());
    return EXIT.ok;
  }

  const externalRedis = io.env.REDIS_URL;
  // the failover act always starts its own topology
  const ownRedis = externalRedis === undefined || externalRedis === '' || options.chaos === 'failover';
  if (ownRedis && !hasRedisServer()) {
    io.stderr.write(NO_REDIS);
    return EXIT.usage;
  }

  // The fleet's workers exit by themselves when this process goes (node:cluster); the redis-server, in
  // its own process group, would not. Every way out that skips the clean-up below passes through 'exit':
  // a second Ctrl-C, a hang-up (the terminal closed, the ssh session dropped: by default it would end
  // this process without one), a crash.
  const killers: (() => void)[] = [];
  const onExit = (): void => {
    for (const kill of killers) kill();
  };
  const onHangUp = (): void => {
    process.exit(EXIT.hangUp);
  };
  process.once('exit', onExit);
  process.once('SIGHUP', onHangUp);
  const interrupt = interruptOnSigint(io, 'stopping the run, then the fleet and Redis');
  // What was started, stopped in reverse order whatever happens.
  const cleanup: { what: string; stop: () => Promise<unknown> }[] = [];
  const began = Date.now();
  // first of all, so that the page is up while Redis and the fleet start
  const live = options.live
    ? await startLive(io.stderr, { open: options.open, title: 'Flash sale, live' })
    : undefined;
  cleanup.push({ what: 'live page', stop: () => live?.close() ?? Promise.resolve() });
  try {
    if (options.chaos === 'failover') {
      return await failoverDemo(options, io, { signal: interrupt.signal, ...(live ? { live } : {}) });
    }
    // The user's REDIS_* settings (password, TLS, mode...) go with the Redis they named in REDIS_URL. With
    // the private one, the fleet is told all it needs and none of them may send it elsewhere.
    const userRedis = externalRedis !== undefined && externalRedis !== '';
    let redisEnv: Record<string, string>;
    let redisLabel: string;
    if (userRedis) {
      // A Redis nobody listens at would leave the fleet retrying in silence: said now, in one line.
      const mode = io.env.REDIS_MODE ?? 'standalone';
      const why = mode === 'standalone' ? await unreachableRedis(externalRedis) : undefined;
      if (why !== undefined) {
        io.stderr.write(
          `demo: cannot reach Redis at ${redisAddress(externalRedis)} (REDIS_URL): ${why}. ` +
            'Start it, or unset REDIS_URL for a private redis-server.\n',
        );
        return EXIT.usage;
      }
      redisEnv = { REDIS_URL: externalRedis };
      redisLabel = 'REDIS_URL';
    } else {
      const redis = await startRedis({ ownProcessGroup: true });
      killers.push(redis.kill);
      cleanup.push({ what: 'redis-server', stop: () => redis.stop() });
      redisEnv = { REDIS_URL: redis.url, REDIS_MODE: 'standalone' };
      redisLabel = `private redis-server on 127.0.0.1:${redis.port}`;
    }
    io.stderr.write(`redis: ${redisLabel}\n`);

    // The instances' logs go beside the reports, out of the presenter's terminal.
    const fleetLog = join(dirname(options.jsonFile), 'fleet.log');
    mkdirSync(dirname(fleetLog), { recursive: true });
    const log = createWriteStream(fleetLog);
    cleanup.push({ what: 'fleet log', stop: () => once(log.end(), 'finish') });

    // The system of record: DATABASE_URL, or a private PostgreSQL; the demo goes on without one.
    const userDatabase = io.env.DATABASE_URL === '' ? undefined : io.env.DATABASE_URL;
    const pipeline = await startOrderPipeline({
      redisUrl: redisEnv.REDIS_URL ?? '',
      databaseUrl: userDatabase,
      log,
    });
    if (pipeline) {
      killers.push(pipeline.kill);
      cleanup.push({ what: 'order pipeline', stop: () => pipeline.stop() });
      io.stderr.write(`postgres: ${pipeline.label}, an order worker draining Redis into it\n`);
    } else {
      io.stderr.write(
        'postgres: none (no DATABASE_URL, no PostgreSQL installed): orders stay in Redis, and verify is skipped\n',
      );
    }
    // A fresh admin token per demo: the fleet is private, and the reset goes through the real auth path.
    const adminToken = randomBytes(24).toString('hex');
    const fleet = await startFleet({
      instances: options.instances,
      env: {
        ...redisEnv,
        ...(pipeline ? { DATABASE_URL: pipeline.databaseUrl } : {}),
        ADMIN_TOKEN: adminToken,
        NODE_ENV: 'development',
        UNSAFE_ENDPOINT: 'on',
        UNSAFE_DELAY_MS: String(options.unsafeDelayMs),
        // slow-request warnings are expected under this load: the log file keeps warnings and worse
        LOG_LEVEL: 'warn',
      },
      keepRedisEnv: userRedis,
      log,
      signal: interrupt.signal,
    });
    cleanup.push({ what: 'fleet', stop: () => fleet.stop() });
    io.stderr.write(
      `fleet: ${options.instances} instances on ${fleet.url} (${fleet.instanceIds.join(', ')}), ` +
        `UNSAFE_DELAY_MS=${options.unsafeDelayMs}, ready after ${seconds(began)}; logs in ${fleetLog}\n`,
    );

    const session = await runSession(fleet.url, { ...options, adminToken }, io, {
      signal: interrupt.signal,
      ...(live ? { observer: stormFeed(live, options, fleet.url) } : {}),
      fleet: {
        instances: options.instances,
        unsafeDelayMs: options.unsafeDelayMs,
        redis: redisLabel,
        ...(pipeline ? { postgres: pipeline.label } : {}),
      },
      ...(pipeline
        ? {
            checkSystemOfRecord: async (sku: string) => {
              const { orders, inPostgres, backlog, findings } = await pipeline.check(sku);
              return { orders, inPostgres, backlog, findings };
            },
          }
        : {}),
    });
    return session.exitCode;
  } catch (error) {
    if (interrupt.signal.aborted) {
      io.stderr.write(`demo: ${error instanceof Error ? error.message : String(error)}\n`);
      return EXIT.interrupted;
    }
    if (error instanceof TargetError) {
      io.stderr.write(`demo: ${error.message}\n`);
      return EXIT.usage;
    }
    throw error;
  } finally {
    for (const step of cleanup.reverse()) {
      await step.stop().catch((error: unknown) => {
        io.stderr.write(`demo: could not stop the ${step.what}: ${String(error)}\n`);
      });
    }
    interrupt.dispose();
    process.off('SIGHUP', onHangUp);
    process.off('exit', onExit);
    io.stderr.write(`stopped everything the demo started (${seconds(began)} in all)\n`);
  }
}

if (require.main === module) {
  main(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr, env: process.env }).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      // 1 would read as "the safe endpoint broke": a demo that could not run says 2.
      process.stderr.write(`demo: ${error instanceof Error ? error.message : String(error)}\n`);
      process.exitCode = EXIT.usage;
    },
  );
}
