import { inSystem, type Database } from '../core/db.ts';
import { appendAudit } from '../audit/public.ts';
import { hashPassword, verifyPassword } from '../auth/public.ts';
import { assert } from '../core/errors.ts';
import { seedOutcomesDemo } from '../outcomes/demo.ts';
import { signOffState } from '../places/domain.ts';
import { DEMO_PASSWORD, DEMO_PEOPLE, DEMO_PLACES } from './data.ts';
import { seedLedgerDemo } from '../ledger/demo.ts';
import { seedFamiliesDemo } from '../families/demo.ts';
import { seedServicesDemo } from '../services/demo.ts';
import { seedCbaDemo } from '../cba/demo.ts';
import { seedPbDemo } from '../pb/demo.ts';
import { buildWiring } from '../wiring/index.ts';

export interface SeedResult {
  seeded: boolean;
  places: number;
  login: { email: string; password: string };
}

const login = { email: DEMO_PEOPLE[0]!.email, password: DEMO_PASSWORD };

/** True when a demo account can still sign in with the published demo password. */
export async function demoPasswordWorks(db: Database): Promise<boolean> {
  const rows = await db.kysely
    .selectFrom('people')
    .select('password_hash')
    .where(
      'email',
      'in',
      DEMO_PEOPLE.map((p) => p.email),
    )
    .where('password_hash', 'is not', null)
    .execute();
  for (const hash of new Set(rows.map((r) => r.password_hash)))
    if (await verifyPassword(DEMO_PASSWORD, hash)) return true;
  return false;
}

/** Loads the pilots once; on a database that already has places it changes nothing. */
export async function seedDemo(db: Database): Promise<SeedResult> {
  const existing = await db.kysely
    .selectFrom('places')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirstOrThrow();
  if (Number(existing.n) > 0) return { seeded: false, places: Number(existing.n), login };
  const passwordHash = await hashPassword(DEMO_PASSWORD);

  await inSystem(db, async (tx) => {
    const placeIds = new Map<string, number>();
    const partnerIds = new Map<string, number>();
    for (const place of DEMO_PLACES) {
      const row = await tx
        .insertInto('places')
        .values({
          slug: place.slug,
          name: place.name,
          kind: place.kind,
          parent_id: place.parent ? placeIds.get(place.parent)! : null,
          local_authority: place.localAuthority,
          summary: place.summary,
        })
        .returning('id')
        .executeTakeFirstOrThrow();
      placeIds.set(place.slug, row.id);
      const partners = await tx
        .insertInto('partners')
        .values(place.partners.map(([name, agency_type]) => ({ place_id: row.id, name, agency_type })))
        .returning(['id', 'name'])
        .execute();
      for (const p of partners) partnerIds.set(`${place.slug}|${p.name}`, p.id);
      await tx
        .insertInto('place_facts')
        .values(place.facts.map((f) => ({ place_id: row.id, ...f })))
        .execute();
    }

    const people = new Map<string, number>();
    for (const person of DEMO_PEOPLE) {
      const row = await tx
        .insertInto('people')
        .values({ email: person.email, name: person.name, password_hash: passwordHash })
        .returning('id')
        .executeTakeFirstOrThrow();
      people.set(person.email, row.id);
      for (const grant of person.roles) {
        const slugs = grant.places === '*' ? DEMO_PLACES.map((p) => p.slug) : grant.places;
        for (const slug of slugs) {
          const partnerId = grant.partner ? partnerIds.get(`${slug}|${grant.partner}`) : undefined;
          assert(!grant.partner || partnerId, `demo partner ${grant.partner} exists in ${slug}`);
          await tx
            .insertInto('memberships')
            .values({
              place_id: placeIds.get(slug)!,
              person_id: row.id,
              role: grant.role,
              partner_id: partnerId ?? null,
            })
            .execute();
        }
      }
    }

    const admin = people.get(login.email)!;
    for (const place of DEMO_PLACES) {
      const placeId = placeIds.get(place.slug)!;
      const ids = place.partners.map(([name]) => partnerIds.get(`${place.slug}|${name}`)!);
      for (const decision of place.decisions ?? []) {
        const signed = decision.signedBy === 'all' ? ids : ids.slice(0, decision.signedBy);
        const met = signOffState('all', ids, signed).met;
        const row = await tx
          .insertInto('decisions')
          .values({
            place_id: placeId,
            title: decision.title,
            description: decision.description,
            sign_off_rule: 'all',
            proposed_by: admin,
            agreed_at: met ? new Date() : null,
          })
          .returning('id')
          .executeTakeFirstOrThrow();
        await tx
          .insertInto('decision_sign_offs')
          .values(
            signed.map((partner_id) => ({
              place_id: placeId,
              decision_id: row.id,
              partner_id,
              signed_by: admin,
            })),
          )
          .execute();
      }
    }
    await seedLedgerDemo(tx, admin);
    await seedOutcomesDemo(tx, placeIds, admin);
    await seedServicesDemo(tx, placeIds, admin);
    await seedCbaDemo(tx, placeIds, admin);
    await seedPbDemo(tx, placeIds, admin, buildWiring().pb);
    await appendAudit(tx, {
      person_id: null,
      place_id: null,
      action: 'demo.seed',
      subject: 'places',
      detail: { places: DEMO_PLACES.length, people: DEMO_PEOPLE.length },
    });
  });
  await seedFamiliesDemo(db);
  return { seeded: true, places: DEMO_PLACES.length, login };
}
