import type { Tx } from '../core/db.ts';
import { pence } from '../core/money.ts';
import {
  balancedTransaction,
  type AccountKind,
  type BudgetMode,
  type NewAccount,
  type TransactionInput,
} from './domain.ts';
import { createAccounts } from './accounts.ts';
import { postTransactions } from './postings.ts';
import { raiseCommitment, spendCommitment } from './commitments.ts';
import { addAgreement, setBudgetMode } from './agreements.ts';

/**
 * Illustrative 2012/13 pooled budgets for the demo pilots: not published figures. Whole places
 * pool millions (Essex most, its pilot covering a £10.4bn public-services budget); neighbourhoods
 * pool tens or hundreds of thousands; Ilfracombe keeps shadow accounts in a virtual bank.
 */
const POOL_POUNDS: Record<string, number> = {
  essex: 12_000_000,
  'greater-manchester': 9_000_000,
  'cheshire-west-and-chester': 7_500_000,
  'west-london-tri-borough': 6_000_000,
  ilfracombe: 240_000,
};
const NEIGHBOURHOOD_POUNDS = 150_000;
const SHADOW = new Set(['ilfracombe']);

const WHOLE_PLACE_SERVICES = [
  'Families with complex needs',
  'Work and skills',
  'Early help',
  'Community safety',
];
const NEIGHBOURHOOD_SERVICES: Record<string, string[]> = {
  ilfracombe: ['Neighbourhood services', 'Libraries', 'Highways'],
};
const DEFAULT_NEIGHBOURHOOD_SERVICES = ['Youth and family support', 'Community safety', 'Local environment'];

const FUNDING_STREAMS: Record<string, string> = {
  council: 'Early intervention grant',
  police: 'PCSO budget',
  health: 'Public health prevention',
  dwp: 'Flexible Support Fund',
  probation: 'Offender management',
  fire: 'Community fire safety',
  housing: 'Tenancy sustainment',
  voluntary: 'Volunteer time and premises',
};

const code = (prefix: string, i: number) => `${prefix}-${String(i + 1).padStart(2, '0')}`;

/** A year of contributions, allocations, commitments and spend for one demo place. */
async function seedPlace(tx: Tx, place: { id: number; slug: string; kind: string }, adminId: number) {
  const system = { personId: null };
  const partners = await tx
    .selectFrom('partners')
    .select(['id', 'name', 'agency_type'])
    .where('place_id', '=', place.id)
    .orderBy('id')
    .execute();
  if (partners.length === 0) return;
  const poolPence = pence((POOL_POUNDS[place.slug] ?? NEIGHBOURHOOD_POUNDS) * 100);
  const services =
    place.kind === 'whole_place'
      ? WHOLE_PLACE_SERVICES
      : (NEIGHBOURHOOD_SERVICES[place.slug] ?? DEFAULT_NEIGHBOURHOOD_SERVICES);
  const mode: BudgetMode = SHADOW.has(place.slug) ? 'shadow' : 'pooled';

  const accounts: NewAccount[] = [];
  const account = (
    c: string,
    name: string,
    kind: AccountKind,
    extra: { partner_id?: number; service?: string } = {},
  ) =>
    accounts.push({
      code: c,
      name,
      kind,
      partner_id: extra.partner_id ?? null,
      service: extra.service ?? null,
    });
  account('POT', mode === 'shadow' ? 'Virtual bank (shadow pot)' : 'Pooled budget', 'pot');
  account('REINVEST', 'Savings reinvestment', 'reinvestment');
  account('INCOME-PBR', 'Payment-by-results income', 'income');
  partners.forEach((p, i) =>
    account(code('CONTRIB', i), `${p.name} contribution`, 'contribution', { partner_id: p.id }),
  );
  services.forEach((s, i) => {
    account(code('ALLOC', i), `${s} allocation`, 'allocation', { service: s });
    account(code('COMMIT', i), `${s} commitments`, 'commitment', { service: s });
    account(code('SPEND', i), `${s} spend`, 'spend', { service: s });
  });
  await createAccounts(tx, place.id, accounts, system);

  const decision = await tx
    .insertInto('decisions')
    .values({
      place_id: place.id,
      title: `${mode === 'shadow' ? 'Align' : 'Pool'} partner budgets for 2012/13`,
      description:
        'Contribution agreements with risk shares for over- and underspend, signed off by every partner.',
      kind: 'budget',
      sign_off_rule: 'all',
      proposed_by: adminId,
      agreed_at: new Date('2012-03-20T10:00:00Z'),
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  await tx
    .insertInto('decision_sign_offs')
    .values(
      partners.map((p) => ({
        place_id: place.id,
        decision_id: decision.id,
        partner_id: p.id,
        signed_by: adminId,
      })),
    )
    .execute();
  await setBudgetMode(
    tx,
    place.id,
    {
      financial_year: 2012,
      mode,
      effective_from: '2012-04-01',
      decision_id: decision.id,
      host_partner_id: mode === 'pooled' ? partners[0]!.id : null,
    },
    system,
  );

  // The lead council puts in half; the other partners share the rest equally.
  const others = partners.length - 1;
  const shares = partners.map((_, i) =>
    i === 0 || others === 0
      ? others === 0
        ? 10_000
        : 5_000
      : Math.floor(5_000 / others) + (i <= 5_000 % others ? 1 : 0),
  );
  const amounts = shares.map((bp) => pence(Math.round((poolPence * bp) / 10_000)));
  for (const [i, p] of partners.entries()) {
    await addAgreement(
      tx,
      place.id,
      {
        financial_year: 2012,
        partner_id: p.id,
        funding_stream: FUNDING_STREAMS[p.agency_type] ?? 'Contribution',
        amount_pence: amounts[i]!,
        form: p.agency_type === 'voluntary' ? 'in_kind' : 'cash',
        ring_fence:
          p.agency_type === 'dwp' ? 'Employment support for families on out-of-work benefits' : null,
        host_partner_id: mode === 'pooled' ? partners[0]!.id : null,
        overspend_share_bp: shares[i]!,
        underspend_share_bp: Math.floor(shares[i]! / 2),
        exit_terms:
          'Twelve months’ notice at the end of a financial year; commitments already raised are honoured.',
        decision_id: decision.id,
        contribution_account: code('CONTRIB', i),
      },
      system,
    );
  }

  const txn = (key: string, date: string, memo: string, postings: [string, number][]): TransactionInput => ({
    key,
    date,
    memo,
    decision_id: decision.id,
    postings: postings.map(([a, x]) => ({ account: a, amount_pence: pence(x) })),
  });
  const post = (kind: 'contribution' | 'allocation' | 'spend' | 'income', transactions: TransactionInput[]) =>
    postTransactions(tx, place.id, transactions.map(balancedTransaction), { kind, actor: system });

  // Contributions in two halves, April and October.
  await post(
    'contribution',
    partners.flatMap((p, i) => {
      const first = Math.floor(amounts[i]! / 2);
      const second = amounts[i]! - first;
      return [
        txn(`contrib-2012-h1-${i + 1}`, '2012-04-02', `${p.name}: first half`, [
          ['POT', first],
          [code('CONTRIB', i), -first],
        ]),
        txn(`contrib-2012-h2-${i + 1}`, '2012-10-01', `${p.name}: second half`, [
          ['POT', second],
          [code('CONTRIB', i), -second],
        ]),
      ];
    }),
  );
  // 95% allocated to services by weight (4:3:2:1 …), the rest held in the pot as contingency.
  const weights = services.map((_, i) => services.length - i);
  const weightTotal = weights.reduce((a, b) => a + b, 0);
  const allocated = services.map((_, i) => Math.floor((poolPence * 95 * weights[i]!) / (100 * weightTotal)));
  await post('allocation', [
    txn('alloc-2012', '2012-04-10', 'Allocations to services, 2012/13', [
      ...services.map((_, i): [string, number] => [code('ALLOC', i), allocated[i]!]),
      ['POT', -allocated.reduce((a, b) => a + b, 0)],
    ]),
  ]);

  for (const [i, s] of services.entries()) {
    // A contract for 70% of the allocation, 85% of it invoiced by the year end.
    const commitment = await raiseCommitment(
      tx,
      place.id,
      {
        key: `commit-2012-${i + 1}`,
        date: '2012-05-01',
        source: code('ALLOC', i),
        commitment_account: code('COMMIT', i),
        amount_pence: pence(Math.floor(allocated[i]! * 0.7)),
        description: `${s}: main contract 2012/13`,
      },
      system,
    );
    await spendCommitment(
      tx,
      place.id,
      commitment.id,
      {
        key: `invoice-2012-${i + 1}-a`,
        date: '2012-09-28',
        spend_account: code('SPEND', i),
        amount_pence: pence(Math.floor(commitment.amount_pence * 0.45)),
        memo: `${s}: invoice, April to September`,
      },
      system,
    );
    await spendCommitment(
      tx,
      place.id,
      commitment.id,
      {
        key: `invoice-2012-${i + 1}-b`,
        date: '2013-02-28',
        spend_account: code('SPEND', i),
        amount_pence: pence(Math.floor(commitment.amount_pence * 0.4)),
        memo: `${s}: invoice, October to February`,
      },
      system,
    );
  }
  // Direct spend on top of the contracts; the first service runs 3% over its allocation so
  // period close has an overspend to share.
  await post(
    'spend',
    services.map((s, i) => {
      const direct = Math.floor(allocated[i]! * (i === 0 ? 0.33 : 0.2));
      return txn(`spend-2012-${i + 1}`, '2013-01-15', `${s}: direct spend`, [
        [code('SPEND', i), direct],
        [code('ALLOC', i), -direct],
      ]);
    }),
  );
  if (place.kind === 'whole_place') {
    const reward = Math.floor(poolPence * 0.01);
    await post('income', [
      txn('pbr-2012', '2013-03-15', 'Payment-by-results reward for families turned around', [
        ['POT', reward],
        ['INCOME-PBR', -reward],
      ]),
    ]);
  }
}

/** Gives every demo place its 2012/13 pooled budget; called by the demo seed after places exist. */
export async function seedLedgerDemo(tx: Tx, adminId: number) {
  const places = await tx.selectFrom('places').select(['id', 'slug', 'kind']).orderBy('id').execute();
  for (const place of places) await seedPlace(tx, place, adminId);
}
