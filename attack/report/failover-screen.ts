import type { FailoverReport, FailoverRun } from '../chaos/failover-result';
import { failoverHeld } from '../chaos/failover-result';
import { COLORS, fmt, niceCeiling, timeTicks, yAxis } from './charts';
import { escapeHtml } from './escape-html';
import { SCREEN_STYLE, figure, number } from './first-screen';

/**
 * The failover act's screen, live and in its report: one card per REDIS_WAIT_REPLICAS setting with the
 * figures that matter as big numbers, and the storm as a timeline (sales and 503s per quarter second)
 * with the kill and the promotion marked.
 */
const WHAT_WAIT_DOES: Record<number, string> = {
  0: 'a purchase is answered 200 as soon as the primary has it',
  1: 'a purchase is answered 200 once a replica holds it too (WAIT)',
};

export interface FailoverCard {
  readonly waitReplicas: number;
  readonly state: 'waiting' | 'running' | 'done';
  readonly run?: FailoverRun;
}

/** a duration from afar: seconds, one decimal */
export const secondsText = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;

const W = 640;
const H = 250;
const M = { top: 34, right: 16, bottom: 40, left: 76 };
const plotW = W - M.left - M.right;
const plotH = H - M.top - M.bottom;

/** sales and 503s per bucket as stacked bars, with the kill, the promotion and the recovery marked */
function failoverTimeline(run: FailoverRun): string {
  const { bucketMs, ok, unavailable, other } = run.timeline;
  const perSecond = 1000 / bucketMs;
  const totals = ok.map((count, i) => count + (unavailable[i] ?? 0) + (other[i] ?? 0));
  const max = niceCeiling(Math.max(1, ...totals) * perSecond);
  const maxT = Math.max(1, ok.length * bucketMs);
  const x = (t: number): number => M.left + (t / maxT) * plotW;
  const h = (count: number): number => ((count * perSecond) / max) * plotH;
  const barW = Math.max(1, plotW / Math.max(1, ok.length) - 1);
  const bars = ok
    .map((count, i) => {
      const x0 = fmt(x(i * bucketMs));
      const okH = h(count);
      const badH = h(unavailable[i] ?? 0);
      const otherH = h(other[i] ?? 0);
      const base = M.top + plotH;
      return (
        `<rect x="${x0}" y="${fmt(base - okH)}" width="${fmt(barW)}" height="${fmt(okH)}" fill="${COLORS.good}"/>` +
        `<rect x="${x0}" y="${fmt(base - okH - badH)}" width="${fmt(barW)}" height="${fmt(badH)}" fill="${COLORS.bad}"/>` +
        `<rect x="${x0}" y="${fmt(base - okH - badH - otherH)}" width="${fmt(barW)}" height="${fmt(otherH)}" fill="${COLORS.stock}"/>`
      );
    })
    .join('');
  const marks = [
    { at: run.killedAtMs, text: 'primary killed', anchor: 'end' },
    { at: run.promotedAtMs, text: 'replica promoted', anchor: 'start' },
  ]
    .filter((mark): mark is { at: number; text: string; anchor: string } => mark.at !== null)
    .map(
      (mark, i) =>
        `<line x1="${fmt(x(mark.at))}" y1="${M.top - 4}" x2="${fmt(x(mark.at))}" y2="${M.top + plotH}" stroke="${COLORS.text}" stroke-width="2" stroke-dasharray="5 3"/>` +
        `<text x="${fmt(x(mark.at) + (mark.anchor === 'end' ? -4 : 4))}" y="${M.top - 8 + i * 0}" text-anchor="${mark.anchor}" font-weight="bold">${mark.text}</text>`,
    )
    .join('');
  const xTicks = timeTicks(maxT)
    .map(
      (t) => `<text x="${fmt(x(t))}" y="${M.top + plotH + 18}" text-anchor="middle">${fmt(t / 1000)}</text>`,
    )
    .join('');
  return (
    `<svg class="chart timeline" viewBox="0 0 ${W} ${H}" role="img" aria-label="answers per second over the storm, the failover marked">` +
    yAxis(max, 'answers/s', { top: M.top, left: M.left, plotW, plotH }) +
    bars +
    marks +
    xTicks +
    `<text x="${M.left + plotW / 2}" y="${H - 4}" text-anchor="middle">seconds into the storm · <tspan fill="${COLORS.good}">■ 200 sold</tspan> · <tspan fill="${COLORS.bad}">■ 503 unavailable</tspan> · <tspan fill="${COLORS.stock}">■ other</tspan></text>` +
    `</svg>`
  );
}

function badge(card: FailoverCard): string {
  if (card.state === 'waiting') return '<span class="badge plain">waiting</span>';
  if (card.state === 'running' || !card.run) return '<span class="badge plain">running…</span>';
  const run = card.run;
  if (run.oversold > 0 || !run.conserved) return '<span class="badge bad">✗ BROKE</span>';
  return run.lostAcknowledged > 0
    ? `<span class="badge bad">✗ LOST ${number(run.lostAcknowledged)} ORDERS</span>`
    : '<span class="badge good">✓ NOTHING LOST</span>';
}

function renderFailoverCard(card: FailoverCard): string {
  const run = card.run;
  const done = card.state === 'done';
  const tone = done && run ? (run.lostAcknowledged === 0 && run.oversold === 0 ? 'good' : 'bad') : 'plain';
  const figures = run
    ? [
        run.oversold > 0
          ? figure('oversold', number(run.oversold), 'bad', '✗ units that never existed', 'oversold')
          : figure('oversold', '0', done ? 'good' : 'plain', done ? '✓ none' : 'none so far', 'oversold'),
        done
          ? run.lostAcknowledged > 0
            ? figure(
                'lost 200s',
                number(run.lostAcknowledged),
                'bad',
                '✗ answered 200, gone afterwards',
                'lost',
              )
            : figure('lost 200s', '0', 'good', '✓ every 200 is in the log', 'lost')
          : figure('lost 200s', '…', 'plain', 'counted at the end', 'lost'),
        figure('503s', number(run.unavailableDuringFailover), 'plain', 'during the failover', 'unavailable'),
        figure(
          'back after',
          run.recoveredAtMs !== null && run.killedAtMs !== null
            ? secondsText(run.recoveredAtMs - run.killedAtMs)
            : '…',
          'plain',
          'from the kill to a sale',
          'recovery',
        ),
      ].join('')
    : '';
  return (
    `<section class="card ${tone}" data-wait="${card.waitReplicas}" data-state="${card.state}">` +
    `<h2 class="wait"><span>REDIS_WAIT_REPLICAS=${card.waitReplicas}</span>${badge(card)}</h2>` +
    `<p class="what">${escapeHtml(WHAT_WAIT_DOES[card.waitReplicas] ?? '')}</p>` +
    `<div class="figures four">${figures}</div>` +
    (run
      ? `<p class="rates"><b>${number(run.answered200)}</b> sold (200) · answers per instance: ${Object.entries(
          run.answersByInstance,
        )
          .map(([name, count]) => `${escapeHtml(name)} ${number(count)}`)
          .join(' · ')}</p>${failoverTimeline(run)}`
      : '<p class="rates">starts when the run before it is done</p>') +
    `</section>`
  );
}

const FAILOVER_TITLE = 'Failover: the Redis primary killed mid-sale';

export function failoverMeta(instances: number, connections: number, replicationCutMs: number): string {
  return (
    `a primary, a replica, 3 sentinels · ${instances} instances · ${connections} connections · ` +
    `the replica's link cut ${replicationCutMs} ms before the kill, as a split between zones`
  );
}

export function renderFailoverScreen(meta: string, cards: readonly FailoverCard[]): string {
  return (
    `<header><h1>${escapeHtml(FAILOVER_TITLE)}</h1><p class="meta">${escapeHtml(meta)}</p></header>` +
    `<div class="cards">${cards.map(renderFailoverCard).join('')}</div>`
  );
}

export function failoverCards(report: FailoverReport): FailoverCard[] {
  return report.runs.map((run) => ({ waitReplicas: run.waitReplicas, state: 'done', run }));
}

export const FAILOVER_STYLE = `
.figures.four { grid-template-columns: repeat(4, 1fr); }
.figures.four .value { font-size: 42px; }
.card h2.wait { font-size: 24px; }
.card h2.wait .badge { font-size: 19px; }
svg.timeline { max-height: 260px; margin-top: 4px; }
`;

export function renderFailoverReport(report: FailoverReport): string {
  const meta = `${failoverMeta(report.instances, report.connections, report.replicationCutMs)} · ${report.startedAt}`;
  const held = failoverHeld(report);
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8"/>
<meta name="viewport" content="width=device-width, initial-scale=1"/>
<title>${escapeHtml(FAILOVER_TITLE)}</title>
<style>${SCREEN_STYLE}${FAILOVER_STYLE}</style>
</head>
<body>
<main class="screen" id="screen">${renderFailoverScreen(meta, failoverCards(report))}</main>
<section class="screen details"><p class="verdict">${held ? '✓ no oversell and no acknowledged order lost with WAIT' : '✗ an invariant broke: see the figures'}</p>
<pre>${escapeHtml(formatFailoverTable(report))}</pre></section>
</body>
</html>
`;
}

/** the terminal's table, one column per setting */
export function formatFailoverTable(report: FailoverReport): string {
  const rows: [string, (run: FailoverRun) => string][] = [
    ['sold (200)', (run) => String(run.answered200)],
    ['orders in the log afterwards', (run) => String(run.ordersInLog)],
    ['in the log, answered 503 (outcome unknown)', (run) => String(run.inLogNotAnswered200)],
    ['OVERSOLD', (run) => String(run.oversold)],
    ['answered 200, missing afterwards', (run) => String(run.lostAcknowledged)],
    ['stock = left + log', (run) => (run.conserved ? 'yes' : 'NO')],
    ['503s during the failover', (run) => String(run.unavailableDuringFailover)],
    [
      'kill → replica promoted',
      (run) =>
        run.killedAtMs !== null && run.promotedAtMs !== null
          ? secondsText(run.promotedAtMs - run.killedAtMs)
          : 'n/a',
    ],
    [
      'kill → first sale again',
      (run) =>
        run.killedAtMs !== null && run.recoveredAtMs !== null
          ? secondsText(run.recoveredAtMs - run.killedAtMs)
          : 'never',
    ],
    [
      'answers by status',
      (run) =>
        Object.entries(run.statuses)
          .map(([status, count]) => `${status === '0' ? 'none' : status}: ${count}`)
          .join(', '),
    ],
  ];
  const headers = ['', ...report.runs.map((run) => `REDIS_WAIT_REPLICAS=${run.waitReplicas}`)];
  const body = rows.map(([label, cell]) => [label, ...report.runs.map(cell)]);
  const widths = headers.map((header, column) =>
    Math.max(header.length, ...body.map((cells) => (cells[column] ?? '').length)),
  );
  const line = (cells: readonly string[]): string =>
    cells
      .map((cell, column) => cell.padEnd(widths[column] ?? 0))
      .join(' | ')
      .trimEnd();
  return [line(headers), widths.map((width) => '-'.repeat(width)).join('-+-'), ...body.map(line), ''].join(
    '\n',
  );
}
