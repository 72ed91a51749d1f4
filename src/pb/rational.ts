import { assert } from '../core/errors.ts';

/**
 * An exact fraction of two BigInts, always in lowest terms with a positive denominator, so
 * that equal values have equal parts. Counting rules compare shares of money; a float would
 * make ties (which the tie-break must settle) depend on rounding noise.
 */
export class Rational {
  private constructor(
    readonly num: bigint,
    readonly den: bigint,
  ) {}

  static readonly ZERO = new Rational(0n, 1n);

  static of(num: bigint | number, den: bigint | number = 1n): Rational {
    const n = BigInt(num);
    let d = BigInt(den);
    assert(d !== 0n, 'a fraction cannot have a zero denominator');
    let top = n;
    if (d < 0n) {
      top = -top;
      d = -d;
    }
    const g = gcd(top < 0n ? -top : top, d);
    return g === 1n ? new Rational(top, d) : new Rational(top / g, d / g);
  }

  add(other: Rational): Rational {
    if (this.den === other.den) return Rational.of(this.num + other.num, this.den);
    return Rational.of(this.num * other.den + other.num * this.den, this.den * other.den);
  }

  sub(other: Rational): Rational {
    if (this.den === other.den) return Rational.of(this.num - other.num, this.den);
    return Rational.of(this.num * other.den - other.num * this.den, this.den * other.den);
  }

  mul(other: Rational): Rational {
    return Rational.of(this.num * other.num, this.den * other.den);
  }

  mulInt(k: bigint): Rational {
    return Rational.of(this.num * k, this.den);
  }

  divInt(k: bigint): Rational {
    return Rational.of(this.num, this.den * k);
  }

  /** -1, 0 or 1, like a sort comparator. */
  cmp(other: Rational): -1 | 0 | 1 {
    const left = this.num * other.den;
    const right = other.num * this.den;
    return left < right ? -1 : left > right ? 1 : 0;
  }

  /** Compares with an integer without building a fraction for it. */
  cmpInt(k: bigint): -1 | 0 | 1 {
    const right = k * this.den;
    return this.num < right ? -1 : this.num > right ? 1 : 0;
  }

  isZero(): boolean {
    return this.num === 0n;
  }

  /** The largest integer not above the value. */
  floor(): bigint {
    const q = this.num / this.den;
    return this.num < 0n && q * this.den !== this.num ? q - 1n : q;
  }

  toString(): string {
    return this.den === 1n ? String(this.num) : `${this.num}/${this.den}`;
  }

  /** For display only (charts, explanations); never for a decision. */
  toNumber(): number {
    return Number(this.num) / Number(this.den);
  }
}

function gcd(a: bigint, b: bigint): bigint {
  while (b !== 0n) [a, b] = [b, a % b];
  return a === 0n ? 1n : a;
}
