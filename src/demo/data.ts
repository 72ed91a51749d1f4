import type { Role } from '../auth/domain.ts';
import type { AgencyType, PlaceKind } from '../places/domain.ts';

/**
 * The 2012 Community Budget pilots as the public record describes them. Partner
 * names are the agencies that served each area at the time, chosen to be plausible, not quoted.
 */
export interface DemoPlace {
  slug: string;
  name: string;
  kind: PlaceKind;
  parent?: string;
  localAuthority: string;
  summary: string;
  facts: { label: string; value: string; source: string }[];
  partners: [string, AgencyType][];
  decisions?: { title: string; description: string; signedBy: 'all' | number }[];
}

const PILOTS_2011 = 'DCLG announcement of the 14 community budget pilots for 2012, December 2011';
const LGA_2011 = 'LGA, “Thoughts on the Community Budget pilots”, December 2011';

export const DEMO_PLACES: DemoPlace[] = [
  {
    slug: 'cheshire-west-and-chester',
    name: 'Cheshire West and Chester',
    kind: 'whole_place',
    localAuthority: 'Cheshire West and Chester Council',
    summary:
      'Reviewing over 150 local services with the potential to pool a single budget of £3bn to £4bn: safer, cleaner neighbourhoods, a better deal for unemployed people, a first-class children’s centre and help for older residents to live independently.',
    facts: [
      { label: 'Services under review', value: 'Over 150 local services', source: PILOTS_2011 },
      { label: 'Single budget ambition', value: '£3bn to £4bn', source: PILOTS_2011 },
    ],
    partners: [
      ['Cheshire West and Chester Council', 'council'],
      ['Cheshire Constabulary', 'police'],
      ['NHS Western Cheshire', 'health'],
      ['Jobcentre Plus Cheshire', 'dwp'],
      ['Cheshire Probation Trust', 'probation'],
      ['Cheshire Fire and Rescue Service', 'fire'],
      ['Cheshire Community Action', 'voluntary'],
    ],
    decisions: [
      {
        title: 'Count every public service in the borough before pooling',
        description:
          'Map what each partner spends on the 150+ local services as the basis for a single budget.',
        signedBy: 'all',
      },
    ],
  },
  {
    slug: 'greater-manchester',
    name: 'Greater Manchester',
    kind: 'whole_place',
    localAuthority: 'Association of Greater Manchester Authorities',
    summary:
      'Joint investment from a range of partners to reduce dependency and support growth: 50,000 jobs in four years, with early intervention on unemployment, low skills and dependency.',
    facts: [
      { label: 'Jobs ambition', value: '50,000 jobs in the next four years', source: PILOTS_2011 },
      { label: 'Private sector jobs ambition (LGA)', value: '56,000 over four years', source: LGA_2011 },
    ],
    partners: [
      ['Association of Greater Manchester Authorities', 'council'],
      ['Greater Manchester Police', 'police'],
      ['NHS Greater Manchester', 'health'],
      ['Jobcentre Plus Greater Manchester', 'dwp'],
      ['Greater Manchester Probation Trust', 'probation'],
      ['Greater Manchester Fire and Rescue Service', 'fire'],
      ['Greater Manchester Centre for Voluntary Organisation', 'voluntary'],
    ],
  },
  {
    slug: 'west-london-tri-borough',
    name: 'West London Tri-borough',
    kind: 'whole_place',
    localAuthority: 'Hammersmith & Fulham, Kensington & Chelsea and Westminster councils',
    summary:
      'The Tri-borough guarantee: every young person under 25 in work, education or training; 80% of children achieving five A*–C GCSEs; access to high-quality affordable housing.',
    facts: [
      {
        label: 'Young people',
        value: 'Every young person under 25 in a job, training or education',
        source: PILOTS_2011,
      },
      { label: 'GCSE target', value: '80% of children achieve five A*–C grade GCSEs', source: LGA_2011 },
    ],
    partners: [
      ['Hammersmith & Fulham Council', 'council'],
      ['Royal Borough of Kensington and Chelsea', 'council'],
      ['Westminster City Council', 'council'],
      ['Metropolitan Police Service', 'police'],
      ['NHS North West London', 'health'],
      ['Jobcentre Plus West London', 'dwp'],
      ['London Probation Trust', 'probation'],
      ['London Fire Brigade', 'fire'],
    ],
  },
  {
    slug: 'essex',
    name: 'Essex',
    kind: 'whole_place',
    localAuthority: 'Essex County Council',
    summary:
      'One set of objectives for a £10.4bn public services budget; savings reinvested in prevention and early intervention, not handed back to the Treasury.',
    facts: [
      { label: 'Public services budget', value: '£10.4bn', source: PILOTS_2011 },
      {
        label: 'Priorities',
        value: 'Health and social care, skills for young people, economic growth, community safety',
        source: LGA_2011,
      },
    ],
    partners: [
      ['Essex County Council', 'council'],
      ['Essex Police', 'police'],
      ['NHS Essex', 'health'],
      ['Jobcentre Plus Essex', 'dwp'],
      ['Essex Probation Trust', 'probation'],
      ['Essex County Fire and Rescue Service', 'fire'],
      ['Community Voluntary Services Essex', 'voluntary'],
    ],
    decisions: [
      {
        title: 'Agree one set of objectives for the £10.4bn public services budget',
        description: 'Savings are reinvested in prevention and early intervention.',
        signedBy: 'all',
      },
      {
        title: 'Align the PCSO budget with the council’s community safety spend',
        description: 'Shadow alignment for the first year, pooling to follow a review.',
        signedBy: 3,
      },
    ],
  },
  neighbourhood(
    'white-city',
    'White City',
    'Hammersmith & Fulham Council',
    'west-london-tri-borough',
    'Integrate neighbourhood service budgets, including welfare, crime, social care and clean and green.',
    [
      ['Hammersmith & Fulham Council', 'council'],
      ['Metropolitan Police Service', 'police'],
      ['White City Community Forum', 'voluntary'],
    ],
  ),
  neighbourhood(
    'queens-park',
    'Queens Park',
    'Westminster City Council',
    'west-london-tri-borough',
    'A Recovery and Early Action Partnership bringing services and residents together to focus on families at risk.',
    [
      ['Westminster City Council', 'council'],
      ['Metropolitan Police Service', 'police'],
      ['NHS Westminster', 'health'],
      ['Queens Park Community Council', 'voluntary'],
    ],
  ),
  neighbourhood(
    'poplar',
    'Poplar',
    'Tower Hamlets Council',
    undefined,
    'Neighbourhood services that include support for local enterprise, with more spent on services than on bureaucracy (Poplar HARCA).',
    [
      ['Tower Hamlets Council', 'council'],
      ['Poplar HARCA', 'housing'],
      ['Metropolitan Police Service', 'police'],
    ],
  ),
  neighbourhood(
    'norbiton',
    'Kingston (Norbiton)',
    'Royal Borough of Kingston upon Thames',
    undefined,
    'Extend Local Integrated Services to all neighbourhood funds, looking at housing, policing and community engagement.',
    [
      ['Royal Borough of Kingston upon Thames', 'council'],
      ['Metropolitan Police Service', 'police'],
      ['Kingston Voluntary Action', 'voluntary'],
    ],
  ),
  neighbourhood(
    'ilfracombe',
    'Ilfracombe',
    'North Devon Council',
    undefined,
    'Shadow accounts in a “virtual bank” as the first step to co-commissioning, before moving to budgetary control; neighbourhood services, libraries and highways.',
    [
      ['North Devon Council', 'council'],
      ['Devon County Council', 'council'],
      ['Devon and Cornwall Police', 'police'],
      ['Ilfracombe Town Council', 'voluntary'],
    ],
    [
      {
        title: 'Open shadow accounts in a virtual bank',
        description:
          'Partners keep their money; the pot records what each aligns to neighbourhood services, libraries and highways.',
        signedBy: 'all',
      },
    ],
  ),
  neighbourhood(
    'bradford-trident',
    'Bradford Trident',
    'City of Bradford Metropolitan District Council',
    undefined,
    'Co-commission parish functions, health and employment services, with youth and sports centres run by a social enterprise.',
    [
      ['City of Bradford Metropolitan District Council', 'council'],
      ['NHS Bradford and Airedale', 'health'],
      ['Jobcentre Plus Bradford', 'dwp'],
      ['Bradford Trident', 'voluntary'],
    ],
  ),
  neighbourhood(
    'sherwood',
    'Sherwood',
    'Tunbridge Wells Borough Council',
    undefined,
    'Devolve all appropriate service funding to a resident-led trust.',
    [
      ['Tunbridge Wells Borough Council', 'council'],
      ['Kent Police', 'police'],
      ['Sherwood residents’ trust', 'voluntary'],
    ],
  ),
  neighbourhood(
    'haverhill',
    'Haverhill',
    'St Edmundsbury Borough Council',
    undefined,
    'Devolve a pooled budget to the One Haverhill partnership, embedding local knowledge and community influence over services.',
    [
      ['St Edmundsbury Borough Council', 'council'],
      ['Suffolk County Council', 'council'],
      ['Suffolk Constabulary', 'police'],
      ['One Haverhill', 'voluntary'],
    ],
  ),
  neighbourhood(
    'newcastle-cowgate-kenton-bar-montague',
    'Cowgate, Kenton Bar and Montague',
    'Newcastle City Council',
    undefined,
    'Broker agreements so ward committees can invest in family-support services delivered by a community enterprise.',
    [
      ['Newcastle City Council', 'council'],
      ['Northumbria Police', 'police'],
      ['Cowgate community enterprise', 'voluntary'],
    ],
  ),
  neighbourhood(
    'birmingham-castle-vale-shard-end-balsall-heath',
    'Castle Vale, Shard End and Balsall Heath',
    'Birmingham City Council',
    undefined,
    'Pilots as a catalyst for more pooled budgets focused on prevention: Balsall Heath Forum and Shard End community-led, Castle Vale Community Partnership housing-association led.',
    [
      ['Birmingham City Council', 'council'],
      ['West Midlands Police', 'police'],
      ['Balsall Heath Forum', 'voluntary'],
      ['Castle Vale Community Partnership', 'housing'],
    ],
  ),
];

function neighbourhood(
  slug: string,
  name: string,
  localAuthority: string,
  parent: string | undefined,
  summary: string,
  partners: [string, AgencyType][],
  decisions?: DemoPlace['decisions'],
): DemoPlace {
  return {
    slug,
    name,
    kind: 'neighbourhood',
    ...(parent ? { parent } : {}),
    localAuthority,
    summary,
    facts: [{ label: 'Plan', value: summary, source: LGA_2011 }],
    partners,
    ...(decisions ? { decisions } : {}),
  };
}

/** Shown on start-up so a new user can sign in at once; demo data only, never a real deployment. */
export const DEMO_PASSWORD = 'community-budgets-demo';

export interface DemoPerson {
  email: string;
  name: string;
  /** Roles in the places named; `*` is every demo place. */
  roles: { places: string[] | '*'; role: Role; partner?: string }[];
}

export const DEMO_PEOPLE: DemoPerson[] = [
  { email: 'admin@placebudget.example', name: 'Alex Morgan', roles: [{ places: '*', role: 'admin' }] },
  {
    email: 'finance@placebudget.example',
    name: 'Priya Shah',
    roles: [{ places: ['essex', 'ilfracombe'], role: 'finance' }],
  },
  {
    email: 'police.rep@placebudget.example',
    name: 'Tom Reid',
    roles: [{ places: ['essex'], role: 'partner_rep', partner: 'Essex Police' }],
  },
  {
    email: 'keyworker@placebudget.example',
    name: 'Jo Bennett',
    roles: [{ places: ['essex'], role: 'key_worker', partner: 'Essex County Council' }],
  },
  {
    email: 'analyst@placebudget.example',
    name: 'Sam Okafor',
    roles: [{ places: ['essex', 'greater-manchester'], role: 'analyst' }],
  },
  {
    email: 'resident@placebudget.example',
    name: 'Kim Lewis',
    roles: [{ places: ['ilfracombe'], role: 'resident' }],
  },
  {
    email: 'observer@placebudget.example',
    name: 'Chris Evans',
    roles: [{ places: ['essex'], role: 'observer' }],
  },
];
