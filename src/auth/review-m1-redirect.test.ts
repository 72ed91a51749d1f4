/**
 * The authentication and session findings of the external review of 2026-12 (issue 16), one
 * `describe` per finding, each named in docs/security.md ("Review 2026-12 findings").
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { engineName } from '../../test/db.ts';
import {
  makePerson,
  makePlace,
  signInAs,
  startTestApp,
  type SignedIn,
  type TestApp,
} from '../../test/support.ts';
import { safeNext } from './pages.ts';

const BASES = [new URL('http://placebudget.invalid/'), new URL('https://budget.example.org:8443/app')];

describe('review 2026-12 M1: open redirect after sign-in (safeNext)', () => {
  it('refuses the review’s payloads and their relatives', () => {
    for (const hostile of [
      '/\t/evil.example/phish',
      '/%09/evil.example/phish',
      '/\n/evil.example',
      '/\r/evil.example',
      '/%0d%0a/evil.example',
      '/.//evil.example',
      '/%2F/evil.example',
      '/%5Cevil.example',
      '/\\evil.example',
      '//evil.example',
      '/./%2F/evil.example',
      'https://evil.example/',
      'javascript:alert(1)',
      '/%E0%A4%A',
    ])
      assert.equal(safeNext(hostile), '/', JSON.stringify(hostile));
    assert.equal(safeNext('/places/essex?tab=people#top'), '/places/essex?tab=people#top');
    assert.equal(safeNext('/places/essex/../devon'), '/places/devon');
  });

  it('whatever it is given, returns a path that stays on this site as sent and once decoded (property)', () => {
    const piece = fc.constantFrom(
      '/',
      '\\',
      '.',
      '%',
      '09',
      '0a',
      '0d',
      '2f',
      '5c',
      '2e',
      '\t',
      '\n',
      '\r',
      ' ',
      '\u0000',
      '\u007f',
      '\u3000',
      '\u2028',
      '@',
      ':',
      '?',
      '#',
      'evil.example',
      'places',
      'http:',
      'javascript:',
      '%2F',
      '%5C',
      '%09',
      '\uff0f',
    );
    fc.assert(
      fc.property(
        fc.array(piece, { maxLength: 12 }).map((parts) => parts.join('')),
        (input) => {
          const result = safeNext(input);
          if (result === '/') return;
          assert.match(result, /^\/(?![/\\])/);
          assert.ok(
            [...result].every((c) => c > ' ' && c !== '\u007f' && c !== '\\'),
            'no control character, space or backslash',
          );
          for (const base of BASES) {
            assert.equal(new URL(result, base).origin, base.origin);
            assert.equal(new URL(decodeURIComponent(result), base).origin, base.origin);
          }
          assert.equal(safeNext(result), result, 'stable');
        },
      ),
      { numRuns: 2000 },
    );
  });
});

describe(`review 2026-12 M1: open redirect through the sign-in page on ${engineName}`, () => {
  let t: TestApp;
  let session: SignedIn;
  before(async () => {
    t = await startTestApp();
    const essex = await makePlace(t.db, 'essex');
    session = await signInAs(t.db, await makePerson(t.db, 'someone@essex.test', [[essex, 'observer']]));
  });
  after(() => t.close());

  it('sends a signed-in visitor with next=/%09/evil.example nowhere but this site', async () => {
    const res = await t.app.inject({
      method: 'GET',
      url: '/sign-in?next=/%09/evil.example/phish',
      headers: session.read,
    });
    assert.equal(res.statusCode, 302);
    assert.equal(new URL(String(res.headers.location), BASES[0]).origin, BASES[0]!.origin);
  });
});
