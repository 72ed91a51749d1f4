import fs from 'node:fs';
import type { Command } from 'commander';
import { withDatabase } from '../core/command.ts';
import { inPlace } from '../core/db.ts';
import { Invalid } from '../core/errors.ts';
import { findPlaceBySlug } from '../places/public.ts';
import { exportServices, importOruk, type ExportFormat } from './store.ts';
import { readOrukFile } from './upload.ts';

export function serviceCommands(program: Command) {
  const services = program.command('services').description('the service map: services, partners, costs');
  services
    .command('export')
    .requiredOption('--place <slug>')
    .requiredOption('--format <format>', 'oruk (Open Referral UK JSON) or csv')
    .description('print the place’s service map')
    .action(async (options: { place: string; format: string }) => {
      if (options.format !== 'oruk' && options.format !== 'csv')
        throw new Invalid('--format must be oruk or csv');
      const text = await withDatabase(async (db) => {
        const place = await findPlaceBySlug(db, options.place);
        if (!place) throw new Invalid(`No place with slug ${options.place}`);
        return inPlace(db, place.id, (tx) => exportServices(tx, place, options.format as ExportFormat));
      });
      process.stdout.write(text);
    });
  services
    .command('import')
    .requiredOption('--place <slug>')
    .argument('<file>', 'an Open Referral UK services JSON file (v1 list or page, or v3 services)')
    .option('--json', 'print {"added": n, "updated": n}')
    .description('add services to the place’s map from Open Referral UK; all or nothing, the same id updates')
    .action(async (file: string, options: { place: string; json?: boolean }) => {
      let bytes: Buffer;
      try {
        bytes = fs.readFileSync(file);
      } catch (err) {
        throw new Invalid(`${file} cannot be read: ${(err as Error).message}`);
      }
      const document = readOrukFile(bytes, file);
      const result = await withDatabase(async (db) => {
        const place = await findPlaceBySlug(db, options.place);
        if (!place) throw new Invalid(`No place with slug ${options.place}`);
        return inPlace(db, place.id, (tx) => importOruk(tx, place.id, document, null));
      });
      console.log(
        options.json ? JSON.stringify(result) : `Added ${result.added} services, updated ${result.updated}.`,
      );
    });
}
