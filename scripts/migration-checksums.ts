/**
 * `npm run migrations:checksums`: adds each new migration's checksum to migrations/checksums.txt.
 * A listed checksum is never changed: a test fails when a committed migration's text differs from
 * its line, because a database that applied the old text would refuse to start (src/core/migrate.ts).
 */
import fs from 'node:fs';
import path from 'node:path';
import { MIGRATIONS_DIR, readMigrations } from '../src/core/migrate.ts';

export const CHECKSUMS_FILE = path.join(MIGRATIONS_DIR, 'checksums.txt');

/** `file name → sha256` as listed, one `<sha256>  <file>` line each. */
export function readChecksumList(): Map<string, string> {
  const text = fs.existsSync(CHECKSUMS_FILE) ? fs.readFileSync(CHECKSUMS_FILE, 'utf8') : '';
  return new Map(
    text
      .split('\n')
      .filter((line) => line.trim() !== '')
      .map((line) => {
        const [checksum, file] = line.trim().split(/\s+/);
        return [file!, checksum!];
      }),
  );
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const listed = readChecksumList();
  const added: string[] = [];
  for (const m of readMigrations()) {
    const file = `${m.version}_${m.name}.sql`;
    if (listed.has(file)) continue;
    fs.appendFileSync(CHECKSUMS_FILE, `${m.checksum}  ${file}\n`);
    added.push(file);
  }
  console.log(added.length ? `Added ${added.join(', ')}` : 'Every migration is listed');
}
