import { toSettings, wantsHelp, SHARED_OPTIONS } from './attack-options';
import type { AttackSettings, HelpRequested } from './attack-options';
import { formatHelp, parseOptions } from './cli-options';
import type { OptionSpec } from './cli-options';

export interface DemoOptions extends AttackSettings {
  readonly help: false;
  readonly instances: number;
  readonly unsafeDelayMs: number;
  /** `failover`: the failover act instead of the race */
  readonly chaos: 'none' | 'failover';
  /** the demo always writes its reports; these are where */
  readonly jsonFile: string;
  readonly reportFile: string;
}

export const DEFAULT_JSON_FILE = 'reports/demo.json';
export const DEFAULT_REPORT_FILE = 'reports/demo.html';
export const DEFAULT_WARMUP = 1000;
const FAILOVER_JSON_FILE = 'reports/failover.json';
export const FAILOVER_REPORT_FILE = 'reports/failover.html';

/** the local fleet's size, for every command that starts one */
export const INSTANCES_OPTION: OptionSpec = {
  name: 'instances',
  aliases: ['i'],
  type: 'integer',
  default: 2,
  min: 1,
  max: 64,
  help: 'service instances sharing one port (node:cluster workers)',
};

/** The attack's options (no target: the demo starts its own fleet), plus how to run that fleet. */
export const DEMO_OPTIONS: readonly OptionSpec[] = [
  INSTANCES_OPTION,
  {
    name: 'unsafe-delay-ms',
    type: 'integer',
    env: 'UNSAFE_DELAY_MS',
    default: 2,
    min: 0,
    max: 10_000,
    help: "pause between the unsafe endpoint's read and write: widens the race window",
  },
  {
    name: 'chaos',
    type: 'choice',
    choices: ['none', 'failover'],
    default: 'none',
    help:
      'failover: instead of the race, a safe storm against a Redis primary, a replica and 3 sentinels, ' +
      `the primary killed mid-storm, with REDIS_WAIT_REPLICAS=0 then 1 (reports in ${FAILOVER_REPORT_FILE})`,
  },
  ...SHARED_OPTIONS.map((spec): OptionSpec => {
    if (spec.name === 'json') return { ...spec, defaultLabel: DEFAULT_JSON_FILE };
    if (spec.name === 'report') return { ...spec, defaultLabel: DEFAULT_REPORT_FILE };
    // A fleet the demo has just started is cold (JIT, connections): measured, a 1000-connection burst
    // on it timed out where the same burst on a warm fleet did not.
    if (spec.name === 'warmup' && spec.type === 'integer') return { ...spec, default: DEFAULT_WARMUP };
    return spec;
  }),
];

export const DEMO_USAGE = 'Usage: npm run demo -- [options]';
const FOOTER = `Redis: REDIS_URL when set, otherwise a private redis-server on a free port, stopped at the end.
PostgreSQL: DATABASE_URL when set, otherwise a private one made with this machine's initdb, stopped at
            the end; with neither, the demo runs without the order pipeline and says so.
Exit codes: 0 the safe endpoint held (sold at most its stock by its 200s and by its log, final stock
            0 or above, stock = final + units in the log; with PostgreSQL, every order in it once);
            1 it did not; 2 bad arguments, or no Redis to use; 130 interrupted (Ctrl-C).`;

export function demoHelp(): string {
  return formatHelp(DEMO_USAGE, DEMO_OPTIONS, FOOTER);
}

/** `npm run demo -- ...` arguments; throws UsageError for anything wrong. */
export function parseDemoArgs(
  argv: readonly string[],
  env: NodeJS.ProcessEnv = {},
): DemoOptions | HelpRequested {
  if (wantsHelp(argv)) return { help: true };
  const values = parseOptions(DEMO_OPTIONS, argv, env);
  const settings = toSettings(values);
  const chaos = values.chaos as DemoOptions['chaos'];
  const failover = chaos === 'failover';
  return {
    ...settings,
    help: false,
    instances: values.instances as number,
    unsafeDelayMs: values['unsafe-delay-ms'] as number,
    chaos,
    jsonFile: settings.jsonFile ?? (failover ? FAILOVER_JSON_FILE : DEFAULT_JSON_FILE),
    reportFile: settings.reportFile ?? (failover ? FAILOVER_REPORT_FILE : DEFAULT_REPORT_FILE),
  };
}
