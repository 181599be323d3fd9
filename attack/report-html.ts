import { rowsFor, runsInOrder } from './report-table';
import type { AttackReport, RunResult } from './run-result';

/**
 * One self-contained HTML page a presenter can open offline or put on a slide: the comparison table, a
 * bar chart of sold against stock for each endpoint, and the sales over time. Charts are inline SVG and
 * the style is inline CSS: no script, no CDN, no font download. Every value that comes from outside (the
 * target URL, the SKU, instance ids from response headers) is HTML-escaped.
 */
const ENTITIES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

export function escapeHtml(value: unknown): string {
  return String(value).replace(/[&<>"']/g, (char) => ENTITIES[char] ?? char);
}

const COLORS = { unsafe: '#d1342f', safe: '#2e8540', stock: '#8a8f98', grid: '#e3e5e8', text: '#24292f' };

/** A round number at or above `value` (1, 1.5, 2, 2.5, 3, 4, 5, 6, 8 times a power of ten): the axis's top. */
function niceCeiling(value: number): number {
  if (value <= 0) return 1;
  const power = 10 ** Math.floor(Math.log10(value));
  const step = [1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10].find((m) => m * power >= value) ?? 10;
  return step * power;
}

/** Time ticks at a round step (1, 2 or 5 times a power of ten), at most about six of them. */
function timeTicks(maxMs: number): number[] {
  const rough = maxMs / 6;
  const power = 10 ** Math.floor(Math.log10(Math.max(1, rough)));
  const step = ([1, 2, 5, 10].find((m) => m * power >= rough) ?? 10) * power;
  return Array.from({ length: Math.floor(maxMs / step) + 1 }, (_, i) => i * step);
}

function ticks(max: number, count = 5): number[] {
  return Array.from({ length: count + 1 }, (_, i) => (max / count) * i);
}

const fmt = (value: number): string => String(Math.round(value * 10) / 10);

const W = 640;
const H = 320;
const M = { top: 30, right: 20, bottom: 50, left: 76 };
const plotW = W - M.left - M.right;
const plotH = H - M.top - M.bottom;

function yAxis(max: number, label: string): string {
  const lines = ticks(max).map((tick) => {
    const y = M.top + plotH - (tick / max) * plotH;
    return (
      `<line x1="${M.left}" y1="${fmt(y)}" x2="${M.left + plotW}" y2="${fmt(y)}" stroke="${COLORS.grid}"/>` +
      `<text x="${M.left - 8}" y="${fmt(y + 4)}" text-anchor="end">${fmt(tick)}</text>`
    );
  });
  const mid = M.top + plotH / 2;
  return (
    lines.join('') +
    `<text x="14" y="${fmt(mid)}" transform="rotate(-90 14 ${fmt(mid)})" text-anchor="middle">${escapeHtml(label)}</text>`
  );
}

/** Sold against stock, one group of two bars per endpoint, and the stock as a dashed line across. */
export function soldVsStockChart(runs: readonly RunResult[]): string {
  const max = niceCeiling(Math.max(1, ...runs.flatMap((run) => [run.sold, run.stock])));
  const group = plotW / Math.max(1, runs.length);
  const bar = Math.min(70, group / 3);
  const y = (value: number): number => M.top + plotH - (value / max) * plotH;
  const bars = runs.map((run, i) => {
    const x0 = M.left + group * i + group / 2 - bar - 4;
    const soldColor = run.sold > run.stock ? COLORS.unsafe : COLORS.safe;
    return (
      `<rect x="${fmt(x0)}" y="${fmt(y(run.stock))}" width="${fmt(bar)}" height="${fmt(M.top + plotH - y(run.stock))}" fill="${COLORS.stock}"><title>stock ${run.stock}</title></rect>` +
      `<text x="${fmt(x0 + bar / 2)}" y="${fmt(y(run.stock) - 6)}" text-anchor="middle">${run.stock}</text>` +
      `<rect x="${fmt(x0 + bar + 8)}" y="${fmt(y(run.sold))}" width="${fmt(bar)}" height="${fmt(M.top + plotH - y(run.sold))}" fill="${soldColor}"><title>sold ${run.sold}</title></rect>` +
      `<text x="${fmt(x0 + bar * 1.5 + 8)}" y="${fmt(y(run.sold) - 6)}" text-anchor="middle" font-weight="bold">${run.sold}</text>` +
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
export function salesOverTimeChart(runs: readonly RunResult[]): string {
  const series = runs.map((run) => {
    let total = 0;
    const points = [{ t: 0, sold: 0 }];
    run.timeline.sold.forEach((count, i) => {
      total += count;
      points.push({ t: Math.min(run.durationMs, (i + 1) * run.timeline.bucketMs), sold: total });
    });
    return { run, points };
  });
  const maxT = Math.max(1, ...runs.map((run) => run.durationMs));
  const maxSold = niceCeiling(Math.max(1, ...runs.flatMap((run) => [run.sold, run.stock])));
  const x = (t: number): number => M.left + (t / maxT) * plotW;
  const y = (value: number): number => M.top + plotH - (value / maxSold) * plotH;
  const xTicks = timeTicks(maxT)
    .map(
      (t) => `<text x="${fmt(x(t))}" y="${M.top + plotH + 18}" text-anchor="middle">${fmt(t / 1000)}</text>`,
    )
    .join('');
  const stockLines = [...new Set(runs.map((run) => run.stock))]
    .map(
      (stock) =>
        `<line x1="${M.left}" y1="${fmt(y(stock))}" x2="${M.left + plotW}" y2="${fmt(y(stock))}" stroke="${COLORS.stock}" stroke-width="2" stroke-dasharray="6 4"/>` +
        `<text x="${M.left + plotW - 4}" y="${fmt(y(stock) - 6)}" text-anchor="end">stock ${stock}</text>`,
    )
    .join('');
  const lines = series
    .map(({ run, points }) => {
      const path = points.map((p) => `${fmt(x(p.t))},${fmt(y(p.sold))}`).join(' ');
      const last = points[points.length - 1] ?? { t: 0, sold: 0 };
      return (
        `<polyline points="${path}" fill="none" stroke="${COLORS[run.mode]}" stroke-width="3"/>` +
        `<text x="${fmt(Math.min(x(last.t) + 6, M.left + plotW - 4))}" y="${fmt(y(last.sold) - 8)}" text-anchor="end" fill="${COLORS[run.mode]}" font-weight="bold">${escapeHtml(run.mode)} ${last.sold}</text>`
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

function table(report: AttackReport, runs: readonly RunResult[]): string {
  const head = runs
    .map((run) => `<th>${escapeHtml(run.mode)}<br/><code>POST ${escapeHtml(run.endpoint)}</code></th>`)
    .join('');
  const rows = rowsFor(report).map((row) => {
    const cells = runs
      .map((run) => {
        const cell = row.cell(run);
        return `<td class="${cell.tone}">${escapeHtml(cell.text)}</td>`;
      })
      .join('');
    return `<tr><th scope="row">${escapeHtml(row.label)}</th>${cells}</tr>`;
  });
  return `<table><thead><tr><th></th>${head}</tr></thead><tbody>${rows.join('')}</tbody></table>`;
}

const STYLE = `
body { font: 16px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: ${COLORS.text}; margin: 2rem auto; max-width: 1400px; padding: 0 1rem; }
h1 { font-size: 1.6rem; margin-bottom: 0.2rem; }
.meta { color: #57606a; margin-top: 0; }
table { border-collapse: collapse; margin: 1rem 0 2rem; font-variant-numeric: tabular-nums; }
th, td { border: 1px solid ${COLORS.grid}; padding: 0.35rem 0.8rem; text-align: left; }
thead th { background: #f6f8fa; }
td.good { color: ${COLORS.safe}; font-weight: bold; }
td.bad { color: ${COLORS.unsafe}; font-weight: bold; }
.charts { display: flex; flex-wrap: wrap; gap: 2rem; }
figure { margin: 0; flex: 1 1 560px; }
figcaption { font-weight: bold; margin-bottom: 0.4rem; }
svg.chart { width: 100%; height: auto; font-size: 13px; fill: ${COLORS.text}; }
.verdict { font-size: 1.2rem; font-weight: bold; }
.verdict .bad { color: ${COLORS.unsafe}; }
.verdict .good { color: ${COLORS.safe}; }
`;

function verdict(report: AttackReport): string {
  const parts: string[] = [];
  const { unsafe, safe } = report.runs;
  if (unsafe) {
    parts.push(
      `<span class="${unsafe.oversold > 0 ? 'bad' : 'good'}">unsafe: sold ${unsafe.sold} of ${unsafe.stock}, oversold by ${unsafe.oversold}</span>`,
    );
  }
  if (safe) {
    parts.push(
      `<span class="${report.safeHeld === true ? 'good' : 'bad'}">safe: sold ${safe.sold} of ${safe.stock}, oversold by ${safe.oversold}</span>`,
    );
  }
  return `<p class="verdict">${parts.join(' &middot; ')}</p>`;
}

export function renderHtmlReport(report: AttackReport): string {
  const runs = runsInOrder(report);
  const title = `Flash sale: ${report.sku}, ${report.stock} in stock, ${report.requests} buyers`;
  const fleet = report.fleet
    ? ` &middot; ${report.fleet.instances} instances, UNSAFE_DELAY_MS=${report.fleet.unsafeDelayMs}`
    : '';
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8"/>
<meta name="viewport" content="width=device-width, initial-scale=1"/>
<title>${escapeHtml(title)}</title>
<style>${STYLE}</style>
</head>
<body>
<h1>${escapeHtml(title)}</h1>
<p class="meta">${escapeHtml(report.target)} &middot; ${report.requests} requests over ${report.connections} connections${fleet} &middot; ${escapeHtml(report.startedAt)}</p>
${verdict(report)}
${table(report, runs)}
<div class="charts">
<figure><figcaption>Sold vs stock</figcaption>${soldVsStockChart(runs)}</figure>
<figure><figcaption>Sales over time</figcaption>${salesOverTimeChart(runs)}</figure>
</div>
</body>
</html>
`;
}
