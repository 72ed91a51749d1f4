import { inPlace, inSystem, READ_STATEMENT_TIMEOUT_MS, type Database, type Tx } from '../core/db.ts';
import { NotFound } from '../core/errors.ts';
import { appendAudit } from '../audit/public.ts';
import { indicatorProgress } from '../outcomes/public.ts';
import type { NewPracticeNote } from './domain.ts';
import { readPlaceFigures, type FigureLog, type PlaceFigures, type YearRange } from './figures.ts';
import type { PlaceInput } from './publish.ts';
import { countPartners } from '../places/public.ts';

export interface Actor {
  personId: number;
}

/** The network's places, with their figures for one financial year. */
export interface NetworkFigures {
  /** The asked year, else the latest with postings in any place; null when nothing is posted anywhere. */
  year: number | null;
  /** The years with postings in any place, for choosing another. */
  years: YearRange | null;
  places: PlaceInput[];
}

/**
 * Gathers each place's figures in its own place-scoped transaction, so the figures modules read
 * behind row-level security exactly as they do for the place's own pages. Every place is read for
 * one financial year, so that what the network adds up or compares is of the same year.
 */
export async function loadNetworkFigures(
  db: Database,
  figures: PlaceFigures,
  options: { year?: number; log: FigureLog },
): Promise<NetworkFigures> {
  const years = await inSystem(db, (tx) => figures.years(tx, null));
  const year = options.year ?? years?.latest ?? null;
  const places = await db.kysely
    .selectFrom('places')
    .select(['id', 'slug', 'name', 'kind'])
    .orderBy('name')
    .execute();
  const inputs: PlaceInput[] = [];
  for (const place of places) {
    inputs.push(
      // Every place is read for every view: each statement is bounded like a request's reads.
      await inPlace(
        db,
        place.id,
        async (tx) => {
          const n = await countPartners(tx, place.id);
          const sharing = await tx
            .selectFrom('benchmark_sharing')
            .select('shares')
            .where('place_id', '=', place.id)
            .executeTakeFirst();
          const { money, families, savings } = await readPlaceFigures(figures, tx, place, {
            year,
            log: options.log,
          });
          return {
            slug: place.slug,
            name: place.name,
            kind: place.kind,
            partners: Number(n),
            shares: sharing?.shares ?? false,
            money,
            families,
            savings,
            indicators: await indicatorProgress(tx, place.id),
          };
        },
        { statementTimeoutMs: READ_STATEMENT_TIMEOUT_MS },
      ),
    );
  }
  return { year, years, places: inputs };
}

export async function sharesBenchmarks(tx: Tx, placeId: number): Promise<boolean> {
  const row = await tx
    .selectFrom('benchmark_sharing')
    .select('shares')
    .where('place_id', '=', placeId)
    .executeTakeFirst();
  return row?.shares ?? false;
}

export async function setBenchmarkSharing(tx: Tx, placeId: number, shares: boolean, actor: Actor) {
  await tx
    .insertInto('benchmark_sharing')
    .values({ place_id: placeId, shares, decided_by: actor.personId })
    .onConflict((oc) =>
      oc.column('place_id').doUpdateSet({ shares, decided_by: actor.personId, decided_at: new Date() }),
    )
    .execute();
  await appendAudit(tx, {
    person_id: actor.personId,
    place_id: placeId,
    action: shares ? 'network.share' : 'network.unshare',
    subject: `place:${placeId}`,
  });
}

export async function publishPracticeNote(tx: Tx, placeId: number, note: NewPracticeNote, actor: Actor) {
  const row = await tx
    .insertInto('practice_notes')
    .values({ place_id: placeId, ...note, published_by: actor.personId })
    .returning('id')
    .executeTakeFirstOrThrow();
  await appendAudit(tx, {
    person_id: actor.personId,
    place_id: placeId,
    action: 'practice_note.publish',
    subject: `practice_note:${row.id}`,
    detail: { title: note.title },
  });
  return row.id;
}

/** A withdrawn note leaves the network but stays in the place's records. */
export async function withdrawPracticeNote(tx: Tx, placeId: number, noteId: number, actor: Actor) {
  const row = await tx
    .updateTable('practice_notes')
    .set({ withdrawn_at: new Date() })
    .where('place_id', '=', placeId)
    .where('id', '=', noteId)
    .where('withdrawn_at', 'is', null)
    .returning('id')
    .executeTakeFirst();
  if (!row) throw new NotFound('No such published practice note in this place');
  await appendAudit(tx, {
    person_id: actor.personId,
    place_id: placeId,
    action: 'practice_note.withdraw',
    subject: `practice_note:${noteId}`,
  });
}

export interface PracticeNoteView extends NewPracticeNote {
  id: number;
  place_slug: string;
  place_name: string;
  published_at: Date;
}

export const NOTES_PAGE = 20;

/** The notes not withdrawn, as the network sees them: with the place that wrote each. */
function publishedNotes(tx: Tx) {
  return tx
    .selectFrom('practice_notes as n')
    .innerJoin('places as p', 'p.id', 'n.place_id')
    .select([
      'n.id',
      'n.title',
      'n.what_they_did',
      'n.cost_pence',
      'n.cost_note',
      'n.what_changed',
      'n.contact',
      'n.tags',
      'n.published_at',
      'p.slug as place_slug',
      'p.name as place_name',
    ])
    .where('n.withdrawn_at', 'is', null);
}

/** Published notes across the network, newest first, optionally with one tag; a page at a time. */
export async function listPracticeNotes(
  db: Database,
  options: { tag?: string; page?: number; placeId?: number } = {},
): Promise<PracticeNoteView[]> {
  const page = Math.max(1, options.page ?? 1);
  return inSystem(db, async (tx) => {
    let query = publishedNotes(tx)
      .orderBy('n.published_at', 'desc')
      .orderBy('n.id', 'desc')
      .limit(NOTES_PAGE + 1)
      .offset((page - 1) * NOTES_PAGE);
    if (options.tag)
      query = query.where((eb) => eb(eb.val(options.tag!.toLowerCase()), '=', eb.fn.any('n.tags')));
    if (options.placeId) query = query.where('n.place_id', '=', options.placeId);
    return query.execute();
  });
}

export async function findPracticeNote(
  db: Database,
  placeSlug: string,
  id: number,
): Promise<PracticeNoteView> {
  const notes = await inSystem(db, (tx) =>
    publishedNotes(tx).where('p.slug', '=', placeSlug).where('n.id', '=', id).execute(),
  );
  if (!notes[0]) throw new NotFound('No such practice note');
  return notes[0];
}
