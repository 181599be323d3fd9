import { formatHelp, parseOptions } from '../cli-options';
import type { OptionSpec } from '../cli-options';

/** `npm run bench -- [options]`: one table of names, aliases, defaults and help, read by the harness's parser. */
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

const BENCH_OPTIONS: readonly OptionSpec[] = [
  {
    name: 'rounds',
    aliases: ['r'],
    type: 'integer',
    default: 5,
    min: 1,
    max: 50,
    help: 'rounds; each round runs every scenario once, alternating',
  },
  {
    name: 'duration',
    aliases: ['d'],
    type: 'integer',
    default: 8,
    min: 1,
    max: 120,
    help: 'seconds per measurement',
  },
  {
    name: 'warmup',
    aliases: ['w'],
    type: 'integer',
    default: 2,
    min: 0,
    max: 60,
    help: 'seconds of unrecorded load per scenario before the first round',
  },
  {
    name: 'connections',
    aliases: ['c'],
    type: 'integer',
    default: 100,
    min: 1,
    max: 10_000,
    help: 'concurrent connections in the rounds',
  },
  {
    name: 'big-connections',
    type: 'integer',
    default: 1000,
    min: 0,
    max: 10_000,
    help: 'connections of the final high-concurrency pass (0 skips it)',
  },
  {
    name: 'json',
    type: 'string',
    placeholder: 'FILE',
    help: 'also write every measurement to this JSON file',
  },
  {
    name: 'cpu-prof',
    type: 'string',
    placeholder: 'DIR',
    help: 'write a V8 CPU profile of the service to this directory',
  },
  { name: 'help', aliases: ['h'], type: 'flag', help: 'show this help' },
];

export function benchHelp(): string {
  return formatHelp('Usage: npm run bench -- [options]', BENCH_OPTIONS);
}

/** Parses the command line; throws UsageError with a message naming the option on a bad value. */
export function parseBenchArgs(argv: readonly string[]): BenchOptions {
  const values = parseOptions(BENCH_OPTIONS, argv);
  return {
    rounds: values.rounds as number,
    duration: values.duration as number,
    warmup: values.warmup as number,
    connections: values.connections as number,
    bigConnections: values['big-connections'] as number,
    json: values.json as string | undefined,
    cpuProf: values['cpu-prof'] as string | undefined,
    help: values.help === true,
  };
}
