import type { Command } from 'commander';
import { withDatabase } from '../core/command.ts';
import { inSystem } from '../core/db.ts';
import { Invalid } from '../core/errors.ts';
import { appendAudit } from '../audit/public.ts';
import { hashPassword, validateNewPassword } from '../auth/public.ts';
import { revokeAllSessions } from '../auth/public.ts';
import { ROLES, SEPARATED_ROLES, type Role } from '../auth/domain.ts';
import { PLACE_KINDS, type PlaceKind } from './domain.ts';
import { findPlaceBySlug, listPlaces } from './store.ts';

export function placeCommands(program: Command) {
  const places = program
    .command('places')
    .description('places: whole-place and neighbourhood community budgets');
  places
    .command('list')
    .option('--json', 'print [{slug, name, kind, parent}]')
    .action(async (options: { json?: boolean }) => {
      const rows = await withDatabase(listPlaces);
      if (options.json) return console.log(JSON.stringify(rows));
      for (const p of rows)
        console.log(
          `${p.slug.padEnd(50)} ${p.kind.padEnd(13)} ${p.name}${p.parent ? ` (in ${p.parent})` : ''}`,
        );
    });
  places
    .command('add')
    .requiredOption('--slug <slug>', 'short name for URLs and --place, e.g. north-devon')
    .requiredOption('--name <name>', 'the place’s name')
    .requiredOption('--kind <kind>', `one of ${PLACE_KINDS.join(', ')}`)
    .option('--parent <slug>', 'the whole place a neighbourhood sits in')
    .action(async (options: { slug: string; name: string; kind: string; parent?: string }) => {
      if (!PLACE_KINDS.includes(options.kind as PlaceKind))
        throw new Invalid(`--kind must be one of ${PLACE_KINDS.join(', ')}`);
      if (!/^[a-z0-9]+(-[a-z0-9]+)*$/.test(options.slug))
        throw new Invalid('--slug takes lower-case letters, digits and single hyphens');
      await withDatabase(async (db) => {
        const parent = options.parent ? await findPlaceBySlug(db, options.parent) : undefined;
        if (options.parent && parent?.kind !== 'whole_place')
          throw new Invalid(`--parent ${options.parent} is not a whole place`);
        if (parent && options.kind !== 'neighbourhood')
          throw new Invalid('Only a neighbourhood has a parent place');
        if (await findPlaceBySlug(db, options.slug))
          throw new Invalid(`A place with slug ${options.slug} already exists`);
        await inSystem(db, async (tx) => {
          const row = await tx
            .insertInto('places')
            .values({
              slug: options.slug,
              name: options.name,
              kind: options.kind as PlaceKind,
              parent_id: parent?.id ?? null,
            })
            .returning('id')
            .executeTakeFirstOrThrow();
          await appendAudit(tx, {
            person_id: null,
            place_id: row.id,
            action: 'place.add',
            subject: `place:${row.id}`,
            detail: { slug: options.slug },
          });
        });
      });
      console.log(`Added ${options.name} (${options.slug}).`);
    });

  const people = program.command('people').description('people who sign in, and their roles per place');
  people
    .command('add')
    .requiredOption('--email <email>')
    .requiredOption('--name <name>')
    .description(
      'add a person; the password is read from PLACEBUDGET_PASSWORD so it stays out of shell history',
    )
    .action(async (options: { email: string; name: string }) => {
      const password = process.env.PLACEBUDGET_PASSWORD ?? '';
      const problem = validateNewPassword(password);
      if (problem) throw new Invalid(`PLACEBUDGET_PASSWORD: ${problem}`);
      const email = options.email.trim().toLowerCase();
      const passwordHash = await hashPassword(password);
      await withDatabase((db) =>
        inSystem(db, async (tx) => {
          const clash = await tx
            .selectFrom('people')
            .select('id')
            .where('email', '=', email)
            .executeTakeFirst();
          if (clash) throw new Invalid(`${email} already has an account`);
          const row = await tx
            .insertInto('people')
            .values({ email, name: options.name, password_hash: passwordHash })
            .returning('id')
            .executeTakeFirstOrThrow();
          await appendAudit(tx, {
            person_id: null,
            place_id: null,
            action: 'person.add',
            subject: `person:${row.id}`,
          });
        }),
      );
      console.log(`Added ${options.name} <${email}>.`);
    });
  people
    .command('sign-out-everywhere')
    .requiredOption('--email <email>')
    .description(
      'end every session of a person at once: a lost laptop, a leaver, a suspected stolen password',
    )
    .action(async (options: { email: string }) => {
      const email = options.email.trim().toLowerCase();
      await withDatabase(async (db) => {
        const person = await db.kysely
          .selectFrom('people')
          .select('id')
          .where('email', '=', email)
          .executeTakeFirst();
        if (!person) throw new Invalid(`No person with email ${options.email}`);
        await revokeAllSessions(db, person.id);
        await inSystem(db, (tx) =>
          appendAudit(tx, {
            person_id: null,
            place_id: null,
            action: 'auth.sessions_revoked',
            subject: `person:${person.id}`,
          }),
        );
      });
      console.log(`Every session of ${email} has ended; they must sign in again.`);
    });
  people
    .command('grant')
    .requiredOption('--email <email>')
    .requiredOption('--place <slug>')
    .requiredOption('--role <role>', ROLES.join(', '))
    .option('--partner <name>', 'the partner a partner_rep or key_worker works for')
    .option(
      '--by <email>',
      `the place's administrator who grants it: needed for ${SEPARATED_ROLES.join(', ')}, and never the person granted`,
    )
    .action(
      async (options: { email: string; place: string; role: string; partner?: string; by?: string }) => {
        if (!ROLES.includes(options.role as Role))
          throw new Invalid(`--role must be one of ${ROLES.join(', ')}`);
        const separated = SEPARATED_ROLES.includes(options.role as Role);
        if (separated && !options.by) {
          throw new Invalid(
            `--by: ${options.role} opens personal data or money, so another administrator of the place must grant it (--by their email)`,
          );
        }
        await withDatabase(async (db) => {
          const place = await findPlaceBySlug(db, options.place);
          if (!place) throw new Invalid(`No place with slug ${options.place}`);
          await inSystem(db, async (tx) => {
            const person = await tx
              .selectFrom('people')
              .select('id')
              .where('email', '=', options.email.trim().toLowerCase())
              .executeTakeFirst();
            if (!person) throw new Invalid(`No person with email ${options.email}`);
            let grantedBy: number | null = null;
            if (options.by) {
              const by = await tx
                .selectFrom('people')
                .innerJoin('memberships', 'memberships.person_id', 'people.id')
                .select('people.id')
                .where('people.email', '=', options.by.trim().toLowerCase())
                .where('memberships.place_id', '=', place.id)
                .where('memberships.role', '=', 'admin')
                .executeTakeFirst();
              if (!by) throw new Invalid(`--by: ${options.by} is not an administrator of ${options.place}`);
              if (by.id === person.id)
                throw new Invalid('--by: nobody grants a role to themselves; another administrator must');
              grantedBy = by.id;
            }
            const partner = options.partner
              ? await tx
                  .selectFrom('partners')
                  .select('id')
                  .where('place_id', '=', place.id)
                  .where('name', '=', options.partner)
                  .executeTakeFirst()
              : undefined;
            if (options.partner && !partner)
              throw new Invalid(`${place.name} has no partner called ${options.partner}`);
            await tx
              .insertInto('memberships')
              .values({
                place_id: place.id,
                person_id: person.id,
                role: options.role as Role,
                partner_id: partner?.id ?? null,
              })
              .onConflict((oc) => oc.doNothing())
              .execute();
            await appendAudit(tx, {
              person_id: grantedBy,
              place_id: place.id,
              action: 'membership.grant',
              subject: `person:${person.id}`,
              detail: { role: options.role, via: 'cli' },
            });
          });
        });
        console.log(`${options.email} is now ${options.role} in ${options.place}.`);
      },
    );
}
