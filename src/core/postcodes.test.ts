import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  formatPostcode,
  isFullPostcode,
  isPostcodeArea,
  normalisePostcode,
  normalisePostcodeArea,
  postcodeInAreas,
  postcodeParts,
} from './postcodes.ts';

describe('postcodes', () => {
  it('reads full postcodes in any case and spacing, and shows them with one space', () => {
    assert.equal(normalisePostcode(' se1  7pb '), 'SE17PB');
    assert.equal(formatPostcode('se17pb'), 'SE1 7PB');
    assert.equal(formatPostcode('w1a 1aa'), 'W1A 1AA');
    assert.equal(isFullPostcode('SE1 7PB'), true);
    assert.equal(isFullPostcode('ec1a1bb'), true);
    assert.equal(isFullPostcode('SE1 7'), false);
    assert.equal(isFullPostcode('SE1 7PBX'), false);
    assert.equal(isFullPostcode('not a postcode'), false);
  });

  it('splits a full postcode into its district and sector', () => {
    assert.deepEqual(postcodeParts('w12 7pq'), { district: 'W12', sector: 'W12 7' });
    assert.deepEqual(postcodeParts('E14 0AB'), { district: 'E14', sector: 'E14 0' });
    assert.equal(postcodeParts('W12 7'), null);
  });

  it('reads districts and sectors, where the space matters', () => {
    assert.equal(normalisePostcodeArea(' w12  7 '), 'W12 7');
    assert.equal(isPostcodeArea('W12'), true);
    assert.equal(isPostcodeArea('E1 4'), true);
    assert.equal(isPostcodeArea('W12 7PQ'), false);
    assert.equal(postcodeInAreas(['E14'], 'E1 4AB'), false);
    assert.equal(postcodeInAreas(['E1 4'], 'E1 4AB'), true);
    assert.equal(postcodeInAreas(['E14'], 'E14 0AB'), true);
  });

  it('formats any full postcode so it reads back the same, in its own district and sector', () => {
    const letters = fc.constantFrom(...'ABCDEFGHJKLMNOPRSTUWYZ');
    const digit = fc.integer({ min: 0, max: 9 }).map(String);
    const postcode = fc
      .tuple(
        fc.array(letters, { minLength: 1, maxLength: 2 }),
        digit,
        fc.option(digit),
        digit,
        letters,
        letters,
      )
      .map(([area, d, d2, s, u1, u2]) => `${area.join('')}${d}${d2 ?? ''}${s}${u1}${u2}`);
    fc.assert(
      fc.property(postcode, fc.boolean(), (p, lower) => {
        const typed = lower ? p.toLowerCase() : p;
        const shown = formatPostcode(typed);
        const parts = postcodeParts(typed)!;
        return (
          isFullPostcode(typed) &&
          normalisePostcode(shown) === p &&
          shown.startsWith(`${parts.district} `) &&
          postcodeInAreas([parts.sector], shown) &&
          isPostcodeArea(parts.district) &&
          isPostcodeArea(parts.sector)
        );
      }),
    );
  });
});
