/** Addresses and path parameters the cost-benefit pages share. */
import { NotFound } from '../core/errors.ts';
import type { PlaceContext } from '../places/scope.ts';

export type CaseParams = { Params: { slug: string; id: string } };

export const casesUrl = (place: PlaceContext) => `/places/${place.slug}/cba`;
export const caseUrl = (place: PlaceContext, id: number) => `${casesUrl(place)}/business-cases/${id}`;

/** A path id: anything but a positive whole number is a page that does not exist. */
export function caseId(raw: string): number {
  const id = Number(raw);
  if (!Number.isSafeInteger(id) || id < 1) throw new NotFound('Business case not found');
  return id;
}
