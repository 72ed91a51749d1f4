/** Linking a business case to the families it is about, and the forecast-against-realised table. */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Invalid, type FieldErrors } from '../core/errors.ts';
import { formOr } from '../core/forms.ts';
import { inRequestPlace, need, type PlaceContext } from '../places/scope.ts';
import type { BusinessCase, ModelResults } from './domain.ts';
import { compareForecast } from './forecast.ts';
import type { Body } from './forms.ts';
import type { RealisedOutcomesSource } from './ports.ts';
import { getBusinessCase, getCohortLink, linkCohort, type BusinessCaseRow } from './store.ts';
import { caseId, caseUrl, type CaseParams } from './web.ts';
import { isIsoDate, todayIso } from '../core/dates.ts';

const today = () => todayIso();

/** What the results page shows under "Forecast against realised"; null when no cohort is linked. */
export async function forecastSection(
  request: FastifyRequest,
  place: PlaceContext,
  caseId: number,
  model: BusinessCase,
  results: ModelResults,
  realisedOutcomes: RealisedOutcomesSource,
) {
  return inRequestPlace(request, place, async (tx) => {
    const link = await getCohortLink(tx, place.id, caseId);
    if (!link) return null;
    const realised = await realisedOutcomes.realisedEvents(tx, {
      placeId: place.id,
      takenOnFrom: link.taken_on_from,
      takenOnTo: link.taken_on_to,
      today: today(),
    });
    return {
      link,
      families: realised.families,
      tooRecent: realised.tooRecent,
      rows: compareForecast(model, results, realised.events),
    };
  });
}

/** The window of dates taken on, from a form or a JSON body; both dates real, in order. */
export function cohortLinkInput(body: Body) {
  const fields: FieldErrors = {};
  const from = (body.taken_on_from ?? '').trim();
  const to = (body.taken_on_to ?? '').trim();
  if (!isIsoDate(from)) fields.taken_on_from = 'Enter a real date written YYYY-MM-DD, for example 2013-04-01';
  if (!isIsoDate(to)) fields.taken_on_to = 'Enter a real date written YYYY-MM-DD, for example 2014-03-31';
  else if (!fields.taken_on_from && to < from)
    fields.taken_on_to = 'The last date must be on or after the first';
  if (Object.keys(fields).length) throw new Invalid('The dates are not valid', fields);
  return { taken_on_from: from, taken_on_to: to };
}

export function cohortPages(scoped: FastifyInstance) {
  const context = (place: PlaceContext, row: BusinessCaseRow, values: Body) => ({
    title: `Link families – ${row.title}`,
    place,
    row,
    values,
  });

  scoped.get<CaseParams>(
    '/cba/business-cases/:id/cohort',
    { schema: { hide: true } },
    async (request, reply) => {
      const place = need(request, 'cba.edit');
      const id = caseId(request.params.id);
      const { row, link } = await inRequestPlace(request, place, async (tx) => ({
        row: await getBusinessCase(tx, place.id, id),
        link: await getCohortLink(tx, place.id, id),
      }));
      return reply.page('cba/views/cohort.njk', context(place, row, { ...link }));
    },
  );

  scoped.post<CaseParams & { Body: Body }>(
    '/cba/business-cases/:id/cohort',
    { schema: { hide: true } },
    async (request, reply) => {
      const place = need(request, 'cba.edit');
      const id = caseId(request.params.id);
      const body = request.body ?? {};
      const row = await inRequestPlace(request, place, (tx) => getBusinessCase(tx, place.id, id));
      const shown = await formOr(
        reply,
        'cba/views/cohort.njk',
        context(place, row, body),
        ['taken_on_from', 'taken_on_to'],
        () =>
          inRequestPlace(request, place, (tx) =>
            linkCohort(tx, place.id, place.person.id, id, cohortLinkInput(body)),
          ),
      );
      return shown ?? reply.redirect(`${caseUrl(place, id)}/results#forecast`, 303);
    },
  );
}
