import { parseArgs } from 'node:util';

/** `npm run bench -- [options]`: one table of names, aliases, defaults and help. */
export interface BenchOptions {
  readonly rounds: number;
  readonly duration: number;
  readonly warmup: number;
  readonly connections: number;
  readonly bigConnections: number;
  readonly json: string | undefined;
  readonly cpuProf: string | undefined;
  readonly help: boolean;
}

interface IntOption {
  readonly kind: 'int';
  readonly alias?: string;
  readonly default: number;
  readonly min: number;
  readonly max: number;
  readonly help: string;
}
interface TextOption {
  readonly kind: 'text';
  readonly alias?: string;
  readonly help: string;
}

const TABLE = {
  rounds: {
    kind: 'int',
    alias: 'r',
    default: 5,
    min: 1,
    max: 50,
    help: 'rounds; each round runs every scenario once, alternating',
  },
  duration: { kind: 'int', alias: 'd', default: 8, min: 1, max: 120, help: 'seconds per measurement' },
  warmup: {
    kind: 'int',
    alias: 'w',
    default: 2,
    min: 0,
    max: 60,
    help: 'seconds of unrecorded load per scenario before the first round',
  },
  connections: {
    kind: 'int',
    alias: 'c',
    default: 100,
    min: 1,
    max: 10_000,
    help: 'concurrent connections in the rounds',
  },
  'big-connections': {
    kind: 'int',
    default: 1000,
    min: 0,
    max: 10_000,
    help: 'connections of the final high-concurrency pass (0 skips it)',
  },
  json: { kind: 'text', help: 'also write every measurement to this JSON file' },
  'cpu-prof': { kind: 'text', help: 'write a V8 CPU profile of the service to this directory' },
} as const satisfies Record<string, IntOption | TextOption>;

export const HELP = [
  'usage: npm run bench -- [options]',
  '',
  ...Object.entries(TABLE).map(([name, option]) => {
    const flag = `${'alias' in option ? `-${option.alias}, ` : '    '}--${name}`;
    const fallback = option.kind === 'int' ? ` (default ${option.default})` : '';
    return `  ${flag.padEnd(24)}${option.help}${fallback}`;
  }),
  `  ${'-h, --help'.padEnd(24)}this text`,
].join('\n');

function int(name: keyof typeof TABLE, raw: string | boolean | undefined): number {
  const option = TABLE[name];
  if (option.kind !== 'int') throw new Error(`--${name} is not a number option`);
  if (raw === undefined) return option.default;
  // digits only: Number() reads '' and ' ' as 0 and '0x10' as 16
  const value = typeof raw === 'string' && /^\d+$/.test(raw) ? Number(raw) : Number.NaN;
  if (!Number.isInteger(value) || value < option.min || value > option.max) {
    throw new Error(`--${name} must be an integer from ${option.min} to ${option.max}`);
  }
  return value;
}

/** Parses the command line; throws with a message naming the option on a bad value. */
export function parseBenchArgs(argv: readonly string[]): BenchOptions {
  const parsed = parseArgs({
    args: [...argv],
    options: {
      ...Object.fromEntries(
        Object.entries(TABLE).map(([name, option]) => [
          name,
          { type: 'string' as const, ...('alias' in option ? { short: option.alias } : {}) },
        ]),
      ),
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
    allowPositionals: false,
  });
  const values = parsed.values as Record<string, string | boolean | undefined>;
  const text = (raw: string | boolean | undefined): string | undefined =>
    typeof raw === 'string' && raw !== '' ? raw : undefined;
  return {
    rounds: int('rounds', values.rounds),
    duration: int('duration', values.duration),
    warmup: int('warmup', values.warmup),
    connections: int('connections', values.connections),
    bigConnections: int('big-connections', values['big-connections']),
    json: text(values.json),
    cpuProf: text(values['cpu-prof']),
    help: values.help === true,
  };
}
