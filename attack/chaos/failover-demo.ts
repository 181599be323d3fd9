import { randomBytes } from 'node:crypto';
import { createWriteStream, mkdirSync } from 'node:fs';
import { once } from 'node:events';
import { dirname, join } from 'node:path';
import type { DemoOptions } from '../demo-options';
import { failoverFeed } from '../live/failover-feed';
import type { LiveServer } from '../live/live-server';
import { formatFailoverTable, renderFailoverReport } from '../report/failover-screen';
import { EXIT } from '../run-session';
import { writeFile } from '../run-session';
import type { Io } from '../run-session';
import { REPLICATION_CUT_MS, WAIT_SETTINGS, runFailoverAct } from './failover-act';
import { failoverHeld } from './failover-result';

/** the act's storm: enough connections to keep every instance busy, few enough for a laptop */
const MAX_CONNECTIONS = 32;

/**
 * `npm run demo -- --chaos failover`: the act, its table on the terminal, its JSON and its report.
 * Exit 0 when nothing was oversold in either run and WAIT lost no acknowledged order.
 */
export async function failoverDemo(
  options: DemoOptions,
  io: Io,
  context: { readonly signal: AbortSignal; readonly live?: Pick<LiveServer, 'publish'> },
): Promise<number> {
  if (io.env.REDIS_URL !== undefined && io.env.REDIS_URL !== '') {
    io.stderr.write(
      'failover: REDIS_URL is not used: the act starts its own primary, replica and sentinels\n',
    );
  }
  const connections = Math.min(options.connections, MAX_CONNECTIONS);
  const fleetLog = join(dirname(options.jsonFile), 'failover-fleet.log');
  mkdirSync(dirname(fleetLog), { recursive: true });
  const log = createWriteStream(fleetLog);
  try {
    io.stderr.write(
      `failover: a safe storm (${connections} connections) on ${options.instances} instances; the primary is ` +
        `killed mid-storm, with REDIS_WAIT_REPLICAS=0 then 1; the replica's link is cut ${REPLICATION_CUT_MS} ms ` +
        `before the kill, as a split between zones; logs in ${fleetLog}\n`,
    );
    const report = await runFailoverAct({
      instances: options.instances,
      connections,
      sku: options.sku,
      adminToken: randomBytes(24).toString('hex'),
      log,
      say: (line) => io.stderr.write(`${line}\n`),
      signal: context.signal,
      ...(context.live
        ? {
            observer: failoverFeed(context.live, {
              waitSettings: WAIT_SETTINGS,
              instances: options.instances,
              connections,
              replicationCutMs: REPLICATION_CUT_MS,
            }),
          }
        : {}),
    });
    io.stdout.write(`\n${formatFailoverTable(report)}`);
    writeFile(options.jsonFile, `${JSON.stringify(report, null, 2)}\n`);
    io.stdout.write(`wrote ${options.jsonFile}\n`);
    writeFile(options.reportFile, renderFailoverReport(report));
    io.stdout.write(`wrote ${options.reportFile}\n`);
    if (context.signal.aborted) return EXIT.interrupted;
    return failoverHeld(report) ? EXIT.ok : EXIT.broken;
  } finally {
    await once(log.end(), 'finish');
  }
}
