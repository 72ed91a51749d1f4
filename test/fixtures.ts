import path from 'node:path';
import { REPO_ROOT } from './cli.ts';

/** Where the data files the tests read live: inside the repository, each cited in test/fixtures/README.md. */
export const FIXTURES_DIR = path.join(REPO_ROOT, 'test/fixtures');

/** The path of one fixture, e.g. `fixture('spend', 'lambeth_2012-06-payments.csv')`. */
export const fixture = (...parts: string[]) => path.join(FIXTURES_DIR, ...parts);

/** Published spend files, byte for byte (Open Government Licence). */
export const SPEND_FIXTURES = {
  devon2017: fixture('spend', 'devon-cc_DCCSpendingOver500_201710.csv'),
  devon2026: fixture('spend', 'devon-cc_DCCSpendingOver500_202603.csv'),
  oxford2015: fixture('spend', 'oxford-city_expenditure-over-500-jan-mar-2015.csv'),
  lambeth2012: fixture('spend', 'lambeth_2012-06-payments.csv'),
} as const;

/** Files made by test/fixtures/synthetic/generate.ts in the shape of published files we may not redistribute. */
export const SYNTHETIC_FIXTURES = {
  countyPayments2010: fixture('synthetic', 'example-county_all-payments-december-2010.csv'),
  purchaseCards2021: fixture('synthetic', 'example-county_p-card-december-2021.csv'),
  serviceDirectory: fixture('synthetic', 'example-directory_oruk-v1-services.json'),
} as const;

/** Published schemas, unmodified (360Giving: CC BY 4.0; Open Referral UK: CC BY-SA 4.0). */
export const STANDARDS_FIXTURES = {
  threeSixtyGivingGrant: fixture('standards', '360-giving-schema.json'),
  threeSixtyGivingPackage: fixture('standards', '360-giving-package-schema.json'),
  orukServiceSchema: fixture('standards', 'oruk-uk-profile-service.schema.json'),
} as const;
