import { assert, Invalid } from '../core/errors.ts';
import { pence } from '../core/money.ts';
import { DEFLATORS, readReference, referenceFile } from '../reference/figures.ts';
import { isAgencyType, uplift, type UnitCost } from './domain.ts';
import { financialYearLabel } from '../core/dates.ts';

export interface EventType {
  code: string;
  label: string;
}

/**
 * Where the families module gets what an event costs. The cost-benefit module's unit cost
 * database could implement this over its store; today `fileCatalogue` reads the cited event costs
 * in src/reference/data/event-unit-costs.json and uplifts them with the GDP deflators it is given.
 */
export interface UnitCostCatalogue {
  eventTypes(): Promise<EventType[]>;
  /**
   * The unit costs of these event types. `priceBaseYear` null keeps each cost in its published
   * price base; a year uplifts every cost to that financial year's prices. Unknown codes throw Invalid.
   */
  unitCosts(codes: readonly string[], priceBaseYear: number | null): Promise<Map<string, UnitCost>>;
}

/**
 * The unit costs of those codes the catalogue knows. An event recorded under a code it no longer
 * prices is left out, for the caller to show as not costed rather than priced at zero.
 */
export async function knownUnitCosts(
  catalogue: UnitCostCatalogue,
  codes: readonly string[],
  priceBaseYear: number | null,
): Promise<Map<string, UnitCost>> {
  const known = new Set((await catalogue.eventTypes()).map((t) => t.code));
  return catalogue.unitCosts(
    codes.filter((c) => known.has(c)),
    priceBaseYear,
  );
}

interface CatalogueFile {
  deflators: Record<string, number>;
  events: {
    code: string;
    label: string;
    pence: number;
    price_base_year: number;
    agency: string;
    source: string;
  }[];
}

const DATA_FILE = referenceFile('event-unit-costs.json');

/** Reads and checks the shipped data file once; a malformed file is a bug, so it fails loudly. */
export function fileCatalogue(
  file = DATA_FILE,
  deflatorOverride?: Record<string, number>,
): UnitCostCatalogue {
  const data = readReference<CatalogueFile>(file);
  const deflators = deflatorOverride ?? data.deflators;
  const byCode = new Map<string, UnitCost>();
  for (const e of data.events) {
    assert(
      /^[a-z_]{2,40}$/.test(e.code) && !byCode.has(e.code),
      `event type code ${e.code} is well formed and unique`,
    );
    assert(isAgencyType(e.agency), `event type ${e.code} names a known agency type`);
    assert(e.source.length > 10, `event type ${e.code} cites its source`);
    byCode.set(e.code, {
      code: e.code,
      label: e.label,
      pence: pence(e.pence),
      priceBaseYear: e.price_base_year,
      agency: e.agency,
      source: e.source,
    });
  }
  const types = [...byCode.values()]
    .map(({ code, label }) => ({ code, label }))
    .sort((a, b) => a.label.localeCompare(b.label));

  function index(year: number): number {
    const value = deflators[String(year)];
    if (!value)
      throw new Invalid(
        `There is no GDP deflator for ${financialYearLabel(year)} to uplift unit costs with`,
        { price_base: 'Choose "as published" or a year the deflator series covers' },
      );
    return value;
  }

  return {
    async eventTypes() {
      return types;
    },
    async unitCosts(codes, priceBaseYear) {
      const out = new Map<string, UnitCost>();
      for (const code of new Set(codes)) {
        const unit = byCode.get(code);
        if (!unit)
          throw new Invalid(`Unknown event type "${code}"`, { event_type: `Unknown event type "${code}"` });
        out.set(
          code,
          priceBaseYear === null || priceBaseYear === unit.priceBaseYear
            ? unit
            : {
                ...unit,
                pence: uplift(unit.pence, index(unit.priceBaseYear), index(priceBaseYear)),
                priceBaseYear,
              },
        );
      }
      return out;
    },
  };
}

/**
 * The catalogue the app, CLI and demo use: the cited event costs, uplifted between price bases
 * with the cost-benefit module's HM Treasury GDP deflators, so both modules price a year alike.
 */
export const defaultCatalogue: UnitCostCatalogue = fileCatalogue(DATA_FILE, Object.fromEntries(DEFLATORS));
