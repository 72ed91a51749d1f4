import type { FastifyInstance, FastifyRequest } from 'fastify';
import { allows } from '../auth/domain.ts';
import { barChart } from '../core/chart.ts';
import type { Tx } from '../core/db.ts';
import { Invalid } from '../core/errors.ts';
import { formatPounds, formatPoundsShort, parsePounds, pence, type Pence } from '../core/money.ts';
import { formOr } from '../core/forms.ts';
import { inRequestPlace, need, placeScoped, type PlaceContext } from '../places/scope.ts';
import { decisionChoices, listPartners } from '../places/public.ts';
import { REVIEW_DECISIONS, REVIEW_LABELS, SERVICE_STATUSES, validateNewService } from './domain.ts';
import {
  addService,
  findService,
  importOruk,
  listOverlaps,
  listServices,
  setServiceCost,
  updateService,
  type ServiceView,
} from './store.ts';
import { UploadedFile } from '../core/uploads.ts';
import { acceptOrukForms, readOrukFile } from './upload.ts';

type Form = Record<string, string | string[] | undefined>;
const one = (value: string | string[] | undefined) =>
  Array.isArray(value) ? (value[0] ?? '') : (value ?? '');
const idOf = (value: string) => (/^\d{1,15}$/.test(value) ? Number(value) : 0);

/** Cost by funding partner (latest year of each service), one bar segment per outcome area. */
function mapFigure(services: ServiceView[]) {
  const partners = [...new Set(services.flatMap((s) => s.costs.map((c) => c.partner_name)))].sort();
  const areas = [
    ...new Set(services.filter((s) => s.costs.length).map((s) => s.outcome_area || 'No outcome area')),
  ].sort();
  const cost = (partner: string, area: string) =>
    services
      .filter((s) => (s.outcome_area || 'No outcome area') === area)
      .flatMap((s) => s.costs.filter((c) => c.partner_name === partner && c.year === s.costs[0]!.year))
      .reduce((sum, c) => sum + c.cost_pence, 0);
  return barChart({
    caption: 'Annual cost of services by funding partner and outcome area (latest year of each service)',
    categories: partners,
    series: areas.map((area) => ({ name: area, values: partners.map((p) => cost(p, area)) })),
    format: (v) => formatPounds(v),
    axisFormat: (v) => formatPoundsShort(v),
    stacked: true,
  });
}

function can(place: PlaceContext) {
  return {
    manage: allows(place.roles, 'services.manage'),
    importSpend: allows(place.roles, 'spend.import'),
    readLedger: allows(place.roles, 'ledger.read'),
  };
}

export async function servicePages(app: FastifyInstance) {
  await app.register(
    placeScoped('/places/:slug', (scoped) => {
      // -----------------------------------------------------------------------------------------
      // The service map

      scoped.get('/services', { schema: { hide: true } }, async (request, reply) => {
        const place = need(request, 'services.read');
        const services = await inRequestPlace(request, place, (tx) => listServices(tx, place.id));
        const total = services.reduce((sum, s) => sum + s.annual_cost_pence, 0);
        return reply.page('services/views/map.njk', {
          title: `Service map – ${place.name}`,
          place,
          services: services.map((s) => ({
            ...s,
            reviewLabel: s.review ? REVIEW_LABELS[s.review as keyof typeof REVIEW_LABELS] : '',
          })),
          total,
          figure: services.some((s) => s.costs.length) ? mapFigure(services) : null,
          can: can(place),
        });
      });

      const serviceForm = async (place: PlaceContext, tx: Tx) => {
        const partners = await listPartners(tx, place.id);
        const decisions = await listDecisions(tx, place.id);
        return { partners, decisions };
      };
      /** A service and the choices its form offers, read in one transaction. */
      const serviceWithForm = (request: FastifyRequest, place: PlaceContext, serviceId: number) =>
        inRequestPlace(request, place, async (tx) => ({
          service: await findService(tx, place.id, serviceId),
          options: await serviceForm(place, tx),
        }));
      const formContext = (
        place: PlaceContext,
        options: Awaited<ReturnType<typeof serviceForm>>,
        values: Form,
        service?: ServiceView,
      ) => {
        const chosen = (name: string) => [values[name] ?? []].flat().map(String);
        return {
          title: service ? service.name : 'Add a service',
          place,
          service,
          values,
          statusItems: SERVICE_STATUSES.map((s) => ({
            value: s,
            text: s[0]!.toUpperCase() + s.slice(1),
            selected: s === (one(values.status) || 'active'),
          })),
          reviewItems: [
            { value: '', text: 'Not reviewed yet', checked: !one(values.review) },
            ...REVIEW_DECISIONS.map((r) => ({
              value: r,
              text: REVIEW_LABELS[r],
              checked: r === one(values.review),
            })),
          ],
          decisionItems: [
            { value: '', text: 'No board decision yet' },
            ...options.decisions.map((d) => ({
              value: String(d.id),
              text: d.title,
              selected: String(d.id) === one(values.decision_id),
            })),
          ],
          fundedItems: options.partners.map((p) => ({
            value: String(p.id),
            text: p.name,
            checked: chosen('funded_by').includes(String(p.id)),
          })),
          deliveredItems: options.partners.map((p) => ({
            value: String(p.id),
            text: p.name,
            checked: chosen('delivered_by').includes(String(p.id)),
          })),
          partnerItems: options.partners.map((p) => ({
            value: String(p.id),
            text: p.name,
            selected: String(p.id) === one(values.partner_id),
          })),
          can: can(place),
        };
      };
      const valuesOf = (s: ServiceView): Form => ({
        name: s.name,
        description: s.description,
        client_group: s.client_group,
        outcome_area: s.outcome_area,
        status: s.status,
        review: s.review ?? '',
        decision_id: s.decision_id ? String(s.decision_id) : '',
        funded_by: s.funded_by.map((p) => String(p.id)),
        delivered_by: s.delivered_by.map((p) => String(p.id)),
      });
      const SERVICE_FIELDS = [
        'name',
        'client_group',
        'outcome_area',
        'status',
        'funded_by',
        'delivered_by',
        'review',
        'decision_id',
      ];

      scoped.get('/services/new', { schema: { hide: true } }, async (request, reply) => {
        const place = need(request, 'services.manage');
        const options = await inRequestPlace(request, place, (tx) => serviceForm(place, tx));
        return reply.page('services/views/service.njk', formContext(place, options, {}));
      });

      scoped.post<{ Body: Form }>('/services', { schema: { hide: true } }, async (request, reply) => {
        const place = need(request, 'services.manage');
        let serviceId = 0;
        const options = await inRequestPlace(request, place, (tx) => serviceForm(place, tx));
        const shown = await formOr(
          reply,
          'services/views/service.njk',
          formContext(place, options, request.body),
          SERVICE_FIELDS,
          async () => {
            serviceId = await inRequestPlace(request, place, (tx) =>
              addService(tx, place.id, validateNewService(request.body), place.person.id),
            );
          },
        );
        return shown ?? reply.redirect(`/places/${place.slug}/services/${serviceId}?saved=1`, 303);
      });

      scoped.get<{ Params: { slug: string; id: string } }>(
        '/services/:id',
        { schema: { hide: true } },
        async (request, reply) => {
          const place = need(request, 'services.read');
          const data = await serviceWithForm(request, place, idOf(request.params.id));
          return reply.page('services/views/service.njk', {
            ...formContext(place, data.options, valuesOf(data.service), data.service),
            saved: (request.query as { saved?: string }).saved === '1',
          });
        },
      );

      scoped.post<{ Params: { slug: string; id: string }; Body: Form }>(
        '/services/:id',
        { schema: { hide: true } },
        async (request, reply) => {
          const place = need(request, 'services.manage');
          const serviceId = idOf(request.params.id);
          const data = await serviceWithForm(request, place, serviceId);
          const shown = await formOr(
            reply,
            'services/views/service.njk',
            formContext(place, data.options, request.body, data.service),
            SERVICE_FIELDS,
            () =>
              inRequestPlace(request, place, (tx) =>
                updateService(tx, place.id, serviceId, validateNewService(request.body), place.person.id),
              ),
          );
          return shown ?? reply.redirect(`/places/${place.slug}/services/${serviceId}?saved=1`, 303);
        },
      );

      scoped.post<{ Params: { slug: string; id: string }; Body: Form }>(
        '/services/:id/costs',
        { schema: { hide: true } },
        async (request, reply) => {
          const place = need(request, 'services.manage');
          const serviceId = idOf(request.params.id);
          const data = await serviceWithForm(request, place, serviceId);
          const body = request.body;
          const context = {
            ...formContext(place, data.options, { ...valuesOf(data.service), ...body }, data.service),
            costValues: body,
          };
          const shown = await formOr(
            reply,
            'services/views/service.njk',
            context,
            ['partner_id', 'year', 'cost'],
            async () => {
              const errors: Record<string, string> = {};
              const year = Number(one(body.year));
              if (!/^\d{4}$/.test(one(body.year).trim()))
                errors.year = 'Enter the financial year it starts in, like 2025';
              if (!idOf(one(body.partner_id))) errors.partner_id = 'Select the partner that funds it';
              let cost: Pence = pence(0);
              try {
                cost = parsePounds(one(body.cost), 'cost');
              } catch (err) {
                if (err instanceof Invalid) Object.assign(errors, err.fields);
              }
              if (Object.keys(errors).length) throw new Invalid('There is a problem with the cost', errors);
              await inRequestPlace(request, place, (tx) =>
                setServiceCost(
                  tx,
                  place.id,
                  { serviceId, partnerId: idOf(one(body.partner_id)), year, costPence: cost },
                  place.person.id,
                ),
              );
            },
          );
          return shown ?? reply.redirect(`/places/${place.slug}/services/${serviceId}?saved=1#costs`, 303);
        },
      );

      scoped.get('/services/overlaps', { schema: { hide: true } }, async (request, reply) => {
        const place = need(request, 'services.read');
        const overlaps = await inRequestPlace(request, place, (tx) => listOverlaps(tx, place.id));
        return reply.page('services/views/overlaps.njk', {
          title: `Overlapping services – ${place.name}`,
          place,
          overlaps,
          total: overlaps.reduce((sum, o) => sum + o.combined_cost_pence, 0),
        });
      });
    }),
  );

  // ORUK files come to a scope of their own, where multipart takes the API's 16 MB, not the spend files' 64 MB.
  await app.register(async (uploads) => {
    await acceptOrukForms(uploads);
    await uploads.register(placeScoped('/places/:slug', orukImportPage));
  });
}

const ORUK_TEMPLATE = 'services/views/oruk-import.njk';

/**
 * Import a council's Open Referral UK directory into the map, as the API does: all or nothing,
 * and a service imported before (the same ORUK id) is updated, not added again.
 */
function orukImportPage(scoped: FastifyInstance) {
  const context = (place: PlaceContext, done: { added: number; updated: number } | null = null) => ({
    title: `Import services from Open Referral UK – ${place.name}`,
    place,
    done,
  });

  scoped.get('/services/import', { schema: { hide: true } }, async (request, reply) => {
    const place = need(request, 'services.manage');
    const query = request.query as Form;
    const count = (value: string | string[] | undefined) =>
      /^\d{1,9}$/.test(one(value)) ? Number(one(value)) : null;
    const added = count(query.added);
    const updated = count(query.updated);
    return reply.page(
      ORUK_TEMPLATE,
      context(place, added !== null && updated !== null ? { added, updated } : null),
    );
  });

  scoped.post('/services/import', { schema: { hide: true } }, async (request, reply) => {
    const place = need(request, 'services.manage');
    const file = ((request.body ?? {}) as Record<string, unknown>).file;
    let result = { added: 0, updated: 0 };
    const shown = await formOr(reply, ORUK_TEMPLATE, context(place), ['file'], async () => {
      try {
        if (!(file instanceof UploadedFile) || file.bytes.length === 0)
          throw new Invalid('Choose an Open Referral UK JSON file', {
            file: 'Choose an Open Referral UK JSON file',
          });
        const document = readOrukFile(file.bytes, file.name);
        result = await inRequestPlace(request, place, (tx) =>
          importOruk(tx, place.id, document, place.person.id),
        );
      } catch (err) {
        throw err instanceof Invalid ? asFileProblem(err) : err;
      }
    });
    return (
      shown ??
      reply.redirect(
        `/places/${place.slug}/services/import?added=${result.added}&updated=${result.updated}`,
        303,
      )
    );
  });
}

/**
 * The whole of a refusal against the file field: importOruk's message counts the services refused
 * and names the first few problems, where its field names only the first.
 */
function asFileProblem(err: Invalid): Invalid {
  const field = err.fields?.file;
  const text = field && !err.message.includes(field) ? `${err.message}. ${field}` : err.message;
  return new Invalid(err.message, { ...err.fields, file: text });
}

/** Board decisions of the place, newest first, for the review decision's select. */
async function listDecisions(tx: Tx, placeId: number) {
  return decisionChoices(tx, placeId);
}
