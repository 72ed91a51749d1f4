import type { Command } from 'commander';
import { withDatabase } from '../core/command.ts';
import { inPlace } from '../core/db.ts';
import { Invalid } from '../core/errors.ts';
import { formatPounds } from '../core/money.ts';
import { findPlaceBySlug } from '../places/public.ts';
import { defaultCatalogue } from './catalogue.ts';
import { rotateMatchingSecret } from './matching-key.ts';
import { costByFamily, productRollup } from './costing.ts';
import { staleMatchLists } from './match-lists.ts';
import { addDays, financialYearLabel, todayIso } from '../core/dates.ts';
import { lastTwelveMonths, validateCostPeriod } from './domain.ts';

export function familyCommands(program: Command) {
  const families = program
    .command('families')
    .description('families with multiple problems: costs per family and cohort roll-ups (no personal data)');
  families
    .command('rotate-matching-key')
    .requiredOption('--place <slug>', 'the place')
    .option('--erase-stale', 'also erase the lists hashed with older keys (they no longer match anything)')
    .description(
      'give the place a new data-matching secret in PLACEBUDGET_MATCHING_SECRETS_FILE; agencies then upload their lists again',
    )
    .action(async (options: { place: string; eraseStale?: boolean }) => {
      const stale = await withDatabase(async (db) => {
        const place = await findPlaceBySlug(db, options.place);
        if (!place) throw new Invalid(`No place with slug ${options.place}`);
        const key = rotateMatchingSecret(place.slug);
        const count = await inPlace(db, place.id, (tx) =>
          staleMatchLists(tx, place.id, key.keyId, options.eraseStale ?? false, { personId: null }),
        );
        return { keyId: key.keyId, count };
      });
      console.log(`New matching key ${stale.keyId} for ${options.place}.`);
      if (stale.count) {
        console.log(
          options.eraseStale
            ? `${stale.count} lists hashed with older keys were erased; each agency uploads its list again.`
            : `${stale.count} lists were hashed with older keys and no longer match; each agency uploads its list again (or run with --erase-stale).`,
        );
      }
    });

  families
    .command('cost')
    .requiredOption('--place <slug>', 'the place')
    .option('--from <date>', 'the first day counted, YYYY-MM-DD; default: 12 months before today')
    .option('--to <date>', 'the day after the last one counted, YYYY-MM-DD; default: tomorrow')
    .option(
      '--json',
      'print {place, from, to, price_base, families: [{reference, total, by_agency, by_year, not_costed}], total: {total, by_agency}} in pence',
    )
    .option(
      '--price-base <year>',
      'uplift unit costs to this financial year (needs a deflator series); default: as published',
    )
    .description('cost per family and in total, by the agency that bears it, for [from, to)')
    .action(
      async (options: { place: string; from?: string; to?: string; json?: boolean; priceBase?: string }) => {
        const priceBase = options.priceBase === undefined ? null : Number(options.priceBase);
        if (priceBase !== null && !Number.isInteger(priceBase))
          throw new Invalid('--price-base takes a year, like 2014');
        const defaults = lastTwelveMonths(todayIso());
        const period = validateCostPeriod(options.from ?? defaults.from, options.to ?? defaults.to);
        const result = await withDatabase(async (db) => {
          const place = await findPlaceBySlug(db, options.place);
          if (!place) throw new Invalid(`No place with slug ${options.place}`);
          return inPlace(db, place.id, (tx) =>
            costByFamily(tx, place.id, defaultCatalogue, priceBase, period),
          );
        });
        if (options.json) {
          console.log(
            JSON.stringify({
              place: options.place,
              ...period,
              price_base: priceBase ?? 'as published',
              families: result.families.map((f) => ({
                reference: f.reference,
                total: f.cost.total,
                by_agency: f.cost.byAgency,
                by_year: f.byYear,
                not_costed: f.notCosted,
              })),
              total: { total: result.total.cost.total, by_agency: result.total.cost.byAgency },
            }),
          );
          return;
        }
        console.log(
          `Cost of events from ${period.from} to ${addDays(period.to, -1)}, ${priceBase ? `${priceBase} prices` : 'unit costs as published'}`,
        );
        for (const f of result.families)
          console.log(`${f.reference.padEnd(14)} ${formatPounds(f.cost.total).padStart(14)}`);
        console.log(`${'Total'.padEnd(14)} ${formatPounds(result.total.cost.total).padStart(14)}`);
        for (const [agency, amount] of Object.entries(result.total.cost.byAgency))
          console.log(`  ${agency.padEnd(12)} ${formatPounds(amount).padStart(14)}`);
        for (const n of result.total.notCosted)
          console.log(`  not costed: ${n.quantity} × ${n.event_type} (no unit cost)`);
      },
    );
  families
    .command('rollup')
    .option('--json', 'print the whole product’s cost by agency and financial year')
    .description('the whole product’s cohort: cost by bearing agency and financial year, across places')
    .action(async (options: { json?: boolean }) => {
      const rollup = await withDatabase((db) => productRollup(db, defaultCatalogue, null));
      if (options.json) return console.log(JSON.stringify(rollup));
      console.log(`${rollup.families} families in ${rollup.places} places`);
      for (const c of rollup.byAgencyYear)
        console.log(
          `${financialYearLabel(c.year)} ${c.agency.padEnd(12)} ${formatPounds(c.cost).padStart(16)}`,
        );
    });
}
