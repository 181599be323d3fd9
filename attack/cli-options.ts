import { parseArgs } from 'node:util';
import { readWholeNumber } from '../app/whole-number';

/**
 * The command line of every harness CLI (attack, demo, bench), driven by one table of options (name,
 * aliases, default, help), the way autocannon declares its own: the help text is generated from the same
 * table the parser reads, so the two cannot drift apart. Tests call the parsers directly.
 */

export type OptionValue = string | number | boolean | undefined;

interface BaseSpec {
  /** long name without dashes, e.g. 'connections' */
  readonly name: string;
  /** other spellings: one letter ('c' → -c) or a word ('url' → --url) */
  readonly aliases?: readonly string[];
  readonly help: string;
  /** an environment variable read when the option is absent from the command line */
  readonly env?: string;
  /** shown in the help instead of the default, e.g. for a secret */
  readonly defaultLabel?: string;
}

export interface IntegerSpec extends BaseSpec {
  readonly type: 'integer';
  readonly default?: number;
  readonly min: number;
  readonly max: number;
}

export interface StringSpec extends BaseSpec {
  readonly type: 'string';
  readonly default?: string;
  /** returns an error message for a bad value, undefined for a good one */
  readonly validate?: (value: string) => string | undefined;
  /** how the value is shown in the help, e.g. 'URL', 'FILE' */
  readonly placeholder?: string;
}

export interface ChoiceSpec extends BaseSpec {
  readonly type: 'choice';
  readonly choices: readonly string[];
  readonly default: string;
}

export interface FlagSpec extends BaseSpec {
  readonly type: 'flag';
}

export type OptionSpec = IntegerSpec | StringSpec | ChoiceSpec | FlagSpec;

/** A bad command line: the CLI prints the message (and a pointer to --help) and exits 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

function dashed(spelling: string): string {
  return spelling.length === 1 ? `-${spelling}` : `--${spelling}`;
}

function convert(spec: OptionSpec, raw: string, from: string): OptionValue {
  switch (spec.type) {
    case 'integer': {
      const value = readWholeNumber(raw.trim());
      if (value === undefined) throw new UsageError(`${from} must be an integer, got "${raw}"`);
      if (value < spec.min || value > spec.max) {
        throw new UsageError(`${from} must be between ${spec.min} and ${spec.max}, got ${raw}`);
      }
      return value;
    }
    case 'choice':
      if (!spec.choices.includes(raw)) {
        throw new UsageError(`${from} must be one of ${spec.choices.join(', ')}, got "${raw}"`);
      }
      return raw;
    case 'string': {
      if (raw === '') throw new UsageError(`${from} must not be empty`);
      const problem = spec.validate?.(raw);
      if (problem !== undefined) throw new UsageError(`${from} ${problem}, got "${raw}"`);
      return raw;
    }
    case 'flag':
      throw new UsageError(`${from} takes no value`);
  }
}

/**
 * node:util parseArgs splits the command line into tokens; the table's rules are applied to the tokens
 * rather than through parseArgs' strict mode, whose messages name no option the way ours do. Every spelling
 * is its own parseArgs option, so a one-letter spelling is `-c` and a word is `--url`.
 */
function tokenize(table: readonly OptionSpec[], argv: readonly string[]) {
  const config: Record<string, { type: 'string' | 'boolean' }> = {};
  for (const spec of table) {
    for (const spelling of [spec.name, ...(spec.aliases ?? [])]) {
      config[spelling] = { type: spec.type === 'flag' ? 'boolean' : 'string' };
    }
  }
  return parseArgs({ args: [...argv], options: config, strict: false, allowPositionals: true, tokens: true })
    .tokens;
}

/**
 * Parses argv (without node and the script) against the table. Returns every option by its long name:
 * the command-line value, else the environment variable, else the default. Throws UsageError.
 */
export function parseOptions(
  table: readonly OptionSpec[],
  argv: readonly string[],
  env: NodeJS.ProcessEnv = {},
): Record<string, OptionValue> {
  const bySpelling = new Map<string, OptionSpec>();
  for (const spec of table) {
    for (const spelling of [spec.name, ...(spec.aliases ?? [])]) bySpelling.set(dashed(spelling), spec);
  }
  const given = new Map<string, OptionValue>();
  for (const token of tokenize(table, argv)) {
    if (token.kind === 'positional') throw new UsageError(`unexpected argument "${token.value}"`);
    if (token.kind === 'option-terminator') throw new UsageError('unexpected argument "--"');
    const arg = argv[token.index] ?? token.rawName;
    const spec = bySpelling.get(token.rawName);
    // "-c" for a one-letter spelling, "--connections" for a word: "-connections" (which parseArgs reads as
    // -c onnections) is a typo, not an option, and so is "--c".
    const glued = token.rawName.length === 2 && arg !== token.rawName;
    if (!spec || glued) throw new UsageError(`unknown option ${glued ? arg : token.rawName}`);
    const from = `--${spec.name}`;
    if (given.has(spec.name)) throw new UsageError(`${from} is given more than once`);
    if (spec.type === 'flag') {
      if (token.inlineValue) throw new UsageError(`${from} takes no value`);
      given.set(spec.name, true);
      continue;
    }
    const raw = token.value;
    // A value may not look like an option: "--sku --stock 5" is a missing value, not the SKU "--stock".
    if (raw === undefined || (!token.inlineValue && /^-[A-Za-z-]/.test(raw))) {
      throw new UsageError(`${from} needs a value`);
    }
    given.set(spec.name, convert(spec, raw, from));
  }

  const options: Record<string, OptionValue> = {};
  for (const spec of table) {
    const fromEnv = spec.env === undefined ? undefined : env[spec.env];
    if (given.has(spec.name)) options[spec.name] = given.get(spec.name);
    else if (spec.type === 'flag') options[spec.name] = false;
    else if (fromEnv !== undefined && fromEnv !== '')
      options[spec.name] = convert(spec, fromEnv, spec.env ?? '');
    else options[spec.name] = spec.default;
  }
  return options;
}

/** The help text: usage line, then one line per option with its aliases, default and environment variable. */
export function formatHelp(usage: string, table: readonly OptionSpec[], footer = ''): string {
  const left = table.map((spec) => {
    const spellings = [spec.name, ...(spec.aliases ?? [])].map(dashed).join(', ');
    const value =
      spec.type === 'flag'
        ? ''
        : spec.type === 'integer'
          ? ' N'
          : spec.type === 'choice'
            ? ` ${spec.choices.join('|')}`
            : ` ${spec.placeholder ?? 'VALUE'}`;
    return `${spellings}${value}`;
  });
  const width = Math.max(...left.map((text) => text.length)) + 2;
  const lines = table.map((spec, i) => {
    const notes: string[] = [];
    const shown = spec.defaultLabel ?? (spec.type === 'flag' ? undefined : spec.default);
    if (shown !== undefined) notes.push(`default ${String(shown)}`);
    if (spec.env !== undefined) notes.push(`env ${spec.env}`);
    const suffix = notes.length > 0 ? ` (${notes.join('; ')})` : '';
    return `  ${(left[i] ?? '').padEnd(width)}${spec.help}${suffix}`;
  });
  return [usage, '', 'Options:', ...lines, ...(footer ? ['', footer] : []), ''].join('\n');
}
