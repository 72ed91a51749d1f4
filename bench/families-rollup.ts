import { sql } from 'kysely';
import { inPlace } from '../src/core/db.ts';
import { defaultCatalogue } from '../src/families/catalogue.ts';
import { costByAgencyYear } from '../src/families/costing.ts';
import { AGENCY_TYPES } from '../src/places/domain.ts';
import { openTestDatabase } from '../test/db.ts';
import { result, type Benchmark } from './types.ts';

const FAMILIES = Number(process.env.BENCH_FAMILIES ?? 120_000);
const RUNS = 3;

async function time<T>(work: () => Promise<T>): Promise<{ ms: number; value: T }> {
  let best = Infinity;
  let value!: T;
  for (let i = 0; i < RUNS; i++) {
    const start = performance.now();
    value = await work();
    best = Math.min(best, performance.now() - start);
  }
  return { ms: Math.round(best), value };
}

/**
 * A national-scale cohort generated in the database (INSERT … SELECT generate_series), costed by
 * agency and financial year through our path (row-level-secured GROUP BY on quantities, priced from
 * the catalogue in TypeScript) against one hand-written GROUP BY joining the same unit costs.
 */
const bench: Benchmark = {
  name: 'families-rollup',
  description: `${FAMILIES.toLocaleString('en-GB')} families and their events costed by agency and year vs a hand-written SQL GROUP BY`,
  async run() {
    const db = await openTestDatabase();
    // 30 million events on PostgreSQL; PGlite (one process, in memory) holds a tenth of that in reasonable time.
    const events = Number(
      process.env.BENCH_FAMILY_EVENTS ?? (db.engine === 'postgres' ? 30_000_000 : 3_000_000),
    );
    try {
      const types = await defaultCatalogue.eventTypes();
      const costs = await defaultCatalogue.unitCosts(
        types.map((t) => t.code),
        null,
      );
      const codes = types.map((t) => t.code);
      const place = await db.kysely
        .insertInto('places')
        .values({ slug: 'national', name: 'National cohort', kind: 'whole_place' })
        .returning('id')
        .executeTakeFirstOrThrow();
      const partners = await db.kysely
        .insertInto('partners')
        .values(
          AGENCY_TYPES.map((agency_type) => ({
            place_id: place.id,
            name: `Partner ${agency_type}`,
            agency_type,
          })),
        )
        .returning('id')
        .execute();
      const p0 = partners[0]!.id;
      const loadStart = performance.now();
      await sql`insert into families (place_id, reference, taken_on, household_name)
        select ${place.id}, 'N-' || g, date '2012-04-01' + (g % 730)::int, null from generate_series(1, ${FAMILIES}) g`.execute(
        db.kysely,
      );
      const first = await db.kysely
        .selectFrom('families')
        .select((eb) => eb.fn.min('id').as('id'))
        .executeTakeFirstOrThrow();
      const codeArray = `{${codes.join(',')}}`;
      const CHUNK = 5_000_000;
      for (let from = 1; from <= events; from += CHUNK) {
        const to = Math.min(events, from + CHUNK - 1);
        await sql`insert into family_events (place_id, family_id, event_type, occurred_on, quantity, partner_id)
          select ${place.id}, ${Number(first.id)} + (g % ${FAMILIES}), (${codeArray}::text[])[1 + (g * 7) % ${codes.length}],
                 date '2011-04-01' + ((g * 13) % 1461)::int, 1 + (g % 3), ${p0} + (g % ${partners.length})
          from generate_series(${from}::bigint, ${to}::bigint) g`.execute(db.kysely);
      }
      await sql`analyze family_events`.execute(db.kysely);
      const loadSeconds = Math.round((performance.now() - loadStart) / 100) / 10;

      const ours = await time(() =>
        inPlace(db, place.id, (tx) => costByAgencyYear(tx, place.id, defaultCatalogue, null)),
      );
      const values = sql.join(
        codes.map((c) => sql`(${c}, ${costs.get(c)!.agency}, ${costs.get(c)!.pence}::bigint)`),
      );
      const baseline = await time(async () => {
        const r = await sql<{ year: number; agency: string; cost: string }>`
          select extract(year from e.occurred_on - interval '3 months')::int as year, u.agency, sum(e.quantity * u.pence) as cost
          from family_events e join (values ${values}) as u(code, agency, pence) on u.code = e.event_type
          where e.place_id = ${place.id}
          group by 1, 2 order by 1, 2`.execute(db.kysely);
        return r.rows.map((x) => ({ year: Number(x.year), agency: x.agency, cost: Number(x.cost) }));
      });
      const same = JSON.stringify(ours.value) === JSON.stringify(baseline.value);
      if (!same) throw new Error('our roll-up and the hand-written GROUP BY disagree');
      return [
        result({
          name: 'families cost by agency and year',
          unit: 'ms',
          value: ours.ms,
          baseline: { name: 'hand-written SQL GROUP BY joining unit costs', value: baseline.ms },
          higherIsBetter: false,
          target: { text: 'ratio <= 2', met: ours.ms <= 2 * baseline.ms },
          engine: db.engine,
          details: {
            families: FAMILIES,
            events,
            load_seconds: loadSeconds,
            cells: ours.value.length,
            best_of: RUNS,
            same_answer: same,
          },
        }),
      ];
    } finally {
      await db.drop();
    }
  },
};

export default bench;
