import { toCsv } from '../core/csv.ts';
import type { Published, RollupRow } from './publish.ts';

/**
 * The national roll-up as CSV, and a Fiscal Data Package (v0.3) describing it: the money columns
 * are measures in pence (factor 0.01 gives pounds), the kind of place is the dimension. Counts of
 * families are published as text, because "<10" and "[c]" stand in for suppressed counts.
 */
export const ROLLUP_CSV = 'rollup.csv';

const COLUMNS = [
  'place_kind',
  'places',
  'partners',
  'places_reporting_money',
  'pooled_pence',
  'committed_pence',
  'spent_pence',
  'places_reporting_families',
  'families',
  'places_reporting_savings',
  'savings_forecast_pence',
  'savings_realised_pence',
] as const;

const number = (p: Published) => (p.shown ? String(p.value) : '');
const text = (p: Published) => (p.shown ? String(p.value) : p.reason === 'not_available' ? '' : p.text);

export function rollupCsv(rows: RollupRow[]): string {
  return toCsv([
    COLUMNS,
    ...rows.map((r) => [
      r.kind,
      r.places,
      r.partners,
      r.moneyReporting,
      number(r.pot),
      number(r.committed),
      number(r.spent),
      r.familiesReporting,
      text(r.families),
      r.savingsReporting,
      number(r.savingsForecast),
      number(r.savingsRealised),
    ]),
  ]);
}

const money = (title: string, description: string) => ({
  type: 'integer',
  title,
  description,
  constraints: { minimum: 0 },
});

export function rollupDataPackage(asAt: string) {
  const fields = {
    place_kind: {
      type: 'string',
      title: 'Kind of place',
      description: 'all (the national total), whole_place or neighbourhood',
      constraints: { enum: ['all', 'whole_place', 'neighbourhood'] },
    },
    places: { type: 'integer', title: 'Places', description: 'Community budget places of this kind' },
    partners: { type: 'integer', title: 'Partners', description: 'Partner agencies across those places' },
    places_reporting_money: {
      type: 'integer',
      title: 'Places reporting money',
      description: 'Places whose ledger figures are in the money columns',
    },
    pooled_pence: money('Pooled money (pence)', 'Pooled or aligned into the places’ pots'),
    committed_pence: money('Committed (pence)', 'Promised but not yet spent'),
    spent_pence: money('Spent (pence)', 'Actual spend from the pots'),
    places_reporting_families: {
      type: 'integer',
      title: 'Places reporting families',
      description: 'Places whose families record is in the families column',
    },
    families: {
      type: 'string',
      title: 'Families',
      description:
        'Families in the cohorts: a whole number, "<10" for fewer than 10, "[c]" where withheld so a small count cannot be worked out, empty where not available',
    },
    places_reporting_savings: {
      type: 'integer',
      title: 'Places reporting savings',
      description: 'Places whose cost-benefit figures are in the savings columns',
    },
    savings_forecast_pence: money(
      'Forecast savings, approved business cases (pence)',
      'Present value of the fiscal benefits of each business case the board has approved, counted once',
    ),
    savings_realised_pence: money('Savings realised (pence)', 'Savings realised'),
  } as const;
  // Savings are money not spent, so they carry no direction; pots are approved, commitments adjust them.
  const measure = (
    source: string,
    phase: 'approved' | 'adjusted' | 'executed',
    direction?: 'expenditure',
  ) => ({
    source,
    currency: 'GBP',
    factor: 0.01,
    resource: 'rollup',
    phase,
    ...(direction ? { direction } : {}),
  });
  return {
    name: 'placebudget-national-rollup',
    title: 'Community Budgets: national roll-up',
    description:
      'Places, partners, pooled money, families and savings across the community budget network, with small-number suppression applied.',
    profile: 'fiscal-data-package',
    profiles: { fiscal: '*', tabular: '*' },
    countryCode: 'GB',
    granularity: 'aggregated',
    created: asAt,
    license: {
      name: 'OGL-UK-3.0',
      path: 'https://www.nationalarchives.gov.uk/doc/open-government-licence/version/3/',
      title: 'Open Government Licence v3.0',
    },
    resources: [
      {
        name: 'rollup',
        path: ROLLUP_CSV,
        format: 'csv',
        mediatype: 'text/csv',
        encoding: 'utf-8',
        profile: 'tabular-data-resource',
        schema: {
          fields: COLUMNS.map((name) => ({ ...fields[name], name })),
          primaryKey: ['place_kind'],
          missingValues: [''],
        },
      },
    ],
    model: {
      measures: {
        pooled: measure('pooled_pence', 'approved', 'expenditure'),
        committed: measure('committed_pence', 'adjusted', 'expenditure'),
        spent: measure('spent_pence', 'executed', 'expenditure'),
        savings_forecast: measure('savings_forecast_pence', 'approved'),
        savings_realised: measure('savings_realised_pence', 'executed'),
      },
      dimensions: {
        place_kind: {
          attributes: { code: { source: 'place_kind', resource: 'rollup' } },
          primaryKey: 'code',
          dimensionType: 'classification',
          classificationType: 'administrative',
        },
        as_at: {
          attributes: { date: { constant: asAt } },
          primaryKey: 'date',
          dimensionType: 'datetime',
        },
      },
    },
  };
}
