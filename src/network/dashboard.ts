import type { FastifyRequest } from 'fastify';
import { listIndicators } from '../outcomes/public.ts';
import { inRequestPlace, type PlaceContext } from '../places/scope.ts';
import { moneyForViewer, readDashboardFigures, type PlaceFigures } from './figures.ts';

/**
 * A place's dashboard as the viewer may see it, for the page and the API alike: the figures for
 * `year` (else the latest with postings), the money trimmed to the statements the viewer may
 * read, and the indicators against their targets.
 */
export function placeDashboard(
  figures: PlaceFigures,
  request: FastifyRequest,
  place: PlaceContext,
  year: number | undefined,
) {
  return inRequestPlace(request, place, async (tx) => {
    const read = await readDashboardFigures(figures, tx, place, { year, log: request.log });
    return {
      ...read,
      money: moneyForViewer(read.money, place),
      indicators: await listIndicators(tx, place.id),
    };
  });
}
