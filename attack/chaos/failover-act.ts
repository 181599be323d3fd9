import type { Writable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { startFleet } from '../local/fleet';
import type { Fleet } from '../local/fleet';
import { startSentinelGroup } from '../local/sentinel-group';
import type { LocalSentinelGroup } from '../local/sentinel-group';
import { readSkuState } from '../local/sku-state';
import { withRedis } from '../local/with-redis';
import { resetStock } from '../service-client';
import { failoverFigures } from './failover-result';
import type { FailoverReport, FailoverRun } from './failover-result';
import { startStorm } from './failover-storm';
import type { Storm } from './failover-storm';
import { secondsText } from '../report/failover-screen';

/**
 * `npm run demo -- --chaos failover`: the safe storm against a primary, a replica and three sentinels
 * (the test suite's topology, attack/local/sentinel-group.ts), the primary killed mid-storm, once with
 * REDIS_WAIT_REPLICAS=0 and once with 1. Afterwards the new primary's order log is set against every
 * 200 the buyers got: an order answered 200 and missing from the log is an acknowledged write lost.
 */
export const WAIT_SETTINGS = [0, 1] as const;
/** enough that the storm never sells out: the act is about the failover, not the sell-out */
const FAILOVER_STOCK = 1_000_000;
/** the storm runs this long on a healthy primary first */
const KILL_AFTER_MS = 3_000;
/**
 * The replica stops receiving this long before the primary dies, as a link between zones can fail
 * first. On one machine the replica is otherwise behind by well under a millisecond, and neither
 * setting would lose anything: the act would show nothing WAIT protects against.
 */
export const REPLICATION_CUT_MS = 500;
/** how long the storm goes on once sales are back, to show they stay back */
const AFTER_RECOVERY_MS = 2_500;
/** the longest the act waits for sales to come back */
const RECOVERY_LIMIT_MS = 30_000;

/** What the act shows while it runs: the live page listens. */
export interface FailoverObserver {
  /** a run's partial figures, several times a second, while its storm runs */
  running(run: FailoverRun): void;
  finished(run: FailoverRun): void;
  report(report: FailoverReport): void;
}

export interface FailoverActOptions {
  readonly instances: number;
  readonly connections: number;
  readonly sku: string;
  readonly adminToken: string;
  /** the instances' log lines */
  readonly log: Writable;
  readonly say: (line: string) => void;
  readonly signal?: AbortSignal;
  readonly observer?: FailoverObserver;
}

/** the figures so far: every 200 counted as in the log until the log is read at the end */
function partial(waitReplicas: number, storm: Storm, kill: KillTimes): FailoverRun {
  const ids = new Set(storm.answers.flatMap((answer) => (answer.orderId ? [answer.orderId] : [])));
  return failoverFigures({
    waitReplicas,
    stock: FAILOVER_STOCK,
    durationMs: storm.elapsedMs(),
    answers: storm.answers,
    logOrderIds: ids,
    unitsInLog: ids.size,
    stockLeft: FAILOVER_STOCK - ids.size,
    killedAtMs: kill.killedAtMs,
    promotedAtMs: kill.promotedAtMs,
  });
}

interface KillTimes {
  killedAtMs: number | null;
  promotedAtMs: number | null;
}

async function oneRun(waitReplicas: number, options: FailoverActOptions): Promise<FailoverRun> {
  const label = `REDIS_WAIT_REPLICAS=${waitReplicas}`;
  const stops: (() => Promise<void>)[] = [];
  try {
    const group: LocalSentinelGroup = await startSentinelGroup();
    stops.push(() => group.stop());
    const fleet: Fleet = await startFleet({
      instances: options.instances,
      env: {
        REDIS_MODE: 'sentinel',
        REDIS_NODES: group.sentinelNodes,
        REDIS_WAIT_REPLICAS: String(waitReplicas),
        REDIS_WAIT_TIMEOUT_MS: '250',
        ADMIN_TOKEN: options.adminToken,
        NODE_ENV: 'development',
        LOG_LEVEL: 'warn',
      },
      log: options.log,
      ...(options.signal ? { signal: options.signal } : {}),
    });
    stops.unshift(() => fleet.stop());
    options.say(
      `${label}: primary 127.0.0.1:${group.primary.port}, replica :${group.replica.port}, ` +
        `3 sentinels; ${options.instances} instances on ${fleet.url}`,
    );
    await resetStock(fleet.url, options.sku, FAILOVER_STOCK, options.adminToken);

    const storm = startStorm({ target: fleet.url, sku: options.sku, connections: options.connections });
    const kill: KillTimes = { killedAtMs: null, promotedAtMs: null };
    const ticker = setInterval(() => options.observer?.running(partial(waitReplicas, storm, kill)), 250);
    let newPort = group.primary.port;
    try {
      await sleep(KILL_AFTER_MS - REPLICATION_CUT_MS, undefined, { signal: options.signal });
      await group.cutReplication();
      await sleep(REPLICATION_CUT_MS, undefined, { signal: options.signal });
      const formerPort = group.primary.port;
      group.primary.process.kill('SIGKILL');
      kill.killedAtMs = storm.elapsedMs();
      options.say(`${label}: primary killed (SIGKILL) ${secondsText(kill.killedAtMs)} into the storm`);
      newPort = await group.waitForFailover(formerPort);
      kill.promotedAtMs = storm.elapsedMs();
      options.say(
        `${label}: the sentinels promoted the replica ${secondsText(kill.promotedAtMs - kill.killedAtMs)} later`,
      );
      await group.reviveFormerPrimary(newPort);
      const until = Date.now() + RECOVERY_LIMIT_MS;
      const killedAt = kill.killedAtMs;
      while (
        partial(waitReplicas, storm, kill).recoveredAtMs === null &&
        Date.now() < until &&
        !options.signal?.aborted
      ) {
        await sleep(100);
      }
      const recovered = partial(waitReplicas, storm, kill).recoveredAtMs;
      options.say(
        recovered === null
          ? `${label}: no sale came back within ${secondsText(RECOVERY_LIMIT_MS)}`
          : `${label}: sales back ${secondsText(recovered - killedAt)} after the kill`,
      );
      if (recovered !== null) await sleep(AFTER_RECOVERY_MS, undefined, { signal: options.signal });
    } finally {
      clearInterval(ticker);
      await storm.stop();
    }

    const state = await withRedis(newPort, (redis) => readSkuState(redis, options.sku));
    const run = failoverFigures({
      waitReplicas,
      stock: FAILOVER_STOCK,
      durationMs: storm.elapsedMs(),
      answers: storm.answers,
      logOrderIds: new Set(state.orders.map((order) => order.orderId)),
      unitsInLog: state.unitsInLog,
      stockLeft: state.stock,
      killedAtMs: kill.killedAtMs,
      promotedAtMs: kill.promotedAtMs,
    });
    options.observer?.finished(run);
    return run;
  } finally {
    for (const stop of stops) await stop().catch(() => undefined);
  }
}

export async function runFailoverAct(options: FailoverActOptions): Promise<FailoverReport> {
  const startedAt = new Date().toISOString();
  const runs: FailoverRun[] = [];
  for (const waitReplicas of WAIT_SETTINGS) {
    if (options.signal?.aborted) break;
    runs.push(await oneRun(waitReplicas, options));
  }
  const report: FailoverReport = {
    startedAt,
    instances: options.instances,
    connections: options.connections,
    replicationCutMs: REPLICATION_CUT_MS,
    runs,
  };
  options.observer?.report(report);
  return report;
}
