import type { Mode } from '../attack-options';
import type { RunResult } from '../run-result';
import { escapeHtml } from './escape-html';

/**
 * Inline SVG charts, shared by the report and the live page. Red and green mean bad and good, and every
 * coloured mark has its words beside it (a label, a title), for a projector and for readers who do not
 * tell the two apart.
 */
export const COLORS = {
  bad: '#c62828',
  good: '#1b7a36',
  unsafe: '#c62828',
  safe: '#1b7a36',
  stock: '#8a8f98',
  grid: '#e3e5e8',
  text: '#1f2328',
  muted: '#57606a',
};

/** What the sold-vs-stock chart needs of a run: a finished one, or one still going on the live page. */
export type SoldVsStock = Pick<RunResult, 'mode' | 'stock' | 'sold'>;

/** Cumulative sales of one run since its first request. */
export interface SalesSeries {
  readonly mode: Mode;
  readonly stock: number;
  readonly points: readonly { readonly t: number; readonly sold: number }[];
}

/** A finished run's timeline as cumulative points. */
export function salesSeries(run: RunResult): SalesSeries {
  let total = 0;
  const points = [{ t: 0, sold: 0 }];
  run.timeline.sold.forEach((count, i) => {
    total += count;
    points.push({ t: Math.min(run.durationMs, (i + 1) * run.timeline.bucketMs), sold: total });
  });
  return { mode: run.mode, stock: run.stock, points };
}

/** A round number at or above `value` (1, 1.5, 2, 2.5, 3, 4, 5, 6, 8 times a power of ten): the axis's top. */
export function niceCeiling(value: number): number {
  if (value <= 0) return 1;
  const power = 10 ** Math.floor(Math.log10(value));
  const step = [1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10].find((m) => m * power >= value) ?? 10;
  return step * power;
}

/** Time ticks at a round step (1, 2 or 5 times a power of ten), at most about six of them. */
export function timeTicks(maxMs: number): number[] {
  const rough = maxMs / 6;
  const power = 10 ** Math.floor(Math.log10(Math.max(1, rough)));
  const step = ([1, 2, 5, 10].find((m) => m * power >= rough) ?? 10) * power;
  return Array.from({ length: Math.floor(maxMs / step) + 1 }, (_, i) => i * step);
}

function ticks(max: number, count = 5): number[] {
  return Array.from({ length: count + 1 }, (_, i) => (max / count) * i);
}

export const fmt = (value: number): string => String(Math.round(value * 10) / 10);

const W = 640;
const H = 300;
const M = { top: 24, right: 20, bottom: 46, left: 76 };
const plotW = W - M.left - M.right;
const plotH = H - M.top - M.bottom;

/** where a chart draws: its plot area inside the SVG */
export interface PlotArea {
  readonly top: number;
  readonly left: number;
  readonly plotW: number;
  readonly plotH: number;
}

export function yAxis(
  max: number,
  label: string,
  area: PlotArea = { top: M.top, left: M.left, plotW, plotH },
): string {
  const lines = ticks(max).map((tick) => {
    const y = area.top + area.plotH - (tick / max) * area.plotH;
    return (
      `<line x1="${area.left}" y1="${fmt(y)}" x2="${area.left + area.plotW}" y2="${fmt(y)}" stroke="${COLORS.grid}"/>` +
      `<text x="${area.left - 8}" y="${fmt(y + 4)}" text-anchor="end">${fmt(tick)}</text>`
    );
  });
  const mid = area.top + area.plotH / 2;
  return (
    lines.join('') +
    `<text x="14" y="${fmt(mid)}" transform="rotate(-90 14 ${fmt(mid)})" text-anchor="middle">${escapeHtml(label)}</text>`
  );
}

/** Sold against stock, one group of two bars per endpoint, and the stock as a dashed line across. */
export function soldVsStockChart(runs: readonly SoldVsStock[]): string {
  const max = niceCeiling(Math.max(1, ...runs.flatMap((run) => [run.sold, run.stock])));
  const group = plotW / Math.max(1, runs.length);
  const bar = Math.min(70, group / 3);
  const y = (value: number): number => M.top + plotH - (value / max) * plotH;
  const bars = runs.map((run, i) => {
    const x0 = M.left + group * i + group / 2 - bar - 4;
    const soldColor = run.sold > run.stock ? COLORS.bad : COLORS.good;
    return (
      `<rect x="${fmt(x0)}" y="${fmt(y(run.stock))}" width="${fmt(bar)}" height="${fmt(M.top + plotH - y(run.stock))}" fill="${COLORS.stock}"><title>stock ${run.stock}</title></rect>` +
      `<text x="${fmt(x0 + bar / 2)}" y="${fmt(y(run.stock) - 6)}" text-anchor="middle">${run.stock}</text>` +
      `<rect x="${fmt(x0 + bar + 8)}" y="${fmt(y(run.sold))}" width="${fmt(bar)}" height="${fmt(M.top + plotH - y(run.sold))}" fill="${soldColor}"><title>sold ${run.sold}</title></rect>` +
      `<text x="${fmt(x0 + bar * 1.5 + 8)}" y="${fmt(y(run.sold) - 6)}" text-anchor="middle" font-weight="bold">${run.sold}${run.sold > run.stock ? ' ✗' : ' ✓'}</text>` +
      `<text x="${fmt(M.left + group * i + group / 2)}" y="${H - 24}" text-anchor="middle" font-weight="bold">${escapeHtml(run.mode)}</text>` +
      `<text x="${fmt(M.left + group * i + group / 2)}" y="${H - 8}" text-anchor="middle">stock | sold</text>`
    );
  });
  return (
    `<svg class="chart" viewBox="0 0 ${W} ${H}" role="img" aria-labelledby="sold-title">` +
    `<title id="sold-title">Units sold against units in stock, per endpoint</title>` +
    yAxis(max, 'units') +
    bars.join('') +
    `</svg>`
  );
}

/** Cumulative sales of each run over time since its first request, with the stock as the line not to cross. */
export function salesOverTimeChart(series: readonly SalesSeries[]): string {
  const lastOf = (one: SalesSeries): { t: number; sold: number } =>
    one.points[one.points.length - 1] ?? { t: 0, sold: 0 };
  const maxT = Math.max(1, ...series.map((one) => lastOf(one).t));
  const maxSold = niceCeiling(Math.max(1, ...series.flatMap((one) => [lastOf(one).sold, one.stock])));
  const x = (t: number): number => M.left + (t / maxT) * plotW;
  const y = (value: number): number => M.top + plotH - (value / maxSold) * plotH;
  const xTicks = timeTicks(maxT)
    .map(
      (t) => `<text x="${fmt(x(t))}" y="${M.top + plotH + 18}" text-anchor="middle">${fmt(t / 1000)}</text>`,
    )
    .join('');
  const stockLines = [...new Set(series.map((one) => one.stock))]
    .map(
      (stock) =>
        `<line x1="${M.left}" y1="${fmt(y(stock))}" x2="${M.left + plotW}" y2="${fmt(y(stock))}" stroke="${COLORS.stock}" stroke-width="2" stroke-dasharray="6 4"/>` +
        `<text x="${M.left + plotW - 4}" y="${fmt(y(stock) - 6)}" text-anchor="end">stock ${stock}</text>`,
    )
    .join('');
  const lines = series
    .map((one) => {
      const path = one.points.map((p) => `${fmt(x(p.t))},${fmt(y(p.sold))}`).join(' ');
      const last = lastOf(one);
      return (
        `<polyline points="${path}" fill="none" stroke="${COLORS[one.mode]}" stroke-width="3"/>` +
        `<text x="${fmt(Math.min(x(last.t) + 6, M.left + plotW - 4))}" y="${fmt(y(last.sold) - 8)}" text-anchor="end" fill="${COLORS[one.mode]}" font-weight="bold">${escapeHtml(one.mode)} ${last.sold}</text>`
      );
    })
    .join('');
  return (
    `<svg class="chart" viewBox="0 0 ${W} ${H}" role="img" aria-labelledby="time-title">` +
    `<title id="time-title">Units sold over time since the first request, per endpoint</title>` +
    yAxis(maxSold, 'units sold (cumulative)') +
    xTicks +
    `<text x="${M.left + plotW / 2}" y="${H - 8}" text-anchor="middle">seconds since the first request</text>` +
    stockLines +
    lines +
    `</svg>`
  );
}
