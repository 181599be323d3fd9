import type { FailoverObserver } from '../chaos/failover-act';
import type { FailoverRun } from '../chaos/failover-result';
import { failoverCards, failoverMeta, renderFailoverScreen } from '../report/failover-screen';
import type { FailoverCard } from '../report/failover-screen';
import type { LiveServer } from './live-server';

/** The failover act's screens for the live page; its last one is the report's first screen. */
export function failoverFeed(
  live: Pick<LiveServer, 'publish'>,
  settings: {
    readonly waitSettings: readonly number[];
    readonly instances: number;
    readonly connections: number;
    readonly replicationCutMs: number;
  },
): FailoverObserver {
  const done = new Map<number, FailoverRun>();
  const meta = failoverMeta(settings.instances, settings.connections, settings.replicationCutMs);
  const publish = (current?: FailoverRun): void => {
    const cards = settings.waitSettings.map((waitReplicas): FailoverCard => {
      const run = done.get(waitReplicas);
      if (run) return { waitReplicas, state: 'done', run };
      if (current?.waitReplicas === waitReplicas) return { waitReplicas, state: 'running', run: current };
      return { waitReplicas, state: 'waiting' };
    });
    live.publish({ phase: 'running', html: renderFailoverScreen(meta, cards) });
  };
  publish();
  return {
    running: (run) => {
      publish(run);
    },
    finished: (run) => {
      done.set(run.waitReplicas, run);
      publish();
    },
    report: (report) => {
      const fullMeta = `${meta} · ${report.startedAt}`;
      live.publish({ phase: 'final', html: renderFailoverScreen(fullMeta, failoverCards(report)) });
    },
  };
}
