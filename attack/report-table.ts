import type { Mode } from './attack-options';
import { verified } from './run-result';
import type { AttackReport, RunResult, SystemOfRecordCheck } from './run-result';

/**
 * The side-by-side table a presenter puts on the screen: one row per figure, one column per endpoint.
 * Colour only helps the eye (red where the invariant broke, green where it held), so it is used on a
 * terminal and left out when the output is piped or NO_COLOR is set.
 */
export interface TableStyle {
  readonly color: boolean;
}

const ANSI = { red: '\x1b[31m', green: '\x1b[32m', bold: '\x1b[1m', dim: '\x1b[2m', reset: '\x1b[0m' };

export function shouldColor(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv): boolean {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  if (env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== '0') return true;
  return stream.isTTY === true;
}

export type Tone = 'good' | 'bad' | 'plain';
export interface Cell {
  readonly text: string;
  readonly tone: Tone;
}
export interface Row {
  readonly label: string;
  readonly cell: (run: RunResult) => Cell;
  /** shown only for reports this holds for (default: every report) */
  readonly shownFor?: (report: AttackReport) => boolean;
}

const withSystemOfRecord = (report: AttackReport): boolean =>
  runsInOrder(report).some((run) => run.systemOfRecord !== undefined);

function verifyCell(check: SystemOfRecordCheck | undefined): Cell {
  if (!check) return plain('n/a');
  if (verified(check)) return judged('ok: Redis and PostgreSQL agree', true);
  if (check.findings.length === 0) return judged(`${check.backlog} orders not exported yet`, false);
  const kinds = [...new Set(check.findings.map((finding) => finding.kind))].join(', ');
  return judged(`DRIFT: ${check.findings.length} (${kinds})`, false);
}

const plain = (text: string | number): Cell => ({ text: String(text), tone: 'plain' });
const judged = (text: string | number, good: boolean): Cell => ({
  text: String(text),
  tone: good ? 'good' : 'bad',
});
const unknown = (value: number | null): string => (value === null ? 'n/a' : String(value));

function spread(counts: Record<string, number>): string {
  const entries = Object.entries(counts).sort(([a], [b]) => a.localeCompare(b, 'en', { numeric: true }));
  return entries.length === 0 ? '-' : entries.map(([name, count]) => `${name}: ${count}`).join(', ');
}

function otherErrors(run: RunResult): string {
  const parts = Object.entries(run.errors).map(([status, count]) => `${status}: ${count}`);
  if (run.transportErrors > 0) parts.push(`transport: ${run.transportErrors}`);
  return parts.length === 0 ? '0' : parts.join(', ');
}

/** The rows of the comparison; the HTML report shows the same ones. */
export const ROWS: readonly Row[] = [
  { label: 'stock at start', cell: (run) => plain(run.stock) },
  { label: 'purchases answered', cell: (run) => plain(`${run.answered} of ${run.sent}`) },
  { label: 'sold (200)', cell: (run) => judged(run.sold, run.sold <= run.stock) },
  { label: 'sold out (409)', cell: (run) => plain(run.soldOut) },
  {
    label: 'other errors',
    cell: (run) =>
      judged(otherErrors(run), Object.keys(run.errors).length === 0 && run.transportErrors === 0),
  },
  { label: 'OVERSOLD', cell: (run) => judged(run.oversold, run.oversold === 0) },
  {
    label: 'lost updates',
    cell: (run) => judged(unknown(run.lostUpdates), run.lostUpdates === 0 || run.lostUpdates === null),
  },
  {
    label: 'final stock',
    // a stock that does not add up is no good news, however it looks: the unsafe run's leftover units
    // are the ones its lost updates put back
    cell: (run) =>
      run.finalStock === null
        ? plain('n/a')
        : judged(run.finalStock, run.finalStock >= 0 && run.conserved !== false),
  },
  { label: 'orders in the log', cell: (run) => plain(unknown(run.orders)) },
  {
    label: 'stock = final + log',
    cell: (run) =>
      run.conserved === null
        ? plain('n/a')
        : judged(
            run.conserved
              ? `yes (${run.stock} = ${unknown(run.finalStock)} + ${unknown(run.unitsInLog)})`
              : `NO (${run.stock} ≠ ${unknown(run.finalStock)} + ${unknown(run.unitsInLog)})`,
            run.conserved,
          ),
  },
  {
    label: 'orders in PostgreSQL',
    shownFor: withSystemOfRecord,
    cell: (run) =>
      run.systemOfRecord
        ? judged(
            `${run.systemOfRecord.inPostgres} of ${run.systemOfRecord.orders}`,
            run.systemOfRecord.inPostgres === run.systemOfRecord.orders,
          )
        : plain('n/a'),
  },
  { label: 'verify', shownFor: withSystemOfRecord, cell: (run) => verifyCell(run.systemOfRecord) },
  { label: 'duration', cell: (run) => plain(`${(run.durationMs / 1000).toFixed(2)} s`) },
  { label: 'requests/s', cell: (run) => plain(run.requestsPerSecond) },
  {
    label: 'latency p50/p95/p99',
    cell: (run) => plain(`${run.latencyMs.p50} / ${run.latencyMs.p95} / ${run.latencyMs.p99} ms`),
  },
  { label: 'sales per instance', cell: (run) => plain(spread(run.soldByInstance)) },
  { label: 'answers per instance', cell: (run) => plain(spread(run.answersByInstance)) },
];

/** the rows this report has figures for */
export function rowsFor(report: AttackReport): Row[] {
  return ROWS.filter((row) => row.shownFor?.(report) ?? true);
}

function paint(cell: Cell, style: TableStyle): string {
  if (!style.color || cell.tone === 'plain') return cell.text;
  return `${cell.tone === 'good' ? ANSI.green : ANSI.red}${cell.text}${ANSI.reset}`;
}

/** The runs of a report, unsafe first, as they were fired. */
export function runsInOrder(report: AttackReport): RunResult[] {
  return (['unsafe', 'safe'] as const).flatMap((mode: Mode) => {
    const run = report.runs[mode];
    return run ? [run] : [];
  });
}

export function formatTable(report: AttackReport, style: TableStyle): string {
  const runs = runsInOrder(report);
  const headers = ['', ...runs.map((run) => `${run.mode}  POST ${run.endpoint}`)];
  const body = rowsFor(report).map((row) => [plain(row.label), ...runs.map((run) => row.cell(run))]);
  const widths = headers.map((header, column) =>
    Math.max(header.length, ...body.map((cells) => cells[column]?.text.length ?? 0)),
  );
  const line = (cells: readonly Cell[]): string =>
    cells
      .map((cell, column) => {
        const pad = ' '.repeat((widths[column] ?? 0) - cell.text.length);
        return column === 0 ? `${cell.text}${pad}` : `${paint(cell, style)}${pad}`;
      })
      .join(' | ')
      .trimEnd();
  const rule = widths.map((width) => '-'.repeat(width)).join('-+-');
  const title = `${report.target}  sku ${report.sku}  stock ${report.stock}  ${report.requests} requests over ${report.connections} connections`;
  const heading = style.color ? `${ANSI.bold}${title}${ANSI.reset}` : title;
  const interrupted = runs.some((run) => run.interrupted)
    ? ['', 'interrupted (Ctrl-C): the figures cover what was sent before it.']
    : [];
  const lost = runs.find((run) => run.targetLost !== undefined);
  const wentAway = lost
    ? ['', `the target went away during the ${lost.mode} run: the figures cover the answers before it.`]
    : [];
  return [
    heading,
    '',
    line(headers.map(plain)),
    rule,
    ...body.map(line),
    ...interrupted,
    ...wentAway,
    '',
  ].join('\n');
}

function unsafeSentence(unsafe: RunResult): string {
  // "did not oversell this time" would be read as luck; against a deployment it usually means the
  // endpoint is switched off, which is the production default
  if (unsafe.answered > 0 && unsafe.statuses['404'] === unsafe.answered) {
    return 'unsafe endpoint is off on this target (404 to every purchase: UNSAFE_ENDPOINT=off, the production default)';
  }
  if (unsafe.oversold === 0) {
    return `unsafe did not oversell this time (sold ${unsafe.sold} of ${unsafe.stock})`;
  }
  // oversold counts the log when it holds more than the 200s said: name it, so that the sentence adds up
  const log = (unsafe.unitsInLog ?? 0) > unsafe.sold ? ` (${unsafe.unitsInLog} units in its log)` : '';
  return `unsafe sold ${unsafe.sold} of ${unsafe.stock}${log}: oversold by ${unsafe.oversold}`;
}

function recordSentence(safe: RunResult): string {
  const check = safe.systemOfRecord;
  return check ? `, and all ${check.orders} orders are in PostgreSQL once (verify: ok)` : '';
}

/** One sentence under the table, the one a presenter reads out. */
export function formatVerdict(report: AttackReport, style: TableStyle): string {
  const parts: string[] = [];
  const { unsafe, safe } = report.runs;
  if (unsafe) parts.push(unsafeSentence(unsafe));
  if (safe) {
    const held = report.safeHeld;
    const text =
      held === null
        ? `safe could not be checked`
        : held
          ? `safe sold ${safe.sold} of ${safe.stock}, never more: invariants held${recordSentence(safe)}`
          : `safe BROKE an invariant (sold ${safe.sold} of ${safe.stock}, ${unknown(safe.unitsInLog)} units in the log, ` +
            `final stock ${unknown(safe.finalStock)}, conserved: ${String(safe.conserved)})`;
    parts.push(style.color && held !== null ? `${held ? ANSI.green : ANSI.red}${text}${ANSI.reset}` : text);
  }
  return `${parts.join('; ')}\n`;
}
