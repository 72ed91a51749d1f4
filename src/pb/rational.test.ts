import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { Rational } from './rational.ts';

describe('exact fractions', () => {
  it('keeps fractions in lowest terms with a positive denominator', () => {
    // 6/-4 = -3/2
    const r = Rational.of(6, -4);
    assert.equal(r.num, -3n);
    assert.equal(r.den, 2n);
    assert.equal(r.toString(), '-3/2');
  });

  it('adds, subtracts, multiplies and compares exactly where floats would not', () => {
    // 1/10 + 2/10 = 3/10 exactly (0.1 + 0.2 !== 0.3 in floats)
    assert.equal(Rational.of(1, 10).add(Rational.of(2, 10)).cmp(Rational.of(3, 10)), 0);
    // 5/2 - 1/3 = 13/6; 13/6 · 3/2 = 13/4; floor(13/4) = 3; floor(-13/4) = -4
    const x = Rational.of(5, 2).sub(Rational.of(1, 3));
    assert.equal(x.toString(), '13/6');
    assert.equal(x.mul(Rational.of(3, 2)).toString(), '13/4');
    assert.equal(Rational.of(13, 4).floor(), 3n);
    assert.equal(Rational.of(-13, 4).floor(), -4n);
    assert.equal(Rational.of(7, 2).cmpInt(3n), 1);
    assert.equal(Rational.of(6, 2).cmpInt(3n), 0);
  });

  it('refuses a zero denominator', () => {
    assert.throws(() => Rational.of(1, 0), /zero denominator/);
  });

  it('subtraction undoes addition and comparison agrees with the difference', () => {
    const rat = fc
      .tuple(fc.bigInt({ min: -(10n ** 12n), max: 10n ** 12n }), fc.bigInt({ min: 1n, max: 10n ** 9n }))
      .map(([n, d]) => Rational.of(n, d));
    fc.assert(
      fc.property(rat, rat, (a, b) => {
        assert.equal(a.add(b).sub(b).cmp(a), 0);
        const diff = a.sub(b);
        assert.equal(a.cmp(b), diff.num === 0n ? 0 : diff.num > 0n ? 1 : -1);
      }),
    );
  });
});
