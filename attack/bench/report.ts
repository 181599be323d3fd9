/** What one measurement found, and how several rounds are summed up: medians and paired ratios. */
export const SCENARIOS = ['bare', 'safe', 'unsafe', 'sold-out'] as const;
export type ScenarioName = (typeof SCENARIOS)[number];

export interface Measurement {
  readonly scenario: ScenarioName;
  /** 1-based round, or 0 for the high-concurrency pass */
  readonly round: number;
  readonly connections: number;
  readonly seconds: number;
  /** responses received */
  readonly responses: number;
  readonly rps: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  /** transport errors and timeouts, plus answers with a status the scenario does not expect */
  readonly errors: number;
  readonly statuses: Readonly<Record<string, number>>;
  /** CPU time of the server process per response (user + system), which the machine's load disturbs less than req/s */
  readonly serverCpuUsPerResponse: number | undefined;
  /** commands Redis ran per response, those inside scripts included (INFO commandstats before and after) */
  readonly redisCommandsPerResponse: number;
  /** scripts (EVALSHA, EVAL) Redis ran per response */
  readonly redisScriptsPerResponse: number;
  /** 1-minute load average when it started */
  readonly load1: number;
}

export interface ScenarioSummary {
  readonly scenario: ScenarioName;
  readonly rounds: number;
  readonly rps: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly errors: number;
  readonly redisCommandsPerResponse: number;
  readonly redisScriptsPerResponse: number;
  readonly serverCpuUsPerResponse: number | undefined;
  /** median over rounds of (this scenario's req/s / the bare route's req/s in the same round) */
  readonly ratioToBare: number | undefined;
  readonly ratioToBareRange: readonly [number, number] | undefined;
}

export interface Summary {
  readonly scenarios: ScenarioSummary[];
  /** median over rounds of sold-out req/s / safe req/s */
  readonly soldOutToSafe: number | undefined;
  readonly big: Measurement[];
}

export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/** per-round ratios a/b over the rounds where both were measured: the pairs share the machine's mood */
function pairedRatios(rounds: readonly Measurement[], a: ScenarioName, b: ScenarioName): number[] {
  const ratios: number[] = [];
  for (const m of rounds) {
    if (m.scenario !== a) continue;
    const other = rounds.find((o) => o.scenario === b && o.round === m.round);
    if (other && other.rps > 0) ratios.push(m.rps / other.rps);
  }
  return ratios;
}

export function summarize(measurements: readonly Measurement[]): Summary {
  const rounds = measurements.filter((m) => m.round > 0);
  const scenarios = SCENARIOS.flatMap((scenario): ScenarioSummary[] => {
    const mine = rounds.filter((m) => m.scenario === scenario);
    if (mine.length === 0) return [];
    const ratios = scenario === 'bare' ? [] : pairedRatios(rounds, scenario, 'bare');
    return [
      {
        scenario,
        rounds: mine.length,
        rps: median(mine.map((m) => m.rps)),
        p50Ms: median(mine.map((m) => m.p50Ms)),
        p99Ms: median(mine.map((m) => m.p99Ms)),
        errors: mine.reduce((sum, m) => sum + m.errors, 0),
        redisCommandsPerResponse: median(mine.map((m) => m.redisCommandsPerResponse)),
        redisScriptsPerResponse: median(mine.map((m) => m.redisScriptsPerResponse)),
        serverCpuUsPerResponse: mine.every((m) => m.serverCpuUsPerResponse !== undefined)
          ? median(mine.map((m) => m.serverCpuUsPerResponse ?? 0))
          : undefined,
        ratioToBare: ratios.length > 0 ? median(ratios) : undefined,
        ratioToBareRange: ratios.length > 0 ? [Math.min(...ratios), Math.max(...ratios)] : undefined,
      },
    ];
  });
  const soldOut = pairedRatios(rounds, 'sold-out', 'safe');
  return {
    scenarios,
    soldOutToSafe: soldOut.length > 0 ? median(soldOut) : undefined,
    big: measurements.filter((m) => m.round === 0),
  };
}

const fixed = (value: number | undefined, digits: number): string =>
  value === undefined || Number.isNaN(value) ? '-' : value.toFixed(digits);

function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]): string =>
    `| ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join(' | ')} |`;
  const rule = `|${widths.map((w, i) => (i === 0 ? `:${'-'.repeat(w + 1)}` : `${'-'.repeat(w + 1)}:`)).join('|')}|`;
  return [line(header), rule, ...rows.map(line)].join('\n');
}

/** The Markdown tables docs/performance.md quotes. */
export function formatSummary(summary: Summary, connections: number): string {
  const main = table(
    [
      `${connections} connections`,
      'req/s',
      '× bare',
      'p50 ms',
      'p99 ms',
      'errors',
      'server CPU µs/req',
      'scripts/req',
      'Redis cmds/req',
    ],
    summary.scenarios.map((s) => [
      s.scenario,
      fixed(s.rps, 0),
      s.ratioToBare === undefined
        ? '1.00'
        : `${fixed(s.ratioToBare, 2)} (${fixed(s.ratioToBareRange?.[0], 2)}–${fixed(s.ratioToBareRange?.[1], 2)})`,
      fixed(s.p50Ms, 1),
      fixed(s.p99Ms, 1),
      String(s.errors),
      fixed(s.serverCpuUsPerResponse, 0),
      fixed(s.redisScriptsPerResponse, 2),
      fixed(s.redisCommandsPerResponse, 2),
    ]),
  );
  const parts = [
    main,
    '',
    `sold-out / safe: ${fixed(summary.soldOutToSafe, 2)}× (median of per-round ratios)`,
    'server CPU µs/req: user+system time of the server process per answer (less disturbed by other load than req/s)',
    'scripts/req: EVALSHA round trips per answer; Redis cmds/req also counts the commands inside scripts',
  ];
  if (summary.big.length > 0) {
    parts.push(
      '',
      table(
        [`${summary.big[0]?.connections ?? ''} connections`, 'req/s', 'p50 ms', 'p99 ms', 'max ms', 'errors'],
        summary.big.map((m) => [
          m.scenario,
          fixed(m.rps, 0),
          fixed(m.p50Ms, 1),
          fixed(m.p99Ms, 1),
          fixed(m.maxMs, 0),
          String(m.errors),
        ]),
      ),
    );
  }
  return parts.join('\n');
}
