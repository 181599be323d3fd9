import { CsvError, parse } from 'csv-parse/sync';

export interface CsvRecord {
  /** the physical line of the file the record starts on; the header is line 1 */
  readonly line: number;
  readonly fields: string[];
}

export interface CsvRecords {
  readonly records: CsvRecord[];
  /** the text cannot be read as CSV past this point (an unclosed quote): the records before it are kept */
  readonly failure: { readonly line: number; readonly message: string } | undefined;
}

const NEWLINE = 0x0a;
const CARRIAGE_RETURN = 0x0d;

/**
 * Every record of a CSV file with the line it starts on. csv-parse's own `lines` is the line a record
 * ends on, and it drifts by one for every CRLF inside a quoted field, so the line is counted here, from
 * the byte offset where each record ends (`bytes`): the next record starts at the first byte after it
 * that is not part of an empty line. A record's field count is left to the caller, who can name the line.
 */
export function readCsvRecords(content: Buffer): CsvRecords {
  const ends: { fields: string[]; end: number }[] = [];
  let failure: CsvRecords['failure'];
  try {
    parse(content, {
      bom: true,
      relax_column_count: true,
      // a quote inside an unquoted field (`12" screen`) is text, as a spreadsheet would write it
      relax_quotes: true,
      skip_empty_lines: true,
      on_record: (fields: string[], context) => {
        ends.push({ fields, end: context.bytes });
        return fields;
      },
    });
  } catch (error) {
    if (!(error instanceof CsvError)) throw error;
    failure = { line: typeof error.lines === 'number' ? error.lines : 0, message: error.message };
  }

  let offset = 0;
  let line = 1;
  const records = ends.map(({ fields, end }) => {
    while (offset < end && (content[offset] === NEWLINE || content[offset] === CARRIAGE_RETURN)) {
      if (content[offset] === NEWLINE) line += 1;
      offset += 1;
    }
    const record = { line, fields };
    for (; offset < end; offset += 1) if (content[offset] === NEWLINE) line += 1;
    return record;
  });
  return { records, failure };
}
