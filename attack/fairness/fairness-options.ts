import { UsageError, formatHelp, parseOptions } from '../cli-options';
import type { OptionSpec, OptionValue } from '../cli-options';
import { ADMIN_TOKEN_OPTION, TARGET_OPTION, checkSku } from '../attack-options';
import { INSTANCES_OPTION } from '../demo-options';

/** `--bots N --buyers M` turns either command (attack, demo) into a fairness run. */
export function isFairnessRun(argv: readonly string[]): boolean {
  return argv.some((arg) => /^--(bots|buyers)(=|$)/.test(arg));
}

export type LimitsChoice = 'both' | 'off' | 'on';

export interface FairnessOptions {
  readonly help: false;
  readonly bots: number;
  readonly buyers: number;
  readonly stock: number;
  readonly sku: string;
  readonly tries: number;
  readonly warmup: number;
  readonly thinkMs: { readonly min: number; readonly max: number };
  readonly jsonFile: string;
  /** attack: the service to measure */
  readonly target: string | undefined;
  readonly adminToken: string | undefined;
  /** demo: the local fleet, started once per setting of the limits */
  readonly instances: number;
  readonly limits: LimitsChoice;
  readonly limitPerUser: number;
  readonly limitPerIp: number;
  readonly limitWindowMs: number;
}

const CLIENTS: readonly OptionSpec[] = [
  {
    name: 'bots',
    type: 'integer',
    default: 20,
    min: 0,
    max: 10_000,
    help: 'clients looping as fast as they can',
  },
  {
    name: 'buyers',
    type: 'integer',
    default: 80,
    min: 1,
    max: 100_000,
    help: 'people: each thinks, clicks, and tries again after a refusal other than sold out',
  },
  { name: 'stock', type: 'integer', default: 100, min: 1, max: 1_000_000, help: 'units on sale' },
  {
    name: 'sku',
    type: 'string',
    default: 'flash-sale-fairness',
    placeholder: 'SKU',
    validate: checkSku,
    help: 'the product on sale; reset to --stock before each round',
  },
  { name: 'tries', type: 'integer', default: 3, min: 1, max: 100, help: "a buyer's attempts at most" },
  {
    name: 'think-min-ms',
    type: 'integer',
    default: 500,
    min: 0,
    max: 600_000,
    help: "a buyer's shortest think time before a click",
  },
  {
    name: 'think-max-ms',
    type: 'integer',
    default: 3000,
    min: 0,
    max: 600_000,
    help: "a buyer's longest think time before a click",
  },
  {
    name: 'warmup',
    aliases: ['w'],
    type: 'integer',
    default: 500,
    min: 0,
    max: 1_000_000,
    help: 'unmeasured purchases first, on a SKU and from clients of their own, so a cold fleet is warm',
  },
  {
    name: 'json',
    aliases: ['j'],
    type: 'string',
    default: 'reports/fairness.json',
    placeholder: 'FILE',
    help: 'where the figures are written as JSON',
  },
];

const TARGET: readonly OptionSpec[] = [TARGET_OPTION, ADMIN_TOKEN_OPTION];

const FLEET: readonly OptionSpec[] = [
  INSTANCES_OPTION,
  {
    name: 'limits',
    type: 'choice',
    choices: ['both', 'off', 'on'],
    default: 'both',
    help: 'run the sale without the rate limits, with them, or both (the fleet is started for each)',
  },
  {
    name: 'limit-per-user',
    type: 'integer',
    default: 1,
    min: 0,
    max: 1_000_000,
    help: 'RATE_LIMIT_PER_USER of the run with limits: a sale over in seconds gets one attempt per buyer',
  },
  {
    name: 'limit-per-ip',
    type: 'integer',
    default: 10,
    min: 0,
    max: 1_000_000,
    help: 'RATE_LIMIT_PER_IP of that run',
  },
  {
    name: 'limit-window-ms',
    type: 'integer',
    default: 60_000,
    min: 1000,
    max: 86_400_000,
    help: 'RATE_LIMIT_WINDOW_MS of that run',
  },
];

const HELP: readonly OptionSpec[] = [{ name: 'help', aliases: ['h'], type: 'flag', help: 'show this help' }];

export const ATTACK_FAIRNESS_OPTIONS = [...TARGET, ...CLIENTS, ...HELP];
export const DEMO_FAIRNESS_OPTIONS = [...FLEET, ...CLIENTS, ...HELP];

const FOOTER = `The report: units the buyers got, as a share of the units sold, beside their fair share
(buyers ÷ all clients). Exit codes: 0 measured (and, with the limits on, buyers got at least their fair
share); 1 with the limits on they did not; 2 bad arguments or unreachable target; 130 interrupted.`;

export function fairnessHelp(command: 'attack' | 'demo'): string {
  const usage =
    command === 'attack'
      ? 'Usage: npm run attack -- --target URL --bots N --buyers M [options]'
      : 'Usage: npm run demo -- --bots N --buyers M [options]';
  return formatHelp(usage, command === 'attack' ? ATTACK_FAIRNESS_OPTIONS : DEMO_FAIRNESS_OPTIONS, FOOTER);
}

export function parseFairnessArgs(
  command: 'attack' | 'demo',
  argv: readonly string[],
  env: NodeJS.ProcessEnv = {},
): FairnessOptions | { readonly help: true } {
  if (argv.includes('--help') || argv.includes('-h')) return { help: true };
  const values: Record<string, OptionValue> = parseOptions(
    command === 'attack' ? ATTACK_FAIRNESS_OPTIONS : DEMO_FAIRNESS_OPTIONS,
    argv,
    env,
  );
  const target = values.target as string | undefined;
  if (command === 'attack') {
    if (target === undefined)
      throw new UsageError('--target URL is required, e.g. --target http://127.0.0.1:3000');
    if (!/^https?:\/\/[^/]/.test(target))
      throw new UsageError(`--target must be an http:// or https:// URL, got "${target}"`);
  }
  const min = values['think-min-ms'] as number;
  const max = values['think-max-ms'] as number;
  if (min > max) throw new UsageError(`--think-min-ms (${min}) must not exceed --think-max-ms (${max})`);
  const windowMs = (values['limit-window-ms'] as number | undefined) ?? 60_000;
  if (windowMs % 1000 !== 0)
    throw new UsageError(`--limit-window-ms must be a whole number of seconds, got ${windowMs}`);
  return {
    help: false,
    bots: values.bots as number,
    buyers: values.buyers as number,
    stock: values.stock as number,
    sku: values.sku as string,
    tries: values.tries as number,
    warmup: values.warmup as number,
    thinkMs: { min, max },
    jsonFile: values.json as string,
    target: target?.replace(/\/+$/, ''),
    adminToken: values['admin-token'] as string | undefined,
    instances: (values.instances as number | undefined) ?? 2,
    limits: (values.limits as LimitsChoice | undefined) ?? 'both',
    limitPerUser: (values['limit-per-user'] as number | undefined) ?? 1,
    limitPerIp: (values['limit-per-ip'] as number | undefined) ?? 10,
    limitWindowMs: windowMs,
  };
}
