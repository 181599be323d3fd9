import type { AttackSettings, Mode } from '../attack-options';
import type { SalesSeries } from '../report/charts';
import { salesSeries } from '../report/charts';
import {
  finalScreen,
  finishedCard,
  renderScreen,
  reportTitle,
  type EndpointCard,
} from '../report/first-screen';
import type { RunProgress } from '../run-attack';
import { safeHeld } from '../run-result';
import type { AttackReport, RunResult } from '../run-result';
import type { LiveServer } from './live-server';

/**
 * What a session tells the page as it goes: the same progress the terminal's progress line gets
 * (run-attack's onProgress, ten times a second), each finished run, and the report at the end.
 */
export interface SessionObserver {
  progress(progress: RunProgress): void;
  runFinished(run: RunResult): void;
  finished(report: AttackReport): void;
}

/** at most this often a screen goes out while a run fires: four a second reads as live */
const PUBLISH_EVERY_MS = 250;

/** Turns a storm's progress into screens for the live page. */
export function stormFeed(
  live: Pick<LiveServer, 'publish'>,
  settings: Pick<AttackSettings, 'modes' | 'sku' | 'stock' | 'requests' | 'connections'>,
  target: string,
): SessionObserver {
  const running = new Map<Mode, RunProgress>();
  const done = new Map<Mode, RunResult>();
  const samples = new Map<Mode, { t: number; sold: number }[]>();
  let lastPublished = 0;

  const waiting = (mode: Mode): EndpointCard => ({
    mode,
    state: 'waiting',
    stock: settings.stock,
    sold: 0,
    oversold: 0,
    stockLeft: null,
    salesPerSecond: 0,
    latencyMs: { p50: 0, p95: 0, p99: 0 },
    answersByInstance: {},
  });
  const liveCard = (progress: RunProgress): EndpointCard => ({
    mode: progress.mode,
    state: 'running',
    stock: progress.stock,
    sold: progress.sold,
    oversold: Math.max(0, progress.sold - progress.stock),
    stockLeft: progress.stockLeft ?? progress.stock,
    salesPerSecond: progress.salesPerSecond,
    latencyMs: progress.latencyMs,
    answersByInstance: progress.answersByInstance,
  });

  const publish = (): void => {
    lastPublished = Date.now();
    const cards = settings.modes.map((mode) => {
      const run = done.get(mode);
      if (run) return finishedCard(run, mode === 'safe' ? safeHeld({ safe: run }) : null);
      const progress = running.get(mode);
      return progress ? liveCard(progress) : waiting(mode);
    });
    const sales = settings.modes.flatMap((mode): SalesSeries[] => {
      const run = done.get(mode);
      if (run) return [salesSeries(run)];
      const points = samples.get(mode);
      return points ? [{ mode, stock: settings.stock, points }] : [];
    });
    const html = renderScreen({
      title: reportTitle(settings),
      meta: `${target} · sku ${settings.sku} · ${settings.connections} connections · live`,
      cards,
      sales,
    });
    live.publish({ phase: 'running', html });
  };

  publish();
  return {
    progress(progress) {
      // a run that starts shows at once; then at most every PUBLISH_EVERY_MS
      const starting = !running.has(progress.mode);
      running.set(progress.mode, progress);
      const points = samples.get(progress.mode) ?? [{ t: 0, sold: 0 }];
      points.push({ t: progress.elapsedMs, sold: progress.sold });
      samples.set(progress.mode, points);
      if (starting || Date.now() - lastPublished >= PUBLISH_EVERY_MS) publish();
    },
    runFinished(run) {
      done.set(run.mode, run);
      running.delete(run.mode);
      publish();
    },
    finished(report) {
      live.publish({ phase: 'final', html: renderScreen(finalScreen(report)) });
    },
  };
}
