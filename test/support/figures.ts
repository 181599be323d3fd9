import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Figures the reliability tests measure go here (gitignored), one JSON file per test, and to the log. */
export const REPORTS_DIR = join(__dirname, '..', '..', 'reports', 'reliability');

/**
 * Records what a test measured. Timings are reported, never asserted: the machine is shared and noisy,
 * so a test asserts only what must hold whatever the speed.
 */
export function recordFigures(name: string, figures: Record<string, unknown>): void {
  mkdirSync(REPORTS_DIR, { recursive: true });
  writeFileSync(
    join(REPORTS_DIR, `${name}.json`),
    `${JSON.stringify({ name, recordedAt: new Date().toISOString(), ...figures }, null, 2)}\n`,
  );
  console.log(`[figures] ${name} ${JSON.stringify(figures)}`);
}

/** nearest-rank percentile, in the unit of `values`; NaN for no values */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank] ?? Number.NaN;
}

export const round = (value: number, digits = 1): number => Number(value.toFixed(digits));
