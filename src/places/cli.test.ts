import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { engineName, openTestDatabase, type TestDatabase } from '../../test/db.ts';
import { runCli } from '../../test/cli.ts';
import { DEMO_PLACES } from '../demo/data.ts';

describe(`demo data and the places CLI on ${engineName}`, () => {
  let db: TestDatabase;
  before(async () => {
    db = await openTestDatabase({ onDisk: true });
    await db.close(); // the CLI opens the database itself
  });
  after(() => db.drop());

  it('loads the four whole-place pilots and the ten neighbourhoods, once', async () => {
    const first = await runCli(['seed', 'demo'], db.env);
    assert.equal(first.status, 0, first.stderr);
    assert.match(first.stdout, /Loaded 14 demo places/);
    assert.match(first.stdout, /Demo sign-in: admin@placebudget\.example \/ password: /);
    const again = await runCli(['seed', 'demo'], db.env);
    assert.match(again.stdout, /already has 14 places; nothing loaded/);
  });

  it('lists every place as [{slug, name, kind, parent}]', async () => {
    const out = await runCli(['places', 'list', '--json'], db.env);
    assert.equal(out.status, 0, out.stderr);
    const places = JSON.parse(out.stdout) as {
      slug: string;
      name: string;
      kind: string;
      parent: string | null;
    }[];
    assert.equal(places.length, 14);
    for (const p of places) assert.deepEqual(Object.keys(p), ['slug', 'name', 'kind', 'parent']);
    assert.deepEqual(
      places
        .filter((p) => p.kind === 'whole_place')
        .map((p) => p.slug)
        .sort(),
      ['cheshire-west-and-chester', 'essex', 'greater-manchester', 'west-london-tri-borough'],
    );
    assert.equal(places.filter((p) => p.kind === 'neighbourhood').length, 10);
    assert.deepEqual(
      places.find((p) => p.slug === 'white-city'),
      {
        slug: 'white-city',
        name: 'White City',
        kind: 'neighbourhood',
        parent: 'west-london-tri-borough',
      },
    );
  });

  it('carries the figures the public record gives', async () => {
    const facts = DEMO_PLACES.flatMap((p) => p.facts.map((f) => `${p.slug}: ${f.value}`));
    assert.ok(facts.includes('essex: £10.4bn'));
    assert.ok(facts.includes('cheshire-west-and-chester: Over 150 local services'));
    assert.ok(facts.includes('cheshire-west-and-chester: £3bn to £4bn'));
    assert.ok(facts.includes('greater-manchester: 50,000 jobs in the next four years'));
  });

  it('exits 2 with the reason on bad input', async () => {
    const out = await runCli(
      ['places', 'add', '--slug', 'Bad Slug', '--name', 'x', '--kind', 'whole_place'],
      db.env,
    );
    assert.equal(out.status, 2);
    assert.match(out.stderr, /--slug takes lower-case letters/);
    const seed = await runCli(['seed', 'everything'], db.env);
    assert.equal(seed.status, 2);
  });

  it('adds a place and a person with a role, for a council setting up without the demo', async () => {
    assert.equal(
      (
        await runCli(
          ['places', 'add', '--slug', 'north-devon', '--name', 'North Devon', '--kind', 'whole_place'],
          db.env,
        )
      ).status,
      0,
    );
    const add = await runCli(['people', 'add', '--email', 'Clerk@NorthDevon.test', '--name', 'Town Clerk'], {
      ...db.env,
      PLACEBUDGET_PASSWORD: 'a long enough password',
    });
    assert.equal(add.status, 0, add.stderr);
    const grant = await runCli(
      ['people', 'grant', '--email', 'clerk@northdevon.test', '--place', 'north-devon', '--role', 'admin'],
      db.env,
    );
    assert.equal(grant.status, 0, grant.stderr);
    const weak = await runCli(['people', 'add', '--email', 'x@y.test', '--name', 'X'], {
      ...db.env,
      PLACEBUDGET_PASSWORD: 'short',
    });
    assert.equal(weak.status, 2);
    assert.match(weak.stderr, /12 characters or more/);
  });
});
