import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { inPlace } from '../core/db.ts';
import { runCli } from '../../test/cli.ts';
import { engineName, openTestDatabase, type TestDatabase } from '../../test/db.ts';
import { makePartner, makePerson, makePlace } from '../../test/support.ts';
import { hashMatchRows } from './domain.ts';
import { matchingKeyFor, rotateMatchingSecret } from './matching-key.ts';
import { matchProposals, saveMatchList } from './match-lists.ts';

describe(`rotating a place's matching secret on ${engineName}`, () => {
  let db: TestDatabase;
  let placeId: number;
  let dir: string;
  let secretsFile: string;
  const oldKey = { keyId: '2024-01', secret: 'an-old-secret-that-is-long-enough-to-use' };

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'placebudget-secrets-'));
    secretsFile = path.join(dir, 'matching.json');
    fs.writeFileSync(
      secretsFile,
      JSON.stringify({
        essex: { key_id: oldKey.keyId, secret: oldKey.secret },
        devon: { key_id: 'd-1', secret: 'devon'.repeat(8) },
      }),
    );
    db = await openTestDatabase({ onDisk: true });
    placeId = await makePlace(db, 'essex');
    const police = await makePartner(db, placeId, 'Essex Police', 'police');
    const analyst = await makePerson(db, 'analyst@essex.test', [[placeId, 'analyst']]);
    const entries = hashMatchRows(
      [{ name: 'Pat Example', date_of_birth: '07/03/1985', postcode: 'CM1 1AA', criteria: 'crime_asb' }],
      oldKey,
    );
    await inPlace(db, placeId, (tx) =>
      saveMatchList(tx, placeId, police, oldKey.keyId, entries, { personId: analyst }),
    );
    await db.close();
  });
  after(async () => {
    await db.drop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const env = () => ({ ...db.env, PLACEBUDGET_MATCHING_SECRETS_FILE: secretsFile });
  const lists = async () => {
    const opened = await db.reopen();
    try {
      return (
        await inPlace(opened, placeId, (tx) =>
          matchProposals(tx, placeId, matchingKeyFor('essex', env()).keyId),
        )
      ).lists;
    } finally {
      await opened.close();
    }
  };

  it('writes a new random secret and key id for the place only, readable by its owner only, and reports the old lists stale', async () => {
    const rotated = await runCli(['families', 'rotate-matching-key', '--place', 'essex'], env());
    assert.equal(rotated.status, 0, rotated.stderr);
    const file = JSON.parse(fs.readFileSync(secretsFile, 'utf8')) as Record<
      string,
      { key_id: string; secret: string }
    >;
    assert.notEqual(file.essex!.key_id, oldKey.keyId);
    assert.notEqual(file.essex!.secret, oldKey.secret);
    assert.ok(file.essex!.secret.length >= 32);
    assert.deepEqual(
      file.devon,
      { key_id: 'd-1', secret: 'devon'.repeat(8) },
      'other places keep their secret',
    );
    assert.equal(fs.statSync(secretsFile).mode & 0o777, 0o600);
    assert.match(rotated.stdout, new RegExp(`New matching key ${file.essex!.key_id}`));
    assert.match(rotated.stdout, /1 lists were hashed with older keys and no longer match/);
    assert.deepEqual(
      (await lists()).map((l) => l.stale),
      [true],
      'the old list is kept but no longer matched',
    );
  });

  it('erases the stale lists when asked, and the audit chain verifies', async () => {
    const erased = await runCli(
      ['families', 'rotate-matching-key', '--place', 'essex', '--erase-stale'],
      env(),
    );
    assert.equal(erased.status, 0, erased.stderr);
    assert.match(erased.stdout, /1 lists hashed with older keys were erased/);
    assert.deepEqual(await lists(), []);
    const verified = await runCli(['audit', 'verify'], db.env);
    assert.equal(verified.status, 0, verified.stdout + verified.stderr);
  });

  it('refuses to rotate a secret that comes from the environment, saying where to change it', () => {
    assert.throws(
      () =>
        rotateMatchingSecret('essex', {
          PLACEBUDGET_MATCHING_SECRET_ESSEX: 'x'.repeat(40),
          PLACEBUDGET_MATCHING_SECRETS_FILE: secretsFile,
        }),
      /comes from PLACEBUDGET_MATCHING_SECRET_ESSEX: set a new value there/,
    );
  });
});
