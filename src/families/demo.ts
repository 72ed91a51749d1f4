import { inSystem, type Database, type Tx } from '../core/db.ts';
import { seededRandom } from '../core/random.ts';
import { addMonths, todayIso } from '../core/dates.ts';

const SEED = 20_111_215; // the day the 2012 pilots were announced, as a number
const FAMILIES_PER_PLACE = 12;

/** Event codes by the agency type whose partner logs them (costs come from the unit cost catalogue). */
const TYPICAL: { code: string; agency: string; perYear: [number, number] }[] = [
  { code: 'police_callout', agency: 'police', perYear: [2, 20] },
  { code: 'police_report', agency: 'police', perYear: [0, 15] },
  { code: 'arrest', agency: 'police', perYear: [0, 3] },
  { code: 'ae_attendance', agency: 'health', perYear: [0, 6] },
  { code: 'ambulance_callout', agency: 'health', perYear: [0, 3] },
  { code: 'asb_warning_letter', agency: 'council', perYear: [0, 4] },
  { code: 'child_in_need_case', agency: 'council', perYear: [0, 2] },
  { code: 'social_worker_hour', agency: 'council', perYear: [0, 40] },
  { code: 'jsa_new_claim', agency: 'dwp', perYear: [0, 1] },
];

/**
 * The Salford family of the public record: about 250 interventions in the year before (58 police
 * call-outs, 5 arrests, 5 A&E visits, 2 injunctions, a council tax arrears summons, …), about
 * £200,000 at published unit costs (£192,392), and about a third of that in the year after.
 */
const SALFORD_BEFORE: [string, number][] = [
  ['police_callout', 58],
  ['arrest', 5],
  ['ae_attendance', 5],
  ['asb_injunction', 2],
  ['council_tax_summons', 1],
  ['eviction', 1],
  ['school_exclusion', 2],
  ['looked_after_child_year', 2],
  ['child_protection_assessment', 4],
  ['child_in_need_case', 2],
  ['ambulance_callout', 10],
  ['police_report', 40],
  ['asb_warning_letter', 30],
  ['homelessness_application', 1],
  ['domestic_violence_police', 20],
  ['jsa_new_claim', 2],
  ['social_worker_hour', 65],
];
const SALFORD_AFTER: [string, number][] = [
  ['looked_after_child_year', 1],
  ['police_callout', 10],
  ['police_report', 5],
  ['ae_attendance', 2],
  ['child_in_need_case', 1],
  ['family_support_hour', 40],
];

function spreadDates(random: () => number, from: string, months: number, count: number): string[] {
  const start = Date.parse(`${from}T00:00:00Z`);
  const span = Date.parse(`${addMonths(from, months)}T00:00:00Z`) - start;
  return Array.from({ length: count }, () =>
    new Date(start + Math.floor(random() * (span / 86_400_000)) * 86_400_000).toISOString().slice(0, 10),
  );
}

/** A synthetic cohort for each whole place, generated from one seed: the same families and events on every run. */
export async function seedFamiliesDemo(db: Database, today = todayIso()): Promise<number> {
  const random = seededRandom(SEED);
  return inSystem(db, async (tx) => {
    const places = await tx
      .selectFrom('places')
      .select(['id', 'slug'])
      .where('kind', '=', 'whole_place')
      .orderBy('slug')
      .execute();
    const admin = await tx.selectFrom('people').select('id').orderBy('id').limit(1).executeTakeFirstOrThrow();
    let families = 0;
    for (const place of places) {
      const partners = await tx
        .selectFrom('partners')
        .select(['id', 'agency_type'])
        .where('place_id', '=', place.id)
        .orderBy('id')
        .execute();
      const partnerFor = (agency: string) =>
        (
          partners.find((p) => p.agency_type === agency) ??
          partners.find((p) => p.agency_type === 'council') ??
          partners[0]!
        ).id;
      const agreement = await tx
        .insertInto('family_agreements')
        .values({
          place_id: place.id,
          title: 'Working with families with multiple problems',
          purposes: ['case_work', 'evaluation'],
          data_categories: [
            'identity',
            'household',
            'criminal_offence',
            'health',
            'education',
            'social_care',
          ],
          legal_basis: 'public_task',
          starts_on: addMonths(today, -36),
          ends_on: null,
          created_by: admin.id,
        })
        .returning('id')
        .executeTakeFirstOrThrow();
      await tx
        .insertInto('family_agreement_parties')
        .values(partners.map((p) => ({ place_id: place.id, agreement_id: agreement.id, partner_id: p.id })))
        .execute();
      const prefix = place.slug
        .split('-')
        .map((w) => w[0]!.toUpperCase())
        .join('')
        .slice(0, 4);
      for (let n = 1; n <= FAMILIES_PER_PLACE; n++) {
        const takenOn = addMonths(today, -12 + Math.floor(random() * 6));
        const salford = place.slug === 'greater-manchester' && n === 1;
        const familyId = await addFamily(
          tx,
          place.id,
          `${prefix}-${String(n).padStart(4, '0')}`,
          salford ? 'The Salford example family' : `Demo household ${n}`,
          takenOn,
          partnerFor('council'),
        );
        const before = salford
          ? SALFORD_BEFORE
          : TYPICAL.map(
              (e) =>
                [e.code, e.perYear[0] + Math.floor(random() * (e.perYear[1] - e.perYear[0] + 1))] as [
                  string,
                  number,
                ],
            );
        const afterShare = 0.3 + random() * 0.4;
        const after = salford
          ? SALFORD_AFTER
          : before.map(([code, q]) => [code, Math.floor(q * afterShare)] as [string, number]);
        const agencyOf = (code: string) =>
          TYPICAL.find((e) => e.code === code)?.agency ??
          (code.startsWith('police') || code === 'arrest' || code === 'domestic_violence_police'
            ? 'police'
            : code === 'ae_attendance' || code === 'ambulance_callout'
              ? 'health'
              : code === 'eviction'
                ? 'housing'
                : code === 'school_exclusion'
                  ? 'education'
                  : 'council');
        const rows: { code: string; on: string }[] = [];
        for (const [code, q] of before)
          for (const on of spreadDates(random, addMonths(takenOn, -12), 12, q)) rows.push({ code, on });
        const afterMonths = Math.max(
          1,
          Math.min(12, Math.round((Date.parse(today) - Date.parse(takenOn)) / (30.5 * 86_400_000))),
        );
        for (const [code, q] of after)
          for (const on of spreadDates(random, takenOn, afterMonths, q))
            rows.push({ code, on: on > today ? today : on });
        if (rows.length) {
          await tx
            .insertInto('family_events')
            .values(
              rows.map((r) => ({
                place_id: place.id,
                family_id: familyId,
                event_type: r.code,
                occurred_on: r.on,
                quantity: 1,
                partner_id: partnerFor(agencyOf(r.code)),
                note: '',
              })),
            )
            .execute();
        }
        const involved = partners.filter(() => random() < 0.6);
        if (involved.length) {
          await tx
            .insertInto('family_professionals')
            .values(
              involved.map((p, i) => ({
                place_id: place.id,
                family_id: familyId,
                partner_id: p.id,
                name: `Professional ${i + 1}`,
                role: `${p.agency_type} lead`,
              })),
            )
            .execute();
        }
        families++;
      }
    }
    return families;
  });
}

async function addFamily(
  tx: Tx,
  placeId: number,
  reference: string,
  name: string,
  takenOn: string,
  leadPartner: number,
): Promise<number> {
  const row = await tx
    .insertInto('families')
    .values({
      place_id: placeId,
      reference,
      household_name: name,
      postcode: null,
      taken_on: takenOn,
      status: 'active',
      lead_partner_id: leadPartner,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  await tx
    .insertInto('family_members')
    .values([
      {
        place_id: placeId,
        family_id: row.id,
        name: `${name.split(' ').at(-2) ?? 'Demo'} parent`,
        date_of_birth: '1980-06-15',
        relationship: 'parent',
      },
    ])
    .execute();
  return row.id;
}
