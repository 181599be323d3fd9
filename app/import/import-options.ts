import { parseArgs } from 'node:util';
import { productInputSchema } from '../domain/product-input';
import { DECIMAL_HINT, quoted, readDecimal } from './number-text';
import { WHOLE_NUMBER_HINT, readWholeNumber } from '../whole-number';
import type { CatalogueDefaults } from './read-catalogue';

/**
 * The options, one table: parseArgs reads `type` and `short`, the help is written from `value` and
 * `help`, so that an option and its description cannot drift apart.
 */
const OPTIONS = {
  stock: {
    type: 'string',
    value: 'N',
    help: 'stock for an empty stock cell, or for every row if there is no stock column',
  },
  price: {
    type: 'string',
    value: 'P',
    help: 'price for an empty price cell, or for every row if there is no price column',
  },
  'per-user-limit': {
    type: 'string',
    value: 'N',
    help: 'units one buyer may buy, for an empty per_user_limit cell (default 0: no limit)',
  },
  'dry-run': { type: 'boolean', help: 'check the file only: no Redis, nothing written' },
  help: { type: 'boolean', short: 'h', help: 'print this help' },
} as const;

const USAGE = 'Usage: npm run catalogue:import -- [options] FILE.csv';

const ABOUT = `Imports products from a CSV file in the column layout of the Olist products file
(olist_products_dataset.csv): product_id (the SKU) and product_category_name are required, the other
Olist columns are accepted and ignored. Optional columns: name (else "<category> <first 8 characters of
the id>"), price, stock, per_user_limit. The Olist file has no prices: import it with --price and --stock.

The whole file is checked first, by the rules of PUT /products. If any row is bad, every problem is
listed with its line and nothing is imported.

A product already in Redis is updated as PUT /products updates it: a restock. Its stock becomes the
file's stock, as the units left to sell; the units already sold stay sold (its orders and buyers are
kept, and its initial stock becomes the new stock plus the units sold).`;

const FOOTER = `Redis: the service's own variables (REDIS_URL, REDIS_MODE, REDIS_NODES, REDIS_PASSWORD, ...).
Exit status: 0 imported (with --dry-run: the file is valid); 1 the file has problems, nothing imported;
2 could not run (bad option, unreadable file, bad environment, Redis unreachable or failing).`;

export function importHelp(): string {
  const left = Object.entries(OPTIONS).map(([name, spec]) => {
    const short = 'short' in spec ? `-${spec.short}, ` : '    ';
    return `${short}--${name}${'value' in spec ? ` ${spec.value}` : ''}`;
  });
  const width = Math.max(...left.map((text) => text.length)) + 2;
  const lines = Object.values(OPTIONS).map((spec, i) => `  ${(left[i] ?? '').padEnd(width)}${spec.help}`);
  return [USAGE, '', ABOUT, '', 'Options:', ...lines, '', FOOTER, ''].join('\n');
}

/** A bad command line: the CLI says why, points at --help and exits 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export type ImportArgs =
  | { readonly help: true }
  | {
      readonly help: false;
      readonly file: string;
      readonly dryRun: boolean;
      readonly defaults: CatalogueDefaults;
    };

/**
 * An option's number, read as a cell is (digits only) and held to the product rule's range for its
 * field, so that a bad --stock is one usage error rather than the same problem on every row.
 */
function optionNumber(
  option: string,
  text: string | undefined,
  read: (text: string) => number | undefined,
  hint: string,
  field: 'price' | 'stock' | 'perUserLimit',
): number | undefined {
  if (text === undefined) return undefined;
  const value = read(text);
  if (value === undefined) throw new UsageError(`--${option} ${hint} (got ${quoted(text)})`);
  const checked = productInputSchema.shape[field].safeParse(value);
  if (!checked.success) {
    throw new UsageError(`--${option}: ${checked.error.issues[0]?.message ?? 'out of range'}`);
  }
  return value;
}

export function parseImportArgs(argv: readonly string[]): ImportArgs {
  let parsed;
  try {
    parsed = parseArgs({ args: [...argv], options: OPTIONS, strict: true, allowPositionals: true });
  } catch (error) {
    // parseArgs explains itself over several lines: the CLI's reasons fit on one
    const message = error instanceof Error ? error.message : String(error);
    throw new UsageError(message.replace(/\s*\n\s*/g, ' '));
  }
  const { values, positionals } = parsed;
  if (values.help === true) return { help: true };
  const [file, ...extra] = positionals;
  if (file === undefined) throw new UsageError('which file? Give the CSV file to import');
  if (extra.length > 0) throw new UsageError(`one file at a time (also given: ${extra.join(' ')})`);
  return {
    help: false,
    file,
    dryRun: values['dry-run'] === true,
    defaults: {
      stock: optionNumber('stock', values.stock, readWholeNumber, WHOLE_NUMBER_HINT, 'stock'),
      price: optionNumber('price', values.price, readDecimal, DECIMAL_HINT, 'price'),
      perUserLimit:
        optionNumber(
          'per-user-limit',
          values['per-user-limit'],
          readWholeNumber,
          WHOLE_NUMBER_HINT,
          'perUserLimit',
        ) ?? 0,
    },
  };
}
