import type { RoundResult } from './fairness-round';

export interface LabelledRound {
  /** e.g. "limits off", "limits on (1 per buyer, 10 per address, per 60 s)", "as deployed" */
  readonly label: string;
  /** run with the service's rate limits on: the round the verdict is taken from */
  readonly limited: boolean;
  readonly result: RoundResult;
}

const percent = (share: number): string => `${(share * 100).toFixed(1)} %`;

/** The fairness table: one line per round. */
export function fairnessTable(rounds: readonly LabelledRound[]): string {
  const header = [
    '',
    'to bots',
    'to buyers',
    'buyers served',
    "buyers' share",
    'fair share',
    'bot attempts',
    'bot 429s',
  ];
  const rows = rounds.map(({ label, result }) => [
    label,
    String(result.bots.units),
    String(result.buyers.units),
    `${result.buyers.served} / ${result.buyers.clients}`,
    percent(result.buyersShare),
    percent(result.fairShare),
    String(result.bots.attempts),
    String(result.bots.statuses['429'] ?? 0),
  ]);
  const widths = header.map((_, i) => Math.max(...[header, ...rows].map((row) => (row[i] ?? '').length)));
  const line = (row: readonly string[]): string =>
    row.map((cell, i) => (i === 0 ? cell.padEnd(widths[i] ?? 0) : cell.padStart(widths[i] ?? 0))).join('  ');
  return [line(header), ...rows.map(line)].join('\n') + '\n';
}

/** true when the buyers got at least their fair share of what was sold */
export const fair = (result: RoundResult): boolean => result.buyersShare >= result.fairShare;
