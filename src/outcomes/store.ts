import { sql } from 'kysely';
import type { Tx } from '../core/db.ts';
import { Invalid, NotFound } from '../core/errors.ts';
import { appendAudit } from '../audit/public.ts';
import {
  assess,
  INDICATOR_FIELDS,
  trajectory,
  type ActualValue,
  type Better,
  type Frequency,
  type IndicatorAssessment,
  type IndicatorShape,
  type LinkKind,
  type NewIndicator,
  type NewLink,
  type TrajectoryPoint,
} from './domain.ts';

export interface Actor {
  personId: number | null;
}

export interface IndicatorSummary extends IndicatorShape, IndicatorAssessment {
  id: number;
  title: string;
  definition: string;
  unit: string;
  source: string;
}

export interface IndicatorDetail extends IndicatorSummary {
  trajectory: TrajectoryPoint[];
  actuals: { period_end: string; value: number; note: string; revision: number; entered_at: Date }[];
  links: { kind: LinkKind; ref_id: number; label: string }[];
}

/** At most this many indicators per place: a board tracks a handful, not thousands. */
export const MAX_INDICATORS = 200;

const num = (value: string) => Number(value);

async function indicatorRows(tx: Tx, placeId: number, id?: number) {
  let query = tx
    .selectFrom('indicators')
    .select(['id', ...INDICATOR_FIELDS])
    .where('place_id', '=', placeId)
    .orderBy('title')
    .limit(MAX_INDICATORS);
  if (id !== undefined) query = query.where('id', '=', id);
  return query.execute();
}

async function enteredTrajectory(tx: Tx, placeId: number, ids: number[]) {
  if (!ids.length) return [];
  const rows = await tx
    .selectFrom('indicator_trajectory')
    .select(['indicator_id', 'period_end', 'expected'])
    .where('place_id', '=', placeId)
    .where('indicator_id', 'in', ids)
    .orderBy('period_end')
    .execute();
  return rows.map((r) => ({
    indicator_id: r.indicator_id,
    period_end: r.period_end,
    expected: num(r.expected),
  }));
}

/** The latest revision of each period's actual value. */
async function currentActuals(tx: Tx, placeId: number, ids: number[]) {
  if (!ids.length) return [];
  const rows = await tx
    .selectFrom('indicator_actuals')
    .distinctOn(['indicator_id', 'period_end'])
    .select(['indicator_id', 'period_end', 'value', 'note', 'revision', 'entered_at'])
    .where('place_id', '=', placeId)
    .where('indicator_id', 'in', ids)
    .orderBy('indicator_id')
    .orderBy('period_end')
    .orderBy('revision', 'desc')
    .execute();
  return rows.map((r) => ({ ...r, value: num(r.value) }));
}

function shapeOf(row: {
  better: Better;
  frequency: Frequency;
  baseline_value: string;
  baseline_date: string;
  target_value: string;
  target_date: string;
}): IndicatorShape {
  return {
    better: row.better,
    frequency: row.frequency,
    baseline: { value: num(row.baseline_value), date: row.baseline_date },
    target: { value: num(row.target_value), date: row.target_date },
  };
}

/** An indicator with its status on the latest of `actuals` against its `entered` trajectory. */
function summarise(
  row: Awaited<ReturnType<typeof indicatorRows>>[number],
  entered: { period_end: string; expected: number }[],
  actuals: { period_end: string; value: number }[],
): IndicatorSummary {
  const shape = shapeOf(row);
  return {
    id: row.id,
    title: row.title,
    definition: row.definition,
    unit: row.unit,
    source: row.source,
    ...shape,
    ...assess(shape, entered, actuals),
  };
}

/** Every indicator of the place with its status on the latest actual value. */
export async function listIndicators(tx: Tx, placeId: number): Promise<IndicatorSummary[]> {
  const rows = await indicatorRows(tx, placeId);
  const ids = rows.map((r) => r.id);
  const [points, actuals] = await Promise.all([
    enteredTrajectory(tx, placeId, ids),
    currentActuals(tx, placeId, ids),
  ]);
  return rows.map((row) =>
    summarise(
      row,
      points.filter((p) => p.indicator_id === row.id),
      actuals.filter((a) => a.indicator_id === row.id),
    ),
  );
}

export async function findIndicator(tx: Tx, placeId: number, id: number): Promise<IndicatorDetail> {
  const [row] = await indicatorRows(tx, placeId, id);
  if (!row) throw new NotFound('No such indicator in this place');
  const [points, actuals, links] = await Promise.all([
    enteredTrajectory(tx, placeId, [id]),
    currentActuals(tx, placeId, [id]),
    tx
      .selectFrom('indicator_links')
      .select(['kind', 'ref_id', 'label'])
      .where('place_id', '=', placeId)
      .where('indicator_id', '=', id)
      .orderBy('kind')
      .orderBy('ref_id')
      .execute(),
  ]);
  const summary = summarise(row, points, actuals);
  return {
    ...summary,
    trajectory: trajectory(summary, points),
    actuals: actuals.map(({ period_end, value, note, revision, entered_at }) => ({
      period_end,
      value,
      note,
      revision,
      entered_at,
    })),
    links,
  };
}

export async function createIndicator(
  tx: Tx,
  placeId: number,
  input: NewIndicator,
  actor: Actor,
): Promise<IndicatorDetail> {
  const { n } = await tx
    .selectFrom('indicators')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .where('place_id', '=', placeId)
    .executeTakeFirstOrThrow();
  if (Number(n) >= MAX_INDICATORS)
    throw new Invalid(`A place can track at most ${MAX_INDICATORS} indicators`, {
      title: `This place already has ${MAX_INDICATORS} indicators`,
    });
  const clash = await tx
    .selectFrom('indicators')
    .select('id')
    .where('place_id', '=', placeId)
    .where((eb) => eb(eb.fn('lower', ['title']), '=', input.title.toLowerCase()))
    .executeTakeFirst();
  if (clash)
    throw new Invalid('There is a problem with the indicator', {
      title: 'This place already has an indicator with that name',
    });
  const row = await tx
    .insertInto('indicators')
    .values({
      place_id: placeId,
      title: input.title,
      definition: input.definition,
      unit: input.unit,
      source: input.source,
      better: input.better,
      frequency: input.frequency,
      baseline_value: input.baseline.value,
      baseline_date: input.baseline.date,
      target_value: input.target.value,
      target_date: input.target.date,
      created_by: actor.personId,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  if (input.trajectory.length) {
    await tx
      .insertInto('indicator_trajectory')
      .values(
        input.trajectory.map((p) => ({
          place_id: placeId,
          indicator_id: row.id,
          period_end: p.period_end,
          expected: p.expected,
        })),
      )
      .execute();
  }
  await appendAudit(tx, {
    person_id: actor.personId,
    place_id: placeId,
    action: 'indicator.create',
    subject: `indicator:${row.id}`,
    detail: {
      title: input.title,
      baseline: input.baseline,
      target: input.target,
      trajectory_points: input.trajectory.length,
    },
  });
  return findIndicator(tx, placeId, row.id);
}

/**
 * Records actual values, each as a new revision of its period: a value entered again corrects
 * the earlier one, which stays on record. One transaction, so an import lands whole or not at all.
 */
export async function recordActuals(
  tx: Tx,
  placeId: number,
  indicatorId: number,
  values: ActualValue[],
  actor: Actor,
  how: 'entered' | 'imported',
) {
  const [indicator] = await indicatorRows(tx, placeId, indicatorId);
  if (!indicator) throw new NotFound('No such indicator in this place');
  // Lock the indicator so two people recording the same period cannot both take one revision number.
  await tx
    .selectFrom('indicators')
    .select('id')
    .where('place_id', '=', placeId)
    .where('id', '=', indicatorId)
    .forUpdate()
    .execute();
  const latest = await tx
    .selectFrom('indicator_actuals')
    .select(['period_end', (eb) => eb.fn.max('revision').as('revision')])
    .where('place_id', '=', placeId)
    .where('indicator_id', '=', indicatorId)
    .groupBy('period_end')
    .execute();
  const revisionOf = new Map(latest.map((r) => [r.period_end, Number(r.revision)]));
  if (values.length) {
    await tx
      .insertInto('indicator_actuals')
      .values(
        values.map((v) => ({
          place_id: placeId,
          indicator_id: indicatorId,
          period_end: v.period_end,
          revision: (revisionOf.get(v.period_end) ?? 0) + 1,
          value: v.value,
          note: v.note,
          entered_by: actor.personId,
        })),
      )
      .execute();
  }
  const corrected = values.filter((v) => revisionOf.has(v.period_end)).length;
  await appendAudit(tx, {
    person_id: actor.personId,
    place_id: placeId,
    action: how === 'imported' ? 'indicator.actuals_import' : 'indicator.actual',
    subject: `indicator:${indicatorId}`,
    detail: { values: values.length, corrected, periods: values.map((v) => v.period_end).slice(0, 50) },
  });
  return { recorded: values.length, corrected };
}

/**
 * The name of what a link points at, or undefined when the place has no such thing. Runs inside the
 * place's transaction, so another place's service or business case is as absent as a missing one.
 */
async function referencedName(
  tx: Tx,
  placeId: number,
  kind: LinkKind,
  refId: number,
): Promise<string | undefined> {
  const row =
    kind === 'service'
      ? await tx
          .selectFrom('services')
          .select('name')
          .where('place_id', '=', placeId)
          .where('id', '=', refId)
          .executeTakeFirst()
      : kind === 'spend'
        ? await tx
            .selectFrom('ledger_accounts')
            .select(sql<string>`code || ' ' || name`.as('name'))
            .where('place_id', '=', placeId)
            .where('id', '=', refId)
            .executeTakeFirst()
        : await tx
            .selectFrom('cba_business_cases')
            .select('title as name')
            .where('place_id', '=', placeId)
            .where('id', '=', refId)
            .executeTakeFirst();
  return row?.name;
}

const MISSING_REFERENCE: Record<LinkKind, string> = {
  service: 'There is no service with that reference number in this place',
  spend: 'There is no pot account with that reference number in this place',
  business_case: 'There is no business case with that reference number in this place',
};

/** A link must point at something this place has; without a description it takes that thing's name. */
export async function addLink(tx: Tx, placeId: number, indicatorId: number, link: NewLink, actor: Actor) {
  const [indicator] = await indicatorRows(tx, placeId, indicatorId);
  if (!indicator) throw new NotFound('No such indicator in this place');
  const name = await referencedName(tx, placeId, link.kind, link.ref_id);
  if (name === undefined)
    throw new Invalid('There is a problem with the link', { ref_id: MISSING_REFERENCE[link.kind] });
  const label = link.label || name.slice(0, 200);
  const inserted = await tx
    .insertInto('indicator_links')
    .values({
      place_id: placeId,
      indicator_id: indicatorId,
      kind: link.kind,
      ref_id: link.ref_id,
      label,
      linked_by: actor.personId,
    })
    .onConflict((oc) => oc.doNothing())
    .returning('ref_id')
    .executeTakeFirst();
  if (!inserted)
    throw new Invalid('There is a problem with the link', {
      ref_id: 'The indicator is already linked to that',
    });
  await appendAudit(tx, {
    person_id: actor.personId,
    place_id: placeId,
    action: 'indicator.link',
    subject: `indicator:${indicatorId}`,
    detail: { ...link, label },
  });
}

/** Unlinking is recorded in the audit trail, which keeps what the link was. */
export async function removeLink(
  tx: Tx,
  placeId: number,
  indicatorId: number,
  kind: LinkKind,
  refId: number,
  actor: Actor,
) {
  const removed = await tx
    .deleteFrom('indicator_links')
    .where('place_id', '=', placeId)
    .where('indicator_id', '=', indicatorId)
    .where('kind', '=', kind)
    .where('ref_id', '=', refId)
    .returning(['label'])
    .executeTakeFirst();
  if (!removed) throw new NotFound('No such link');
  await appendAudit(tx, {
    person_id: actor.personId,
    place_id: placeId,
    action: 'indicator.unlink',
    subject: `indicator:${indicatorId}`,
    detail: { kind, ref_id: refId, label: removed.label },
  });
}

/** For the network: how many of a place's indicators are on track, and their mean progress. */
export async function indicatorProgress(tx: Tx, placeId: number) {
  const indicators = await listIndicators(tx, placeId);
  const measured = indicators.filter((i) => i.progress !== null);
  return {
    indicators: indicators.length,
    measured: measured.length,
    onTrack: indicators.filter((i) => i.status === 'on_track').length,
    meanProgress: measured.length
      ? measured.reduce((sum, i) => sum + i.progress!, 0) / measured.length
      : null,
  };
}
