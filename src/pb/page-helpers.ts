/** What the pb page modules share: form-field readers, the process URL, and what the person may do. */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { allows } from '../auth/domain.ts';
import { Invalid, NotFound, type FieldErrors } from '../core/errors.ts';
import { type Pence } from '../core/money.ts';
import { need, type PlaceContext } from '../places/scope.ts';
import { tieOrderRefusal, type ProcessRow } from './process-store.ts';
import { listField, penceField, textField } from '../core/form-fields.ts';

export type Body = Record<string, string | string[] | undefined>;
export type Params = { slug: string; id: string };
export type ProposalParams = Params & { proposal: string };

export const actor = (place: PlaceContext) => ({ personId: place.person.id });
export const text = textField;
export const list = listField;
export const processUrl = (place: PlaceContext, id: number, rest = '') =>
  `/places/${place.slug}/pb/${id}${rest}`;

/** Route ids come from the URL; anything that is not a whole number is simply not found. */
export function idFrom(value: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 1 || n > 2_147_483_647) throw new NotFound('Not found');
  return n;
}

export function pounds(body: Body, name: string, fields: FieldErrors, optional = false): Pence | null {
  if (optional && text(body, name) === '') return null;
  return penceField(body, name, fields, { positive: true });
}

export function whole(body: Body, name: string, fields: FieldErrors, message: string): number {
  const value = text(body, name);
  if (!/^\d{1,12}$/.test(value)) fields[name] = message;
  return Number(value);
}

/**
 * Adds the store's field messages to the form's own, under the form's names (it asks for pounds
 * in `budget` where the store checks `budget_pence`); what the form found itself comes first.
 */
export function mergeFields(fields: FieldErrors, err: unknown, names: Record<string, string>) {
  if (!(err instanceof Invalid)) throw err;
  for (const [name, message] of Object.entries(err.fields ?? {})) fields[names[name] ?? name] ??= message;
}

export const items = <T extends string>(
  values: readonly T[],
  labels: Record<T, string>,
  selected: string | undefined,
) =>
  values.map((value) => ({
    value,
    text: labels[value],
    checked: value === selected,
    selected: value === selected,
  }));

/** The process and proposal a staff form is about, from its URL. */
export interface ProposalIds {
  processId: number;
  proposalId: number;
}

export interface ProposalForm {
  /** Saves the form; an Invalid it throws is shown by `reshow`. */
  save(request: FastifyRequest, place: PlaceContext, ids: ProposalIds, body: Body): Promise<unknown>;
  /** Shows the page the form is on again, with the refusal and what was typed. */
  reshow(
    reply: FastifyReply,
    place: PlaceContext,
    ids: ProposalIds,
    body: Body,
    refusal: Invalid,
  ): Promise<unknown>;
  /** Where the saved form goes back to, after the process's URL. */
  then(ids: ProposalIds): string;
}

/** A staff form posted about one proposal (moderation, council review, delivery). */
export function proposalForm(scoped: FastifyInstance, path: string, form: ProposalForm) {
  scoped.post<{ Params: ProposalParams; Body: Body }>(
    path,
    { schema: { hide: true } },
    async (request, reply) => {
      const place = need(request, 'pb.manage');
      const ids = { processId: idFrom(request.params.id), proposalId: idFrom(request.params.proposal) };
      const body = request.body ?? {};
      try {
        await form.save(request, place, ids, body);
      } catch (err) {
        if (!(err instanceof Invalid)) throw err;
        return form.reshow(reply, place, ids, body, err);
      }
      return reply.redirect(processUrl(place, ids.processId, form.then(ids)), 303);
    },
  );
}

/** Staff may act in this phase; residents see what the phase lets them do. */
export function can(place: PlaceContext, process: ProcessRow) {
  return {
    manage: allows(place.roles, 'pb.manage'),
    propose: allows(place.roles, 'pb.propose') && process.phase === 'proposals',
    vote: allows(place.roles, 'pb.vote') && process.phase === 'voting',
    tieBreak: allows(place.roles, 'pb.manage') && !tieOrderRefusal(process),
  };
}
