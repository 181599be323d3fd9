import { attackHelp, parseAttackArgs } from './attack-options';
import { UsageError } from './cli-options';
import { startLive } from './live/start-live';
import { stormFeed } from './live/storm-feed';
import { isFairnessRun } from './fairness/fairness-options';
import { mainFairness } from './fairness/fairness';
import { EXIT, interruptOnSigint, runSession } from './run-session';
import type { Io } from './run-session';
import { TargetError } from './service-client';

/**
 * `npm run attack -- --target URL [options]`: attacks a running service (a local fleet, or the ALB of a
 * deployed one), prints the comparison and exits 0 when the safe endpoint held, 1 when it did not,
 * 2 for bad arguments or an unreachable target.
 */
export async function main(argv: readonly string[], io: Io): Promise<number> {
  if (isFairnessRun(argv)) return mainFairness('attack', argv, io);
  let options;
  try {
    options = parseAttackArgs(argv, io.env);
  } catch (error) {
    if (error instanceof UsageError) {
      io.stderr.write(`attack: ${error.message}\nRun with --help for the options.\n`);
      return EXIT.usage;
    }
    throw error;
  }
  if (options.help) {
    io.stdout.write(attackHelp());
    return EXIT.ok;
  }

  const interrupt = interruptOnSigint(io, 'stopping the run and reporting what it measured');
  const live = options.live
    ? await startLive(io.stderr, { open: options.open, title: `Flash sale, live: ${options.target}` })
    : undefined;
  try {
    const session = await runSession(options.target, options, io, {
      signal: interrupt.signal,
      ...(live ? { observer: stormFeed(live, options, options.target) } : {}),
    });
    return session.exitCode;
  } catch (error) {
    if (error instanceof TargetError) {
      io.stderr.write(`attack: ${error.message}\n`);
      return EXIT.usage;
    }
    throw error;
  } finally {
    await live?.close();
    interrupt.dispose();
  }
}

if (require.main === module) {
  main(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr, env: process.env }).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      // 1 would read as "the safe endpoint broke": a harness that could not run says 2.
      process.stderr.write(`attack: ${error instanceof Error ? error.message : String(error)}\n`);
      process.exitCode = EXIT.usage;
    },
  );
}
