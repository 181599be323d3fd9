import { UsageError, formatHelp, parseOptions } from './cli-options';
import type { OptionSpec, OptionValue } from './cli-options';
import { SKU_PATTERN } from '../app/domain/sku';

export type Mode = 'safe' | 'unsafe';
export const MODES_IN_ORDER: readonly Mode[] = ['unsafe', 'safe'];

/** What one attack needs, whichever CLI parsed it. */
export interface AttackSettings {
  readonly modes: readonly Mode[];
  readonly sku: string;
  readonly stock: number;
  readonly requests: number;
  readonly connections: number;
  /** 0: purchases carry no userId */
  readonly users: number;
  readonly adminToken: string | undefined;
  /** seconds before autocannon gives up on one answer */
  readonly timeoutSeconds: number;
  /** unmeasured purchases per endpoint before the runs, on WARMUP_SKU */
  readonly warmup: number;
  readonly jsonFile: string | undefined;
  readonly reportFile: string | undefined;
  /** serve the live page while the runs fire */
  readonly live: boolean;
  /** and open it in the desktop's browser (implies live) */
  readonly open: boolean;
}

export interface AttackOptions extends AttackSettings {
  readonly help: false;
  readonly target: string;
}

/** --help wins over everything else on the line, even over bad values elsewhere. */
export interface HelpRequested {
  readonly help: true;
}

/** The warm-up buys this SKU, never the attacked one, so that each measured run starts from its reset. */
export const WARMUP_SKU = 'flash-sale-warmup';

function checkUrl(value: string): string | undefined {
  try {
    const url = new URL(value);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return 'must be an http:// or https:// URL';
    return undefined;
  } catch {
    return 'must be a URL such as http://127.0.0.1:3000';
  }
}

/** a SKU option's check: the domain's own pattern */
export const checkSku = (value: string): string | undefined =>
  SKU_PATTERN.test(value) ? undefined : `must match ${SKU_PATTERN.source}`;

/** the deployment a command measures, for every command that measures one */
export const TARGET_OPTION: OptionSpec = {
  name: 'target',
  aliases: ['url'],
  type: 'string',
  placeholder: 'URL',
  validate: checkUrl,
  help: 'base URL of the service or its load balancer (required)',
};

export const ADMIN_TOKEN_OPTION: OptionSpec = {
  name: 'admin-token',
  type: 'string',
  env: 'ADMIN_TOKEN',
  placeholder: 'TOKEN',
  defaultLabel: 'none',
  help: 'bearer token for POST /stock/reset',
};

/**
 * The options both CLIs share. Defaults are the demo's, tuned so that on a laptop the unsafe endpoint
 * oversells every time and the whole run takes seconds (docs/demo.md).
 */
export const SHARED_OPTIONS: readonly OptionSpec[] = [
  {
    name: 'mode',
    aliases: ['m'],
    type: 'choice',
    choices: ['both', 'unsafe', 'safe'],
    default: 'both',
    help: 'which endpoint to attack; both runs unsafe first, then safe',
  },
  {
    name: 'sku',
    aliases: ['s'],
    type: 'string',
    default: 'flash-sale-demo',
    placeholder: 'SKU',
    validate: checkSku,
    help: 'the product every purchase targets; reset to --stock before each run',
  },
  {
    name: 'stock',
    type: 'integer',
    default: 100,
    min: 0,
    max: 1_000_000_000,
    help: 'units on sale at the start of each run',
  },
  {
    name: 'requests',
    aliases: ['n', 'a', 'amount'],
    type: 'integer',
    default: 2000,
    min: 1,
    max: 10_000_000,
    help: 'purchases to fire per run',
  },
  {
    name: 'connections',
    aliases: ['c'],
    type: 'integer',
    default: 100,
    min: 1,
    max: 10_000,
    help: 'concurrent keep-alive connections (at most --requests)',
  },
  {
    name: 'users',
    aliases: ['u'],
    type: 'integer',
    default: 0,
    min: 0,
    max: 10_000_000,
    help: 'distinct user ids spread round-robin over the purchases; 0 sends none',
  },
  {
    name: 'timeout',
    type: 'integer',
    default: 10,
    min: 1,
    max: 600,
    help: 'seconds to wait for one answer before counting a timeout',
  },
  {
    name: 'warmup',
    aliases: ['w'],
    type: 'integer',
    default: 0,
    min: 0,
    max: 1_000_000,
    help: `unmeasured purchases per endpoint first, on the SKU ${WARMUP_SKU}, so a cold fleet is warm`,
  },
  {
    name: 'json',
    aliases: ['j'],
    type: 'string',
    placeholder: 'FILE',
    help: 'write the figures as JSON to FILE',
  },
  {
    name: 'report',
    aliases: ['r'],
    type: 'string',
    placeholder: 'FILE.html',
    help: 'write a self-contained HTML report (table and charts) to FILE.html',
  },
  {
    name: 'live',
    type: 'flag',
    help: 'serve a live page on a free port of 127.0.0.1 while the runs fire, and print its URL',
  },
  { name: 'open', type: 'flag', help: 'open the live page in the browser (implies --live)' },
  { name: 'help', aliases: ['h'], type: 'flag', help: 'show this help' },
];

export const ATTACK_OPTIONS: readonly OptionSpec[] = [
  TARGET_OPTION,
  ...SHARED_OPTIONS.slice(0, -1),
  ADMIN_TOKEN_OPTION,
  ...SHARED_OPTIONS.slice(-1),
];

export const ATTACK_USAGE = 'Usage: npm run attack -- --target URL [options]';
const EXIT_CODES = `Exit codes: 0 the safe run sold at most its stock (by its 200s and by its order log), left it at
            0 or above, and stock = final + units in the order log;
            1 it did not; 2 bad arguments, unreachable target, or a target that went away mid-run
            (what was measured is still printed); 130 interrupted (Ctrl-C).`;

export function attackHelp(): string {
  return formatHelp(ATTACK_USAGE, ATTACK_OPTIONS, EXIT_CODES);
}

/** The shared settings out of a parsed table; checks what no single option can check alone. */
export function toSettings(values: Record<string, OptionValue>): AttackSettings {
  const requests = values.requests as number;
  const connections = values.connections as number;
  if (connections > requests) {
    throw new UsageError(
      `--connections (${connections}) must not exceed --requests (${requests}): each connection sends at least one`,
    );
  }
  const mode = values.mode as 'both' | Mode;
  return {
    modes: mode === 'both' ? MODES_IN_ORDER : [mode],
    sku: values.sku as string,
    stock: values.stock as number,
    requests,
    connections,
    users: values.users as number,
    adminToken: values['admin-token'] as string | undefined,
    timeoutSeconds: values.timeout as number,
    warmup: values.warmup as number,
    jsonFile: values.json as string | undefined,
    reportFile: values.report as string | undefined,
    live: values.live === true || values.open === true,
    open: values.open === true,
  };
}

/** `npm run attack -- ...` arguments; throws UsageError for anything wrong. */
export function parseAttackArgs(
  argv: readonly string[],
  env: NodeJS.ProcessEnv = {},
): AttackOptions | HelpRequested {
  if (wantsHelp(argv)) return { help: true };
  const values = parseOptions(ATTACK_OPTIONS, argv, env);
  const target = values.target as string | undefined;
  if (target === undefined) {
    throw new UsageError('--target URL is required, e.g. --target http://127.0.0.1:3000');
  }
  return { ...toSettings(values), help: false, target: target.replace(/\/+$/, '') };
}

export function wantsHelp(argv: readonly string[]): boolean {
  return argv.includes('--help') || argv.includes('-h');
}
