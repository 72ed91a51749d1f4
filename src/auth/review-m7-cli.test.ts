/**
 * The authentication and session findings of the external review of 2026-12 (issue 16), one
 * `describe` per finding, each named in docs/security.md ("Review 2026-12 findings").
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { runCli } from '../../test/cli.ts';
import { engineName, openTestDatabase, type TestDatabase } from '../../test/db.ts';
import { makePartner, makePerson, makePlace } from '../../test/support.ts';

describe(`review 2026-12 M7: separation of duties in the CLI on ${engineName}`, () => {
  let db: TestDatabase;
  before(async () => {
    db = await openTestDatabase({ onDisk: true });
    const place = await makePlace(db, 'north-devon');
    await makePartner(db, place, 'Devon Police', 'police');
    await makePerson(db, 'clerk@devon.test', [[place, 'admin']]);
    await makePerson(db, 'chief@devon.test', [[place, 'admin']]);
    await db.close();
  });
  after(() => db.drop());

  it('grants a role that opens personal data only --by another administrator of the place', async () => {
    const grant = async (...extra: string[]) =>
      await runCli(
        [
          'people',
          'grant',
          '--email',
          'clerk@devon.test',
          '--place',
          'north-devon',
          '--role',
          'key_worker',
          '--partner',
          'Devon Police',
          ...extra,
        ],
        db.env,
      );
    const unnamed = await grant();
    assert.equal(unnamed.status, 2, unnamed.stderr);
    assert.match(unnamed.stderr, /another administrator of the place must grant it/);
    const self = await grant('--by', 'clerk@devon.test');
    assert.equal(self.status, 2, self.stderr);
    assert.match(self.stderr, /nobody grants a role to themselves/);
    const ok = await grant('--by', 'chief@devon.test');
    assert.equal(ok.status, 0, ok.stderr);
    const reopened = await db.reopen();
    try {
      const entry = await reopened.kysely
        .selectFrom('audit_log')
        .innerJoin('people', 'people.id', 'audit_log.person_id')
        .select(['people.email', 'audit_log.action'])
        .where('audit_log.action', '=', 'membership.grant')
        .execute();
      assert.deepEqual(entry, [{ email: 'chief@devon.test', action: 'membership.grant' }]);
    } finally {
      await reopened.close();
    }
  });
});
