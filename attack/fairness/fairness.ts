import { randomBytes } from 'node:crypto';
import { UsageError } from '../cli-options';
import { startFleet } from '../local/fleet';
import { hasRedisServer, startRedis } from '../local/redis-server';
import { EXIT, interruptOnSigint, writeFile } from '../run-session';
import type { Io } from '../run-session';
import { TargetError, checkReachable } from '../service-client';
import { fairnessHelp, parseFairnessArgs } from './fairness-options';
import type { FairnessOptions } from './fairness-options';
import { fair, fairnessTable } from './fairness-report';
import type { LabelledRound } from './fairness-report';
import { runRound } from './fairness-round';

/**
 * `--bots N --buyers M`: does admission control keep a sale for people? N bots loop as fast as they can
 * while M buyers click at human pace; the report shows the share of the units the buyers got, against
 * their fair share. `npm run attack` measures a running service once, as it is configured; `npm run demo`
 * starts a local fleet on a private Redis once with the rate limits off, once with them on.
 */
export async function mainFairness(
  command: 'attack' | 'demo',
  argv: readonly string[],
  io: Io,
): Promise<number> {
  let options;
  try {
    options = parseFairnessArgs(command, argv, io.env);
  } catch (error) {
    if (error instanceof UsageError) {
      io.stderr.write(`${command}: ${error.message}\nRun with --help for the options.\n`);
      return EXIT.usage;
    }
    throw error;
  }
  if (options.help) {
    io.stdout.write(fairnessHelp(command));
    return EXIT.ok;
  }
  io.stdout.write(
    `fairness: ${options.bots} bots looping, ${options.buyers} buyers (up to ${options.tries} tries, ` +
      `${options.thinkMs.min}-${options.thinkMs.max} ms think time), ${options.stock} units of ${options.sku}\n`,
  );
  const interrupt = interruptOnSigint(io, 'stopping the round');
  try {
    const rounds =
      command === 'attack'
        ? await measureTarget(options, interrupt.signal)
        : await measureLocal(options, io, interrupt.signal);
    if (interrupt.signal.aborted) return EXIT.interrupted;
    io.stdout.write(fairnessTable(rounds));
    writeFile(
      options.jsonFile,
      `${JSON.stringify({ options: { ...options, adminToken: undefined }, rounds }, null, 2)}\n`,
    );
    io.stdout.write(`figures written to ${options.jsonFile}\n`);
    const limited = rounds.filter((round) => round.limited);
    return limited.every((round) => fair(round.result)) ? EXIT.ok : EXIT.broken;
  } catch (error) {
    if (error instanceof TargetError) {
      io.stderr.write(`${command}: ${error.message}\n`);
      return EXIT.usage;
    }
    throw error;
  } finally {
    interrupt.dispose();
  }
}

async function measureTarget(options: FairnessOptions, signal: AbortSignal): Promise<LabelledRound[]> {
  const target = options.target ?? '';
  await checkReachable(target);
  const result = await runRound({ ...options, target, signal });
  return [{ label: 'as deployed', limited: false, result }];
}

/** the local fleet, once per setting of the limits, each time on a fresh private Redis */
async function measureLocal(options: FairnessOptions, io: Io, signal: AbortSignal): Promise<LabelledRound[]> {
  if (!hasRedisServer())
    throw new TargetError('no redis-server installed: the local fairness run starts its own');
  const settings = options.limits === 'both' ? (['off', 'on'] as const) : [options.limits];
  const rounds: LabelledRound[] = [];
  for (const limits of settings) {
    if (signal.aborted) break;
    const limitEnv: Record<string, string> =
      limits === 'on'
        ? {
            RATE_LIMIT_PER_USER: String(options.limitPerUser),
            RATE_LIMIT_PER_IP: String(options.limitPerIp),
            RATE_LIMIT_WINDOW_MS: String(options.limitWindowMs),
          }
        : { RATE_LIMIT_PER_USER: '0', RATE_LIMIT_PER_IP: '0' };
    const label =
      limits === 'on'
        ? `limits on (${options.limitPerUser} per buyer, ${options.limitPerIp} per address, per ${options.limitWindowMs / 1000} s)`
        : 'limits off';
    const redis = await startRedis({ ownProcessGroup: true });
    try {
      const adminToken = randomBytes(24).toString('hex');
      const fleet = await startFleet({
        instances: options.instances,
        env: {
          REDIS_URL: redis.url,
          REDIS_MODE: 'standalone',
          ADMIN_TOKEN: adminToken,
          NODE_ENV: 'development',
          LOG_LEVEL: 'error',
          // the harness stands where a load balancer would: each client's address comes in X-Forwarded-For
          TRUST_PROXY: '1',
          ...limitEnv,
        },
        signal,
      });
      try {
        io.stderr.write(`${label}: ${options.instances} instances on ${fleet.url}\n`);
        const result = await runRound({ ...options, target: fleet.url, adminToken, signal });
        rounds.push({ label, limited: limits === 'on', result });
      } finally {
        await fleet.stop();
      }
    } finally {
      await redis.stop();
    }
  }
  return rounds;
}
