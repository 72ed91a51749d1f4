import { parse } from 'csv-parse/sync';
import { Invalid } from '../core/errors.ts';

export const MAX_CSV_BYTES = 10 * 1024 * 1024;

/** Reads a CSV with a header row into records; a malformed file is refused with the line it broke on. */
export function readCsv(text: string, required: readonly string[]): Record<string, string>[] {
  if (Buffer.byteLength(text) > MAX_CSV_BYTES)
    throw new Invalid('The file is larger than 10 MB', { file: 'Upload a smaller file' });
  let records: Record<string, string>[];
  try {
    records = parse(text, {
      columns: (header: string[]) => header.map((h) => h.trim().toLowerCase()),
      skip_empty_lines: true,
      trim: true,
      bom: true,
    });
  } catch (err) {
    const line = (err as { lines?: number }).lines;
    throw new Invalid(
      `The file is not valid CSV${line ? ` (line ${line})` : ''}: ${(err as Error).message}`,
      { file: 'Upload a CSV file with a header row' },
    );
  }
  const header = records.length ? Object.keys(records[0]!) : [];
  const missing = required.filter((c) => !header.includes(c));
  if (records.length && missing.length)
    throw new Invalid(`The file has no ${missing.join(', ')} column`, {
      file: `The header row must include ${required.join(', ')}`,
    });
  return records;
}
