import { assert } from '../core/errors.ts';

/**
 * Small-number suppression for published counts of families and people.
 *
 * Primary: a count under 10 is shown as "<10". Secondary: a count that could be worked out from
 * the published cells (a total less its published parts, or any combination of the totals and
 * subtotals of the tables it appears in) is withheld too, until no suppressed cell is determined
 * by what is published. Cells a place has not agreed to share are treated like suppressed ones,
 * so opting out cannot be undone by subtraction. Derived figures (cost per family, change after
 * intervention) are withheld whenever a count they rest on is.
 */
export const SMALL_COUNT = 10;

export interface CountCell {
  id: string;
  value: number;
  /** False for a place that does not share its figures: never shown, never derivable. */
  shareable: boolean;
}

/** `total` = sum of `parts`, as published across the tables. */
export interface Relation {
  total: string;
  parts: string[];
}

export type Reason = 'small' | 'secondary' | 'not_shared';

export interface Disclosure {
  /** Why each suppressed cell is withheld; a cell not in the map may be published. */
  suppressed: Map<string, Reason>;
  isPublished(id: string): boolean;
}

/** At most this many cells in one publication: the network has hundreds of places, not millions. */
export const MAX_CELLS = 5_000;

export function controlDisclosure(cells: CountCell[], relations: Relation[]): Disclosure {
  assert(cells.length <= MAX_CELLS, `at most ${MAX_CELLS} cells in one publication`);
  const index = new Map(cells.map((c, i) => [c.id, i]));
  assert(index.size === cells.length, 'cell ids are unique');
  for (const r of relations) {
    assert(r.parts.length > 0, `relation for ${r.total} has parts`);
    for (const id of [r.total, ...r.parts]) assert(index.has(id), `relation names a known cell: ${id}`);
  }
  for (const c of cells)
    assert(Number.isSafeInteger(c.value) && c.value >= 0, `a count is a whole number: ${c.id}`);

  const suppressed = new Map<string, Reason>();
  for (const c of cells) {
    if (!c.shareable) suppressed.set(c.id, 'not_shared');
    else if (c.value < SMALL_COUNT) suppressed.set(c.id, 'small');
  }

  // Each round suppresses one more cell, so this ends within one round per cell.
  for (let round = 0; round <= cells.length; round++) {
    const exposed = determinedCells(cells, relations, suppressed);
    if (exposed.length === 0) return disclosure(suppressed);
    const exposedSet = new Set(exposed);
    const candidates = relations
      .filter((r) => [r.total, ...r.parts].some((id) => exposedSet.has(id)))
      .flatMap((r) => [r.total, ...r.parts])
      .filter((id) => !suppressed.has(id));
    assert(candidates.length > 0, 'an exposed cell has a published neighbour to suppress');
    // Withhold the smallest published cell: the least information lost, and parts before totals.
    const byValue = (id: string) => cells[index.get(id)!]!.value;
    const chosen = [...new Set(candidates)].sort((a, b) => byValue(a) - byValue(b) || a.localeCompare(b))[0]!;
    suppressed.set(chosen, 'secondary');
  }
  assert(false, 'secondary suppression did not settle');
}

function disclosure(suppressed: Map<string, Reason>): Disclosure {
  return { suppressed, isPublished: (id) => !suppressed.has(id) };
}

/**
 * The suppressed cells whose value follows from the published ones. With the relations as
 * equations, the published values moved to the right-hand side, a suppressed cell is determined
 * exactly when, in the reduced row echelon form over the suppressed cells, it is a pivot whose
 * row has no other suppressed cell left in it.
 */
export function determinedCells(
  cells: CountCell[],
  relations: Relation[],
  suppressed: Map<string, Reason>,
): string[] {
  const unknown = cells.filter((c) => suppressed.has(c.id)).map((c) => c.id);
  const column = new Map(unknown.map((id, i) => [id, i]));
  const rows: bigint[][] = relations
    .map((r) => {
      const row = new Array<bigint>(unknown.length).fill(0n);
      const add = (id: string, coefficient: bigint) => {
        const at = column.get(id);
        if (at !== undefined) row[at]! += coefficient;
      };
      add(r.total, 1n);
      for (const part of r.parts) add(part, -1n);
      return row;
    })
    .filter((row) => row.some((x) => x !== 0n));
  const pivots = reduce(rows, unknown.length);
  return pivots
    .filter(({ row, col }) => rows[row]!.every((x, j) => j === col || x === 0n))
    .map(({ col }) => unknown[col]!);
}

const abs = (x: bigint) => (x < 0n ? -x : x);
const gcd = (a: bigint, b: bigint): bigint => (b === 0n ? abs(a) : gcd(b, a % b));

/** Fraction-free Gauss–Jordan elimination in place; returns each pivot's row and column. */
function reduce(rows: bigint[][], columns: number): { row: number; col: number }[] {
  const pivots: { row: number; col: number }[] = [];
  let r = 0;
  for (let c = 0; c < columns && r < rows.length; c++) {
    const p = rows.findIndex((row, i) => i >= r && row[c] !== 0n);
    if (p < 0) continue;
    [rows[r], rows[p]] = [rows[p]!, rows[r]!];
    const pivot = rows[r]!;
    for (let i = 0; i < rows.length; i++) {
      const row = rows[i]!;
      if (i === r || row[c] === 0n) continue;
      const factor = row[c]!;
      const scale = pivot[c]!;
      for (let j = 0; j < columns; j++) row[j] = row[j]! * scale - pivot[j]! * factor;
      const g = row.reduce((acc, x) => gcd(acc, x), 0n);
      if (g > 1n) for (let j = 0; j < columns; j++) row[j] = row[j]! / g;
    }
    pivots.push({ row: r, col: c });
    r++;
  }
  return pivots;
}

/** What a reader sees for a count: the number, "<10", or "[c]" for a cell withheld to protect another. */
export type PublishedCount =
  { shown: true; value: number; text: string } | { shown: false; text: '<10' | '[c]'; reason: Reason };

const whole = new Intl.NumberFormat('en-GB');

export function publishCount(value: number, reason: Reason | undefined): PublishedCount {
  if (!reason) return { shown: true, value, text: whole.format(value) };
  return { shown: false, text: reason === 'small' ? '<10' : '[c]', reason };
}
