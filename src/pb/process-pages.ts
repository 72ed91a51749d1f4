/** Process pages: the list, opening a process, its page, its phases and its tie-break. */
import type { FastifyInstance } from 'fastify';
import { allows } from '../auth/domain.ts';
import { Conflict, Invalid, type FieldErrors } from '../core/errors.ts';
import { inPounds } from '../core/money.ts';
import { formOr, formPage } from '../core/forms.ts';
import { inRequestPlace, need, type PlaceContext } from '../places/scope.ts';
import {
  BALLOT_KIND_LABELS,
  costOf,
  describeBallot,
  nextPhase,
  parseTieOrder,
  PHASE_DATES,
  PHASE_HINTS,
  PHASE_LABELS,
  PHASES,
  RULE_LABELS,
  validateProcess,
  VOTER_MODES,
  type BallotKind,
  type Phase,
  type ProcessSettings,
} from './domain.ts';
import { BALLOT_KINDS } from './election.ts';
import type { PbPorts } from './funds.ts';
import { visibleProposals } from './route-helpers.ts';
import { ballotCount, hasVoted } from './ballot-store.ts';
import {
  advancePhase,
  createProcess,
  findProcess,
  listProcesses,
  listProposals,
  setTieOrder,
  tieOrderRefusal,
  type ProcessRow,
  type ProposalRow,
} from './process-store.ts';
import { storedCount } from './results-store.ts';
import {
  type Body,
  type Params,
  actor,
  text,
  processUrl,
  idFrom,
  pounds,
  whole,
  mergeFields,
  items,
  can,
} from './page-helpers.ts';

// ---- The process's own tie-break ---------------------------------------------------------------

const positionField = (proposal: ProposalRow) => `position-${proposal.id}`;

/**
 * The tie-break form's positions as an order of proposal ids, most preferred first; a blank
 * position leaves the proposal to the default order. Each problem is told against its proposal.
 */
function tieOrderFromForm(proposals: ProposalRow[], body: Body): number[] {
  const fields: FieldErrors = {};
  const taken = new Map<number, ProposalRow>();
  const placed: { id: number; position: number }[] = [];
  for (const proposal of proposals) {
    const name = positionField(proposal);
    const value = text(body, name);
    if (value === '') continue;
    const position = /^\d{1,6}$/.test(value) ? Number(value) : NaN;
    if (!(position >= 1 && position <= proposals.length)) {
      fields[name] =
        `Enter a tie-break position for ${proposal.title} from 1 to ${proposals.length}, or leave it blank`;
      continue;
    }
    const first = taken.get(position);
    if (first) {
      fields[name] =
        `${proposal.title} has position ${position}, as ${first.title} does: use each position once`;
      continue;
    }
    taken.set(position, proposal);
    placed.push({ id: proposal.id, position });
  }
  if (Object.keys(fields).length) throw new Invalid('There is a problem with the tie-break order', fields);
  return placed.sort((a, b) => a.position - b.position).map((p) => p.id);
}

// ---- Opening a process -------------------------------------------------------------------------

const PROCESS_FIELDS = [
  'title',
  'year',
  'budget',
  ...PHASE_DATES,
  'ballot_kind',
  'ballot_limit',
  'rule',
  'utility',
  'completion',
  'postcodes',
  'min_age',
  'voters',
];

function processFormContext(place: PlaceContext, values: Body) {
  return {
    title: 'Open a participatory budget',
    place,
    values,
    ballotKindItems: items(
      BALLOT_KINDS,
      BALLOT_KIND_LABELS,
      text(values, 'ballot_kind') || 'approval_budget',
    ),
    ruleItems: items(['greedy', 'mes', 'phragmen'] as const, RULE_LABELS, text(values, 'rule') || 'mes'),
    voterItems: items(
      VOTER_MODES,
      {
        accounts: 'Residents’ accounts (paper voters use access codes)',
        codes: 'Single-use access codes for everyone',
      },
      text(values, 'voters') || 'accounts',
    ),
    utilityItems: items(
      ['cost', 'cardinality'] as const,
      {
        cost: 'Cost (the money funded for what a voter approved)',
        cardinality: 'Cardinality (the number of approved projects funded)',
      },
      text(values, 'utility') || 'cost',
    ),
  };
}

function processInput(body: Body): ProcessSettings {
  const fields: FieldErrors = {};
  const budget = pounds(body, 'budget', fields) ?? 0;
  const kind = text(body, 'ballot_kind') as BallotKind;
  // The budget-limited ballot's limit is money; the others count projects, ranks or points.
  const limit =
    kind === 'approval_budget'
      ? text(body, 'ballot_limit')
        ? pounds(body, 'ballot_limit', fields)
        : budget
      : whole(body, 'ballot_limit', fields, 'Enter a whole number, for example 5');
  const input: ProcessSettings = {
    title: text(body, 'title'),
    year: Number(text(body, 'year')),
    budget_pence: budget,
    proposals_from: text(body, 'proposals_from'),
    review_from: text(body, 'review_from'),
    voting_from: text(body, 'voting_from'),
    results_from: text(body, 'results_from'),
    delivery_from: text(body, 'delivery_from'),
    ballot_kind: kind,
    ballot_limit: limit ?? 0,
    rule: text(body, 'rule') as ProcessSettings['rule'],
    utility: (text(body, 'utility') || 'cost') as ProcessSettings['utility'],
    completion: 'add1',
    postcodes: text(body, 'postcodes').split(','),
    min_age: Number(text(body, 'min_age') || 'x'),
    voters: text(body, 'voters') as ProcessSettings['voters'],
  };
  let checked: ProcessSettings | undefined;
  try {
    checked = validateProcess(input);
  } catch (err) {
    mergeFields(fields, err, { budget_pence: 'budget' });
  }
  if (!checked || Object.keys(fields).length) throw new Invalid('The process is not complete', fields);
  return checked;
}

/** The list of processes, opening one, its page, moving it on a phase, and its own tie-break. */
export function registerProcessPages(scoped: FastifyInstance, ports: PbPorts) {
  scoped.get('/pb', { schema: { hide: true } }, async (request, reply) => {
    const place = need(request, 'pb.read');
    const processes = await inRequestPlace(request, place, (tx) => listProcesses(tx, place.id));
    return reply.page('pb/views/processes.njk', {
      title: `Participatory budgeting – ${place.name}`,
      place,
      processes,
      phaseLabels: PHASE_LABELS,
      canManage: allows(place.roles, 'pb.manage'),
    });
  });

  scoped.get('/pb/new', { schema: { hide: true } }, async (request, reply) => {
    const place = need(request, 'pb.manage');
    const available = await inRequestPlace(request, place, (tx) =>
      ports.potFunds(actor(place)).available(tx, place.id),
    );
    return reply.page('pb/views/process-new.njk', {
      ...processFormContext(place, { min_age: '16', year: String(new Date().getFullYear()) }),
      available,
    });
  });

  scoped.post<{ Body: Body }>('/pb', { schema: { hide: true } }, async (request, reply) => {
    const place = need(request, 'pb.manage');
    const body = request.body ?? {};
    const funds = ports.potFunds(actor(place));
    const available = await inRequestPlace(request, place, (tx) => funds.available(tx, place.id));
    let created: ProcessRow | undefined;
    const shown = await formOr(
      reply,
      'pb/views/process-new.njk',
      { ...processFormContext(place, body), available },
      PROCESS_FIELDS,
      async () => {
        const settings = processInput(body);
        created = await inRequestPlace(request, place, (tx) =>
          createProcess(tx, place.id, settings, funds, actor(place)),
        ).catch((err: unknown) => {
          // The pot's refusal belongs to the budget field.
          if (err instanceof Conflict) {
            const { message } = inPounds(err);
            throw new Invalid(message, { budget: message });
          }
          throw err;
        });
      },
    );
    return shown ?? reply.redirect(processUrl(place, created!.id), 303);
  });

  scoped.get<{ Params: Params }>('/pb/:id', { schema: { hide: true } }, async (request, reply) => {
    const place = need(request, 'pb.read');
    const processId = idFrom(request.params.id);
    const data = await inRequestPlace(request, place, async (tx) => ({
      process: await findProcess(tx, place.id, processId),
      proposals: visibleProposals(place, await listProposals(tx, place.id, processId)),
      ballots: await ballotCount(tx, place.id, processId),
      result: await storedCount(tx, place.id, processId),
      voted: await hasVoted(tx, place.id, processId, place.person.id),
    }));
    const p = data.process;
    const next = nextPhase(p.phase);
    return reply.page('pb/views/process.njk', {
      title: `${p.title} – ${place.name}`,
      place,
      ...data,
      can: can(place, p),
      phases: PHASES.map((phase, i) => ({
        phase,
        label: PHASE_LABELS[phase],
        from: p[`${phase}_from`],
        current: phase === p.phase,
        done: i < PHASES.indexOf(p.phase),
      })),
      phaseHint: PHASE_HINTS[p.phase],
      phaseLabel: PHASE_LABELS[p.phase],
      nextPhase: next && { value: next, label: PHASE_LABELS[next] },
      ballotKindLabel: BALLOT_KIND_LABELS[p.ballot_kind],
      ballotHint: describeBallot(p),
      ruleLabel: RULE_LABELS[p.rule],
      proposals: data.proposals.map((x) => ({ ...x, cost: costOf(x) })),
      published: Boolean(data.result?.published_at),
      afterVoting: PHASES.indexOf(p.phase) >= PHASES.indexOf('results'),
    });
  });

  scoped.post<{ Params: Params; Body: Body }>(
    '/pb/:id/phase',
    { schema: { hide: true } },
    async (request, reply) => {
      const place = need(request, 'pb.manage');
      const processId = idFrom(request.params.id);
      await inRequestPlace(request, place, (tx) =>
        advancePhase(tx, place.id, processId, text(request.body ?? {}, 'phase') as Phase, actor(place)),
      );
      return reply.redirect(processUrl(place, processId), 303);
    },
  );

  formPage<Params>(scoped, {
    path: '/pb/:id/tie-break',
    template: 'pb/views/tie-break.njk',
    // The fields are named after the proposals; their problems are listed in the page's order.
    order: [],
    async context(request, values) {
      const place = need(request, 'pb.manage');
      const processId = idFrom(request.params.id);
      const data = await inRequestPlace(request, place, async (tx) => ({
        process: await findProcess(tx, place.id, processId),
        proposals: await listProposals(tx, place.id, processId),
      }));
      const current = parseTieOrder(data.process.tie_order);
      // A fresh form shows the order set now; a submitted one what was typed.
      const fresh = request.method === 'GET';
      return {
        title: `Tie-break order – ${data.process.title}`,
        place,
        process: data.process,
        refusal: tieOrderRefusal(data.process),
        rows: data.proposals.map((p) => {
          const at = current.indexOf(String(p.id));
          return {
            name: positionField(p),
            title: p.title,
            cost: costOf(p),
            value: fresh ? (at >= 0 ? String(at + 1) : '') : text(values, positionField(p)),
          };
        }),
      };
    },
    async submit(request, body) {
      const place = need(request, 'pb.manage');
      const processId = idFrom(request.params.id);
      await inRequestPlace(request, place, async (tx) => {
        // Outside its phases the form is refused as the API refuses it, whatever was typed.
        const refusal = tieOrderRefusal(await findProcess(tx, place.id, processId));
        if (refusal) throw new Conflict(refusal);
        const order = text(body, 'default')
          ? []
          : tieOrderFromForm(await listProposals(tx, place.id, processId), body);
        await setTieOrder(tx, place.id, processId, order, actor(place));
      });
      return processUrl(place, processId, '?tie-order=saved');
    },
  });
}
