import { parseProductInput } from '../domain/product-input';
import { skuSchema } from '../domain/sku';
import type { ProductInput } from '../domain/types';
import { readCsvRecords } from './csv-records';
import type { CsvRecord } from './csv-records';
import { DECIMAL_HINT, quoted, readDecimal } from './number-text';
import { WHOLE_NUMBER_HINT, readWholeNumber } from '../whole-number';

/** The columns of the public Olist products file, its "lenght" spelling included. */
export const OLIST_COLUMNS = [
  'product_id',
  'product_category_name',
  'product_name_lenght',
  'product_description_lenght',
  'product_photos_qty',
  'product_weight_g',
  'product_length_cm',
  'product_height_cm',
  'product_width_cm',
] as const;

/** Ours, each optional: without a cell, the name is derived and the numbers come from the options. */
export const PRODUCT_COLUMNS = ['name', 'price', 'stock', 'per_user_limit'] as const;

const KNOWN_COLUMNS = new Set<string>([...OLIST_COLUMNS, ...PRODUCT_COLUMNS]);
/** the Olist measurements (weights, sizes, photo counts) are accepted and ignored: a sale needs none */
const REQUIRED_COLUMNS = ['product_id', 'product_category_name'] as const;

/** where a product input's field is found in the file */
const COLUMN_OF_FIELD: Record<string, string> = {
  name: 'name',
  price: 'price',
  stock: 'stock',
  perUserLimit: 'per_user_limit',
};

/** What the command line gives for an empty cell or a missing column. */
export interface CatalogueDefaults {
  readonly stock: number | undefined;
  readonly price: number | undefined;
  readonly perUserLimit: number;
}

export interface CatalogueProduct {
  readonly line: number;
  readonly sku: string;
  readonly input: ProductInput;
}

export interface Problem {
  readonly line: number;
  /** the column at fault; none when the whole line is */
  readonly column?: string;
  readonly message: string;
}

export interface CatalogueFile {
  /** every product of the file, valid; use them only when there is no problem */
  readonly products: CatalogueProduct[];
  readonly problems: Problem[];
}

export function formatProblem(problem: Problem): string {
  return problem.column === undefined
    ? `line ${problem.line}: ${problem.message}`
    : `line ${problem.line}: ${problem.column}: ${problem.message}`;
}

/** `perfumaria 1e9e8ef0`: a readable name for a product the file does not name */
export function derivedName(category: string, sku: string): string {
  const prefix = category === '' ? 'product' : category.replace(/_/g, ' ');
  return `${prefix} ${sku.slice(0, 8)}`;
}

function checkHeader(header: CsvRecord, defaults: CatalogueDefaults): Problem[] {
  const problems: Problem[] = [];
  const at = (column: string, message: string): void => {
    problems.push({ line: header.line, column, message });
  };
  const seen = new Set<string>();
  for (const column of header.fields) {
    // An unknown column is refused, not ignored: `per_user_limt` would otherwise sell without a limit.
    if (!KNOWN_COLUMNS.has(column)) {
      at(
        quoted(column),
        `unknown column (expected the Olist products columns and ${PRODUCT_COLUMNS.join(', ')})`,
      );
    } else if (seen.has(column)) at(column, 'appears more than once in the header');
    seen.add(column);
  }
  for (const column of REQUIRED_COLUMNS) if (!seen.has(column)) at(column, 'missing from the header');
  if (!seen.has('price') && defaults.price === undefined) {
    at('price', 'missing from the header: add the column or give --price');
  }
  if (!seen.has('stock') && defaults.stock === undefined) {
    at('stock', 'missing from the header: add the column or give --stock');
  }
  return problems;
}

interface RowReading {
  /** the row's SKU, when it is one */
  readonly sku: string | undefined;
  readonly input: ProductInput | undefined;
  readonly problems: Problem[];
}

/** One data row: its cells read as numbers where numbers are expected, then the product rule. */
function readRow(line: number, cell: (column: string) => string, defaults: CatalogueDefaults): RowReading {
  const problems: Problem[] = [];
  const at = (column: string, message: string): void => {
    problems.push({ line, column, message });
  };

  const id = cell('product_id');
  const skuCheck = skuSchema.safeParse(id);
  if (!skuCheck.success) {
    at('product_id', `${skuCheck.error.issues[0]?.message ?? 'is not a SKU'} (got ${quoted(id)})`);
  }

  const number = (
    column: string,
    read: (text: string) => number | undefined,
    hint: string,
    fallback: number | undefined,
    option: string,
  ): number | undefined => {
    const text = cell(column);
    if (text === '') {
      if (fallback === undefined) at(column, `is empty and no ${option} was given`);
      return fallback;
    }
    const value = read(text);
    if (value === undefined) at(column, `${hint} (got ${quoted(text)})`);
    return value;
  };
  const price = number('price', readDecimal, DECIMAL_HINT, defaults.price, '--price');
  const stock = number('stock', readWholeNumber, WHOLE_NUMBER_HINT, defaults.stock, '--stock');
  const perUserLimit = number(
    'per_user_limit',
    readWholeNumber,
    WHOLE_NUMBER_HINT,
    defaults.perUserLimit,
    '--per-user-limit',
  );
  const name = cell('name') === '' ? derivedName(cell('product_category_name'), id) : cell('name');

  // The product rule runs even when a number could not be read, so that the row's other problems are
  // reported too: a stand-in 0 takes an unread number's place, and its issues are not reported again.
  const unread = new Set<string>();
  const orZero = (field: string, value: number | undefined): number => {
    if (value !== undefined) return value;
    unread.add(field);
    return 0;
  };
  const parsed = parseProductInput({
    name,
    price: orZero('price', price),
    stock: orZero('stock', stock),
    perUserLimit: orZero('perUserLimit', perUserLimit),
  });
  if (!parsed.ok) {
    for (const issue of parsed.issues) {
      if (!unread.has(issue.field)) at(COLUMN_OF_FIELD[issue.field] ?? issue.field, issue.message);
    }
  }
  return {
    sku: skuCheck.success ? id : undefined,
    input: parsed.ok && problems.length === 0 ? parsed.input : undefined,
    problems,
  };
}

/**
 * Reads a whole catalogue file and checks every row by the rule `PUT /products` applies
 * (domain/product-input.ts), collecting every problem with its line instead of stopping at the first:
 * an operator fixes the file once, not once per run. A header problem stops there, since no row can be
 * read without the header.
 */
export function readCatalogue(content: Buffer, defaults: CatalogueDefaults): CatalogueFile {
  const { records, failure } = readCsvRecords(content);
  const problems: Problem[] = [];
  const products: CatalogueProduct[] = [];
  const [head, ...rows] = records;
  if (!head) {
    const expected = [...REQUIRED_COLUMNS, '...'].join(',');
    return {
      products,
      problems: [failure ?? { line: 1, message: `the file is empty: expected a header line ${expected}` }],
    };
  }
  const headerProblems = checkHeader(head, defaults);
  if (headerProblems.length > 0) {
    return { products, problems: failure ? [...headerProblems, failure] : headerProblems };
  }

  const columnIndex = new Map(head.fields.map((column, i) => [column, i]));
  const firstLineOf = new Map<string, number>();
  for (const { line, fields } of rows) {
    if (fields.length !== head.fields.length) {
      problems.push({ line, message: `has ${fields.length} fields, the header ${head.fields.length}` });
      continue;
    }
    const cell = (column: string): string => {
      const index = columnIndex.get(column);
      return index === undefined ? '' : (fields[index] ?? '');
    };
    const row = readRow(line, cell, defaults);
    problems.push(...row.problems);
    if (row.sku === undefined) continue;
    const first = firstLineOf.get(row.sku);
    if (first !== undefined) {
      problems.push({ line, column: 'product_id', message: `${row.sku} is already on line ${first}` });
    } else {
      firstLineOf.set(row.sku, line);
      if (row.input) products.push({ line, sku: row.sku, input: row.input });
    }
  }

  if (failure) problems.push(failure);
  else if (rows.length === 0)
    problems.push({ line: head.line, message: 'the header is not followed by any product' });
  return { products, problems };
}
