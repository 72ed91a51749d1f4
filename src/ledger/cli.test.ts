import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import { inPlace } from '../core/db.ts';
import { engineName, openTestDatabase, type TestDatabase } from '../../test/db.ts';
import { REPO_ROOT, runCli } from '../../test/cli.ts';
import { contributionAccount, makeLedger, makePartner, makePlace } from '../../test/support.ts';

const hasHledger = spawnSync('hledger', ['--version']).status === 0;
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'placebudget-ledger-cli-'));
const writeBatch = (name: string, batch: unknown) => {
  const file = path.join(tmp, name);
  fs.writeFileSync(file, JSON.stringify(batch));
  return file;
};

/** hledger prints £1234.56 and £-0.05; back to pence without a float. */
function hledgerPence(text: string): number {
  if (text === '0') return 0;
  const match = /^£(-?)(\d+)\.(\d{2})$/.exec(text);
  assert.ok(match, `hledger amount ${text}`);
  return (match[1] ? -1 : 1) * (Number(match[2]) * 100 + Number(match[3]));
}

describe(`ledger CLI on ${engineName}`, () => {
  let db: TestDatabase;
  before(async () => {
    db = await openTestDatabase({ onDisk: true });
    const placeId = await makePlace(db, 'essex');
    const police = await makePartner(db, placeId, 'Essex Police', 'police');
    await makeLedger(db, placeId, [
      { code: 'POT', name: 'Pot', kind: 'pot' },
      contributionAccount('C-POLICE', 'Police contribution', police),
      { code: 'ALLOC-FAM', name: 'Families', kind: 'allocation', service: 'Families' },
      { code: 'SPEND-FAM', name: 'Families spend', kind: 'spend', service: 'Families' },
      { code: 'UNUSED', name: 'Not used', kind: 'income' },
    ]);
    await db.close(); // the CLI opens the database itself
  });
  after(async () => {
    await db.drop();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  const batch = [
    {
      key: 'c-2012-1',
      date: '2012-04-02',
      memo: 'PCSO budget, "Q1", pooled',
      postings: [
        { account: 'POT', amount_pence: 250_000_00 },
        { account: 'C-POLICE', amount_pence: -250_000_00 },
      ],
    },
    {
      key: 'a-2012-1',
      date: '2012-04-05',
      memo: 'Families allocation',
      postings: [
        { account: 'ALLOC-FAM', amount_pence: 200_000_00 },
        { account: 'POT', amount_pence: -200_000_00 },
      ],
    },
    {
      key: 's-2012-1',
      date: '2012-09-30',
      memo: 'Key workers',
      postings: [
        { account: 'SPEND-FAM', amount_pence: 123_456_78 },
        { account: 'ALLOC-FAM', amount_pence: -123_456_78 },
      ],
    },
  ];

  it('posts a file atomically, prints a summary, and posts a repeated key only once', async () => {
    const file = writeBatch('good.json', batch);
    const out = await runCli(['ledger', 'post', '--place', 'essex', '--file', file], db.env);
    assert.equal(out.status, 0, out.stderr);
    assert.match(out.stdout, /^Posted 3 transactions \(6 postings\) to essex\./);
    const again = await runCli(['ledger', 'post', '--place', 'essex', '--file', file], db.env);
    assert.match(again.stdout, /Posted 0 transactions \(0 postings\) to essex\.\n3 had been posted before/);
  });

  it('rejects unknown accounts and unbalanced transactions with the index and reason, exit 2, posting nothing', async () => {
    const bad = writeBatch('bad.json', [
      {
        key: 'n1',
        date: '2012-10-01',
        memo: '',
        postings: [
          { account: 'POT', amount_pence: 5 },
          { account: 'C-POLICE', amount_pence: -5 },
        ],
      },
      {
        key: 'n2',
        date: '2012-10-01',
        memo: '',
        postings: [
          { account: 'POT', amount_pence: 5 },
          { account: 'C-POLICE', amount_pence: -4 },
        ],
      },
    ]);
    const unbalanced = await runCli(['ledger', 'post', '--place', 'essex', '--file', bad], db.env);
    assert.equal(unbalanced.status, 2);
    assert.match(unbalanced.stderr, /\[1\]: postings do not balance: they sum to 1 pence, not 0/);
    const unknown = writeBatch('unknown.json', [
      {
        key: 'n3',
        date: '2012-10-01',
        memo: '',
        postings: [
          { account: 'POT', amount_pence: 5 },
          { account: 'NOWHERE', amount_pence: -5 },
        ],
      },
    ]);
    const res = await runCli(['ledger', 'post', '--place', 'essex', '--file', unknown], db.env);
    assert.equal(res.status, 2);
    assert.match(res.stderr, /\[0\]: unknown account NOWHERE/);
    assert.equal(
      (await runCli(['ledger', 'post', '--place', 'essex', '--file', path.join(tmp, 'missing.json')], db.env))
        .status,
      2,
    );
  });

  let balances: { account: string; balance_pence: number }[] = [];
  it('prints every account’s balance, today and as of a date', async () => {
    const out = await runCli(['ledger', 'balances', '--place', 'essex', '--json'], db.env);
    assert.equal(out.status, 0, out.stderr);
    balances = JSON.parse(out.stdout);
    // £250,000 in, £200,000 allocated, £123,456.78 spent: £76,543.22 left in the allocation.
    assert.deepEqual(balances, [
      { account: 'ALLOC-FAM', balance_pence: 76_543_22 },
      { account: 'C-POLICE', balance_pence: -250_000_00 },
      { account: 'POT', balance_pence: 50_000_00 },
      { account: 'SPEND-FAM', balance_pence: 123_456_78 },
      { account: 'UNUSED', balance_pence: 0 },
    ]);
    const early = JSON.parse(
      (await runCli(['ledger', 'balances', '--place', 'essex', '--as-of', '2012-04-04', '--json'], db.env))
        .stdout,
    );
    assert.deepEqual(
      early.find((b: { account: string }) => b.account === 'POT'),
      { account: 'POT', balance_pence: 250_000_00 },
    );
    assert.equal(
      (await runCli(['ledger', 'balances', '--place', 'essex', '--as-of', '2012-02-30', '--json'], db.env))
        .status,
      2,
    );
  });

  it('exports a CSV journal with a row per posting', async () => {
    const out = await runCli(['ledger', 'export', '--place', 'essex', '--format', 'csv'], db.env);
    assert.equal(out.status, 0, out.stderr);
    const lines = out.stdout.trim().split('\n');
    assert.equal(lines[0], 'transaction_id,date,key,kind,memo,account,amount_pence');
    assert.equal(lines.length, 1 + 6);
    assert.match(lines[1]!, /^\d+,2012-04-02,c-2012-1,general,"PCSO budget, ""Q1"", pooled",POT,25000000$/);
  });

  it(
    'exports an hledger journal whose balances agree with ledger balances',
    { skip: hasHledger ? false : 'hledger is not installed' },
    async () => {
      const out = await runCli(['ledger', 'export', '--place', 'essex', '--format', 'hledger'], db.env);
      assert.equal(out.status, 0, out.stderr);
      const file = path.join(tmp, 'essex.journal');
      fs.writeFileSync(file, out.stdout);
      const hledger = spawnSync(
        'hledger',
        ['-f', file, 'balance', '--flat', '-E', '--no-total', '-O', 'csv'],
        { encoding: 'utf8' },
      );
      assert.equal(hledger.status, 0, hledger.stderr);
      const theirs = new Map(
        hledger.stdout
          .trim()
          .split('\n')
          .slice(1)
          .map((line) => {
            const [account, amount] = line.split(',').map((f) => f.replace(/^"|"$/g, ''));
            return [account!, hledgerPence(amount!)];
          }),
      );
      assert.equal(balances.length, 5);
      for (const b of balances) assert.equal(theirs.get(b.account) ?? 0, b.balance_pence, b.account);
      assert.equal(theirs.size, 4, 'hledger shows the four accounts with postings');
    },
  );

  it('leaves all of a batch or none of it when the process is killed mid-post, and the ledger still balances', async () => {
    // 4,000 three-leg transactions: long enough to be killed while posting.
    const big = Array.from({ length: 4000 }, (_, i) => ({
      key: `crash-${i}`,
      date: '2012-11-01',
      memo: `crash test ${i}`,
      postings: [
        { account: 'POT', amount_pence: 300 + i },
        { account: 'C-POLICE', amount_pence: -200 },
        { account: 'ALLOC-FAM', amount_pence: -100 - i },
      ],
    }));
    const file = writeBatch('big.json', big);
    const child = spawn(
      process.execPath,
      [path.join(REPO_ROOT, 'bin/placebudget.js'), 'ledger', 'post', '--place', 'essex', '--file', file],
      {
        cwd: REPO_ROOT,
        env: { ...process.env, ...db.env },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    await new Promise<void>((resolve) =>
      child.stderr.on('data', (chunk: Buffer) => chunk.toString().includes('Posting') && resolve()),
    );
    await new Promise((resolve) => setTimeout(resolve, 150));
    child.kill('SIGKILL');
    await new Promise((resolve) => child.on('exit', resolve));

    const reopened = await db.reopen();
    try {
      const placeId = (
        await reopened.kysely
          .selectFrom('places')
          .select('id')
          .where('slug', '=', 'essex')
          .executeTakeFirstOrThrow()
      ).id;
      const { n } = await reopened.kysely
        .selectFrom('ledger_transactions')
        .select((eb) => eb.fn.countAll<string>().as('n'))
        .where('idempotency_key', 'like', 'crash-%')
        .executeTakeFirstOrThrow();
      assert.ok(Number(n) === 0 || Number(n) === 4000, `all or nothing, found ${n}`);
      const checks = await inPlace(reopened, placeId, async (tx) => ({
        unbalanced: (
          await sql`select transaction_id from ledger_postings group by transaction_id having sum(amount_pence) <> 0`.execute(
            tx,
          )
        ).rows.length,
        trial: (
          await sql<{
            s: string;
          }>`select coalesce(sum(balance_pence), 0)::text as s from ledger_balances`.execute(tx)
        ).rows[0]!.s,
        drift: (
          await sql`select b.account_id from ledger_balances b left join (select account_id, sum(amount_pence) s from ledger_postings group by account_id) p using (account_id) where b.balance_pence <> coalesce(p.s, 0)`.execute(
            tx,
          )
        ).rows.length,
      }));
      assert.deepEqual(checks, { unbalanced: 0, trial: '0', drift: 0 });
    } finally {
      await reopened.close();
    }
  });
});
