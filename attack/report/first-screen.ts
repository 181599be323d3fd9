import type { Mode } from '../attack-options';
import { runsInOrder } from '../report-table';
import type { AttackReport, RunResult } from '../run-result';
import { COLORS, salesOverTimeChart, salesSeries, soldVsStockChart } from './charts';
import type { SalesSeries } from './charts';
import { escapeHtml } from './escape-html';

/**
 * The first screen of the report, and of the live page from the first event to the last: one card per
 * endpoint with the verdict as big numbers, then the two charts side by side, all above the fold of a
 * 1280×720 projector. The live page renders the same cards from the run's progress, and its final state
 * is this very HTML, rendered from the finished report.
 */

/** what each endpoint does, in the words a presenter says */
export const WHAT_IT_DOES: Record<Mode, string> = {
  unsafe: 'read, decide, write: three round trips, and nothing stops two buyers taking the same unit',
  safe: 'one atomic Lua script: check the stock and take it in one step',
};

export type Tone = 'good' | 'bad' | 'plain';

/** One endpoint's card: a run still going (live), a finished one, or one not started yet. */
export interface EndpointCard {
  readonly mode: Mode;
  readonly state: 'waiting' | 'running' | 'done';
  readonly stock: number;
  readonly sold: number;
  readonly oversold: number;
  /** live: what the latest sale said was left; done: the stock read back */
  readonly stockLeft: number | null;
  /** done: stock = final + units in the order log, and never below zero */
  readonly addsUp?: { readonly held: boolean; readonly text: string };
  readonly salesPerSecond: number;
  readonly latencyMs: { readonly p50: number; readonly p95: number; readonly p99: number };
  readonly answersByInstance: Readonly<Record<string, number>>;
  /** done: whether the endpoint kept its invariants, and the words on its badge */
  readonly verdict?: { readonly held: boolean; readonly text: string };
}

export interface Screen {
  readonly title: string;
  readonly meta: string;
  readonly cards: readonly EndpointCard[];
  readonly sales: readonly SalesSeries[];
}

export const number = (value: number): string => value.toLocaleString('en-US');
/** whole milliseconds read better from afar; below 10 one decimal still says something */
const ms = (value: number): string => (value < 10 ? value.toFixed(1) : number(Math.round(value)));

/** one figure of a card: its label, its value, coloured by `tone`, and a note under it */
export function figure(label: string, value: string, tone: Tone, note: string, id: string): string {
  return (
    `<div class="figure ${tone}" data-figure="${id}"><div class="label">${escapeHtml(label)}</div>` +
    `<div class="value">${escapeHtml(value)}</div><div class="note">${escapeHtml(note)}</div></div>`
  );
}

function badge(card: EndpointCard): string {
  if (card.state === 'waiting') return '<span class="badge plain">waiting</span>';
  if (card.state === 'running' || !card.verdict) return '<span class="badge plain">running…</span>';
  return `<span class="badge ${card.verdict.held ? 'good' : 'bad'}">${card.verdict.held ? '✓' : '✗'} ${escapeHtml(card.verdict.text)}</span>`;
}

function oversoldFigure(card: EndpointCard): string {
  if (card.oversold > 0) {
    return figure('oversold', number(card.oversold), 'bad', '✗ units that never existed', 'oversold');
  }
  if (card.state === 'done') return figure('oversold', '0', 'good', '✓ not one unit too many', 'oversold');
  return figure('oversold', '0', 'plain', card.state === 'waiting' ? '' : 'none so far', 'oversold');
}

function stockLeftFigure(card: EndpointCard): string {
  const value = card.stockLeft === null ? '–' : number(card.stockLeft);
  if (card.state === 'done' && card.addsUp) {
    const mark = card.addsUp.held ? '✓' : '✗';
    return figure(
      'stock left',
      value,
      card.addsUp.held ? 'good' : 'bad',
      `${mark} ${card.addsUp.text}`,
      'stock-left',
    );
  }
  return figure(
    'stock left',
    value,
    'plain',
    card.state === 'running' ? 'as the latest sale said' : '',
    'stock-left',
  );
}

function instances(counts: Readonly<Record<string, number>>): string {
  const entries = Object.entries(counts).sort(([a], [b]) => a.localeCompare(b, 'en', { numeric: true }));
  if (entries.length === 0) return '–';
  return entries.map(([name, count]) => `${escapeHtml(name)} ${number(count)}`).join(' · ');
}

function renderCard(card: EndpointCard): string {
  const tone = card.state === 'done' && card.verdict ? (card.verdict.held ? 'good' : 'bad') : 'plain';
  const { p50, p95, p99 } = card.latencyMs;
  return (
    `<section class="card ${tone}" data-mode="${card.mode}" data-state="${card.state}">` +
    `<h2><span>${escapeHtml(card.mode)} <code>POST /purchase/${escapeHtml(card.mode)}</code></span>${badge(card)}</h2>` +
    `<p class="what">${escapeHtml(WHAT_IT_DOES[card.mode])}</p>` +
    `<div class="figures">` +
    figure('sold', number(card.sold), 'plain', `of ${number(card.stock)} in stock`, 'sold') +
    oversoldFigure(card) +
    stockLeftFigure(card) +
    `</div>` +
    `<p class="rates"><b>${number(card.salesPerSecond)}</b> sales/s · latency ms p50 <b>${ms(p50)}</b> · p95 <b>${ms(p95)}</b> · p99 <b>${ms(p99)}</b></p>` +
    `<p class="instances">answers per instance: ${instances(card.answersByInstance)}</p>` +
    `</section>`
  );
}

export function renderScreen(screen: Screen): string {
  const sold = screen.cards.filter((card) => card.state !== 'waiting');
  return (
    `<header><h1>${escapeHtml(screen.title)}</h1><p class="meta">${escapeHtml(screen.meta)}</p></header>` +
    `<div class="cards">${screen.cards.map(renderCard).join('')}</div>` +
    `<div class="charts">` +
    `<figure><figcaption>Sold vs stock</figcaption>${soldVsStockChart(sold)}</figure>` +
    `<figure><figcaption>Sales over time</figcaption>${salesOverTimeChart(screen.sales)}</figure>` +
    `</div>`
  );
}

/** sales per second while the run was selling: up to its last sale, not through the sold-out answers */
function salesRate(run: RunResult): number {
  const { bucketMs, sold } = run.timeline;
  const lastBucket = sold.reduce((last, count, i) => (count > 0 ? i : last), -1);
  const sellingMs = Math.min(run.durationMs, (lastBucket + 1) * bucketMs);
  return sellingMs > 0 ? Math.round((run.sold / sellingMs) * 1000) : 0;
}

/** A finished run's card: its verdict, and whether its stock adds up. */
export function finishedCard(run: RunResult, held: boolean | null): EndpointCard {
  const log = run.unitsInLog === null ? 'n/a' : number(run.unitsInLog);
  const final = run.finalStock === null ? 'n/a' : number(run.finalStock);
  const conserved = run.conserved === true && (run.finalStock ?? 0) >= 0;
  const unsafeOff = run.answered > 0 && run.statuses['404'] === run.answered;
  const verdict =
    run.mode === 'safe'
      ? held === null
        ? undefined
        : { held, text: held ? 'HELD' : 'BROKE' }
      : unsafeOff
        ? { held: true, text: 'OFF (404)' }
        : { held: run.oversold === 0 && conserved, text: run.oversold > 0 ? 'OVERSOLD' : 'HELD' };
  return {
    mode: run.mode,
    state: 'done',
    stock: run.stock,
    sold: run.sold,
    oversold: run.oversold,
    stockLeft: run.finalStock,
    ...(run.conserved === null
      ? {}
      : {
          addsUp: conserved
            ? { held: true, text: `${number(run.stock)} = ${final} left + ${log} sold` }
            : { held: false, text: `${number(run.stock)} ≠ ${final} left + ${log} sold` },
        }),
    salesPerSecond: salesRate(run),
    latencyMs: run.latencyMs,
    answersByInstance: run.answersByInstance,
    ...(verdict ? { verdict } : {}),
  };
}

export function reportTitle(report: Pick<AttackReport, 'sku' | 'stock' | 'requests'>): string {
  return `Flash sale: ${report.stock} in stock, ${report.requests} buyers per endpoint`;
}

function reportMeta(report: AttackReport): string {
  const fleet = report.fleet
    ? ` · ${report.fleet.instances} instances, UNSAFE_DELAY_MS=${report.fleet.unsafeDelayMs}`
    : '';
  return `${report.target} · sku ${report.sku} · ${report.connections} connections${fleet} · ${report.startedAt}`;
}

/** The first screen of a finished report: the live page's last state and the report's top. */
export function finalScreen(report: AttackReport): Screen {
  const runs = runsInOrder(report);
  return {
    title: reportTitle(report),
    meta: reportMeta(report),
    cards: runs.map((run) => finishedCard(run, report.safeHeld)),
    sales: runs.map(salesSeries),
  };
}

/** The style of the first screen, for a 1280×720 projector seen from the back of a room. */
export const SCREEN_STYLE = `
* { box-sizing: border-box; }
body { margin: 0; font: 18px/1.3 system-ui, -apple-system, "Segoe UI", sans-serif; color: ${COLORS.text}; background: #fff; }
.screen { max-width: 1280px; margin: 0 auto; padding: 10px 20px; }
header { display: flex; justify-content: space-between; align-items: baseline; gap: 1rem; flex-wrap: wrap; }
h1 { font-size: 26px; margin: 0; }
.meta { color: ${COLORS.muted}; font-size: 14px; margin: 0; }
.cards { display: grid; grid-template-columns: minmax(0, 1fr) minmax(0, 1fr); gap: 16px; margin-top: 8px; }
.card { border: 4px solid #d0d7de; border-radius: 10px; padding: 8px 16px; }
.card.good { border-color: ${COLORS.good}; }
.card.bad { border-color: ${COLORS.bad}; }
.card h2 { font-size: 28px; margin: 0; display: flex; justify-content: space-between; align-items: center; gap: 8px; flex-wrap: wrap; }
.card h2 code { font-size: 18px; font-weight: normal; color: ${COLORS.muted}; }
.badge { font-size: 22px; padding: 2px 12px; border-radius: 6px; color: #fff; white-space: nowrap; }
.badge.good { background: ${COLORS.good}; }
.badge.bad { background: ${COLORS.bad}; }
.badge.plain { background: #6e7781; }
.what { font-size: 19px; margin: 2px 0 6px; min-height: 2.6em; }
.figures { display: grid; grid-template-columns: repeat(3, 1fr); gap: 8px; }
.figure .label { font-size: 16px; font-weight: bold; text-transform: uppercase; letter-spacing: 0.04em; color: ${COLORS.muted}; }
.figure .value { font-size: 52px; font-weight: 800; line-height: 1.05; font-variant-numeric: tabular-nums; }
.figure .note { font-size: 16px; min-height: 1.3em; }
.figure.good .value, .figure.good .note { color: ${COLORS.good}; }
.figure.bad .value, .figure.bad .note { color: ${COLORS.bad}; }
.rates, .instances { margin: 4px 0 0; font-size: 18px; font-variant-numeric: tabular-nums; }
.charts { display: grid; grid-template-columns: minmax(0, 1fr) minmax(0, 1fr); gap: 16px; margin-top: 8px; }
figure { margin: 0; }
figcaption { font-weight: bold; }
svg.chart { width: 100%; height: auto; max-height: 225px; font-size: 16px; fill: ${COLORS.text}; }
`;
