import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { Invalid } from '../core/errors.ts';
import { defaultCatalogue, fileCatalogue } from './catalogue.ts';
import {
  accessBasis,
  beforeAfter,
  costOf,
  hashMatchRows,
  householdKey,
  parseUkDate,
  personKey,
  proposeHouseholds,
  uplift,
  validateEventRows,
  type AgreementTerms,
  type UnitCost,
} from './domain.ts';
import { addMonths } from '../core/dates.ts';

const unit = (code: string, p: number, agency: UnitCost['agency']): [string, UnitCost] => [
  code,
  { code, label: code, pence: p, priceBaseYear: 2013, agency, source: 'test' },
];
const costs = new Map([
  unit('police_callout', 50000, 'police'),
  unit('arrest', 59300, 'police'),
  unit('ae_attendance', 10900, 'health'),
  unit('eviction', 668000, 'housing'),
]);

describe('the access rule', () => {
  const agreement = (over: Partial<AgreementTerms> = {}): AgreementTerms => ({
    id: 1,
    purposes: ['case_work'],
    legal_basis: 'consent',
    starts_on: '2013-01-01',
    ends_on: null,
    party_ids: [10],
    ...over,
  });
  const worker = { roles: ['key_worker'] as const, partnerIds: [10] };
  const today = '2013-06-01';

  it('lets a key worker of a party read with consent given, and not once it is withdrawn', () => {
    assert.deepEqual(
      accessBasis(
        worker,
        [agreement()],
        [{ id: 1, purpose: 'case_work', state: 'given' }],
        'case_work',
        today,
      ),
      { agreementId: 1, basis: 'consent' },
    );
    assert.equal(
      accessBasis(
        worker,
        [agreement()],
        [
          { id: 1, purpose: 'case_work', state: 'given' },
          { id: 2, purpose: 'case_work', state: 'withdrawn' },
        ],
        'case_work',
        today,
      ),
      null,
    );
    assert.equal(accessBasis(worker, [agreement()], [], 'case_work', today), null);
  });

  it('lets the legal basis stand in for consent when the agreement does not rest on consent', () => {
    assert.deepEqual(
      accessBasis(worker, [agreement({ legal_basis: 'public_task' })], [], 'case_work', today),
      { agreementId: 1, basis: 'public_task' },
    );
  });

  it('refuses a partner not party, another purpose, an agreement not in force, and non-professional roles', () => {
    const given = [{ id: 1, purpose: 'case_work', state: 'given' as const }];
    assert.equal(
      accessBasis({ roles: ['key_worker'], partnerIds: [11] }, [agreement()], given, 'case_work', today),
      null,
    );
    assert.equal(
      accessBasis(worker, [agreement({ purposes: ['evaluation'] })], given, 'case_work', today),
      null,
    );
    assert.equal(
      accessBasis(worker, [agreement({ ends_on: '2013-05-31' })], given, 'case_work', today),
      null,
    );
    assert.equal(
      accessBasis(worker, [agreement({ starts_on: '2013-06-02' })], given, 'case_work', today),
      null,
    );
    for (const role of ['admin', 'finance', 'analyst', 'observer', 'resident'] as const) {
      assert.equal(
        accessBasis({ roles: [role], partnerIds: [10] }, [agreement()], given, 'case_work', today),
        null,
        role,
      );
    }
  });
});

describe('costing', () => {
  it('costs a family by agency and by event type', () => {
    // 3 call-outs × £500 + 1 arrest × £593 + 2 A&E × £109 = £1,500 + £593 + £218 = £2,311.
    const summary = costOf(
      [
        { event_type: 'police_callout', quantity: 3 },
        { event_type: 'arrest', quantity: 1 },
        { event_type: 'ae_attendance', quantity: 2 },
      ],
      costs,
    );
    assert.equal(summary.total, 231100);
    assert.deepEqual(summary.byAgency, { police: 209300, health: 21800 });
    assert.deepEqual(summary.byType, { police_callout: 150000, arrest: 59300, ae_attendance: 21800 });
    assert.equal(summary.events, 6);
  });

  it('compares the twelve months before the date taken on with the twelve months after', () => {
    // Taken on 2013-04-01. Before = [2012-04-01, 2013-04-01): an eviction £6,680 + 4 call-outs £2,000 = £8,680
    // (the call-out on 2012-03-31 is outside). After = [2013-04-01, 2014-04-01): 1 call-out £500 + 1 A&E £109 = £609
    // (the arrest on 2014-04-01 is outside). Change = (609 − 8,680) / 8,680 = −92.98…% → −93.0%.
    const ba = beforeAfter(
      [
        { event_type: 'police_callout', quantity: 1, occurred_on: '2012-03-31' },
        { event_type: 'eviction', quantity: 1, occurred_on: '2012-04-01' },
        { event_type: 'police_callout', quantity: 4, occurred_on: '2013-03-31' },
        { event_type: 'police_callout', quantity: 1, occurred_on: '2013-04-01' },
        { event_type: 'ae_attendance', quantity: 1, occurred_on: '2014-03-31' },
        { event_type: 'arrest', quantity: 1, occurred_on: '2014-04-01' },
      ],
      '2013-04-01',
      costs,
    );
    assert.equal(ba.before.total, 868000);
    assert.equal(ba.after.total, 60900);
    assert.equal(ba.changePct, -93);
    assert.deepEqual(ba.window, { beforeFrom: '2012-04-01', takenOn: '2013-04-01', afterTo: '2014-04-01' });
  });

  it('uplifts a unit cost with a deflator index and rounds to pence', () => {
    // £500 at index 80 → index 100: 50000 × 100 / 80 = 62500.
    assert.equal(uplift(50000, 80, 100), 62500);
    // £109 at index 96.5 → 100: 10900 × 100 / 96.5 = 11295.336… → 11295.
    assert.equal(uplift(10900, 96.5, 100), 11295);
  });

  it('keeps published price bases without a deflator and refuses an uplift it cannot make', async () => {
    const catalogue = fileCatalogue();
    const map = await catalogue.unitCosts(['arrest', 'ambulance_callout'], null);
    assert.equal(map.get('arrest')!.pence, 59300);
    assert.equal(map.get('ambulance_callout')!.priceBaseYear, 2013);
    await assert.rejects(catalogue.unitCosts(['arrest'], 2014), Invalid);
    const withDeflators = fileCatalogue(undefined, { '2006': 80, '2014': 100 });
    // £593 (2006/07) × 100 / 80 = £741.25.
    assert.equal((await withDeflators.unitCosts(['arrest'], 2014)).get('arrest')!.pence, 74125);
    await assert.rejects(catalogue.unitCosts(['no_such_event'], null), Invalid);
  });

  it('prices events in a chosen year with the HM Treasury GDP deflators the cost-benefit module ships', async () => {
    // Police call-out £500.00 in 2002/03 prices; deflator 56.911 (2002) → 100 (2024):
    // 50000 × 100 / 56.911 = 87856.47… → 87856 pence.
    const police = (await defaultCatalogue.unitCosts(['police_callout'], 2024)).get('police_callout')!;
    assert.deepEqual([police.pence, police.priceBaseYear], [87856, 2024]);
    await assert.rejects(defaultCatalogue.unitCosts(['police_callout'], 1980), Invalid);
  });

  it('cites a source and price base for every event type shipped', async () => {
    const catalogue = fileCatalogue();
    const types = await catalogue.eventTypes();
    const map = await catalogue.unitCosts(
      types.map((t) => t.code),
      null,
    );
    for (const u of map.values()) {
      assert.ok(u.source.length > 30, u.code);
      assert.ok(u.priceBaseYear >= 2000 && u.priceBaseYear <= 2015, u.code);
    }
  });
});

describe('dates', () => {
  it('adds months clamping to the end of the month', () => {
    assert.equal(addMonths('2024-01-31', 1), '2024-02-29');
    assert.equal(addMonths('2013-04-01', -12), '2012-04-01');
    assert.equal(addMonths('2012-02-29', 12), '2013-02-28');
  });

  it('reads the date formats agencies export, day first', () => {
    for (const input of [
      '1985-03-07',
      '07/03/1985',
      '7/3/1985',
      '07-03-1985',
      '07.03.1985',
      '7 Mar 1985',
      '7 march 1985',
      ' 07 MAR 1985 ',
    ]) {
      assert.equal(parseUkDate(input), '1985-03-07', input);
    }
    for (const input of ['31/02/1985', '1985/03/07', 'March 7 1985', '', '7 Marc 1985'])
      assert.equal(parseUkDate(input), null, input);
  });

  it('round-trips every real date through the UK format', () => {
    fc.assert(
      fc.property(
        fc.date({ min: new Date('1900-01-01'), max: new Date('2100-12-31'), noInvalidDate: true }),
        (d) => {
          const iso = d.toISOString().slice(0, 10);
          const [y, m, day] = iso.split('-');
          assert.equal(parseUkDate(`${day}/${m}/${y}`), iso);
        },
      ),
    );
  });
});

describe('CSV import of events', () => {
  const known = new Set(['police_callout', 'arrest']);
  const refs = new Set(['FAM-1']);
  it('accepts good lines and names every bad line with its number', () => {
    const good = validateEventRows(
      [
        {
          family_reference: 'fam-1',
          event_type: 'arrest',
          occurred_on: '01/04/2013',
          quantity: '2',
          note: '',
        },
      ],
      known,
      refs,
      '2014-01-01',
    );
    assert.deepEqual(good, [
      {
        line: 2,
        family_reference: 'FAM-1',
        event_type: 'arrest',
        occurred_on: '2013-04-01',
        quantity: 2,
        note: '',
      },
    ]);
    assert.throws(
      () =>
        validateEventRows(
          [
            { family_reference: 'FAM-1', event_type: 'arrest', occurred_on: '2013-04-01', quantity: '1' },
            { family_reference: 'FAM-9', event_type: 'arrest', occurred_on: '2013-04-01', quantity: '1' },
            { family_reference: 'FAM-1', event_type: 'bogus', occurred_on: '2015-01-01', quantity: '0' },
          ],
          known,
          refs,
          '2014-01-01',
        ),
      (err: Invalid) => {
        assert.match(err.message, /2 lines .* nothing was saved/);
        assert.deepEqual(Object.keys(err.fields!), ['line 3', 'line 4']);
        assert.match(err.fields!['line 3']!, /No family with reference FAM-9/);
        assert.match(err.fields!['line 4']!, /Unknown event type "bogus".*future.*whole number/);
        return true;
      },
    );
  });
});

describe('data matching', () => {
  const key = { keyId: 'k1', secret: 'x'.repeat(32) };
  it('matches the same person whatever the case, spacing or date format', () => {
    assert.equal(
      personKey(key, '  JANE   o’Brien-Smith ', '1985-03-07'),
      personKey(key, 'jane obriensmith', '1985-03-07'),
    );
    assert.equal(householdKey(key, 'Jane Smith', 'se1 7pb'), householdKey(key, 'JOHN SMITH', 'SE17PB'));
    const [a] = hashMatchRows(
      [{ name: 'Jane Smith', date_of_birth: '07/03/1985', postcode: 'se1 7pb', criteria: 'crime_asb' }],
      key,
    );
    const [b] = hashMatchRows(
      [
        {
          name: 'jane  SMITH',
          date_of_birth: '7 Mar 1985',
          postcode: 'SE17PB',
          criteria: 'health; worklessness',
        },
      ],
      key,
    );
    assert.equal(a!.person_key, b!.person_key);
    assert.match(a!.person_key, /^[0-9a-f]{64}$/);
    assert.notEqual(
      personKey({ keyId: 'k2', secret: 'y'.repeat(32) }, 'Jane Smith', '1985-03-07'),
      a!.person_key,
    );
  });

  it('proposes households meeting the rule across lists', () => {
    const rows = (criteria: string, name: string, postcode: string) =>
      hashMatchRows([{ name, date_of_birth: '1980-01-01', postcode, criteria }], key)[0]!;
    const entries = [
      { ...rows('crime_asb', 'Jane Smith', 'SE1 7PB'), list_id: 1 },
      { ...rows('school_attendance', 'Tom Smith', 'SE1 7PB'), list_id: 2 },
      { ...rows('health', 'Ann Jones', 'M1 1AA'), list_id: 2 },
    ];
    const proposals = proposeHouseholds(entries, 2);
    assert.equal(proposals.length, 1);
    assert.deepEqual(proposals[0]!.criteria, ['crime_asb', 'school_attendance']);
    assert.equal(proposals[0]!.lists, 2);
    assert.equal(proposals[0]!.people, 2);
  });

  it('names each unreadable line of a list', () => {
    assert.throws(
      () =>
        hashMatchRows([{ name: '', date_of_birth: '99/99/1999', postcode: 'nope', criteria: 'magic' }], key),
      (err: Invalid) => {
        assert.match(err.fields!['line 2']!, /name.*date of birth.*postcode.*unknown criteria magic/);
        return true;
      },
    );
  });
});
