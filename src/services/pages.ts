import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { allows } from '../auth/domain.ts';
import { barChart } from '../core/chart.ts';
import type { Tx } from '../core/db.ts';
import { Invalid, NotFound } from '../core/errors.ts';
import { formatPounds, formatPoundsShort, parsePounds, pence, type Pence } from '../core/money.ts';
import { errorList, fieldMessages } from '../core/web.ts';
import { formOr } from '../core/forms.ts';
import { inRequestPlace, need, placeScoped, type PlaceContext } from '../places/scope.ts';
import { decisionChoices, listPartners } from '../places/public.ts';
import {
  REVIEW_DECISIONS,
  REVIEW_LABELS,
  RULE_FIELD_LABELS,
  RULE_FIELDS,
  SERVICE_STATUSES,
  validateNewService,
  type RuleField,
} from './domain.ts';
import { findJob, startImport } from './import-jobs.ts';
import { reconcileWithLedger } from './open-data.ts';
import { chosenColumns } from './routes.ts';
import { COLUMN_ROLES, REQUIRED_ROLES, ROLE_LABELS, type ColumnRole } from './spend-parse.ts';
import {
  bytesSource,
  findUpload,
  importSpend,
  listExclusions,
  listImports,
  listProfiles,
  removeUpload,
  saveProfile,
  saveUpload,
} from './spend-store.ts';
import {
  addRule,
  addService,
  findService,
  importOruk,
  listOverlaps,
  listRules,
  listServices,
  removeRule,
  setServiceCost,
  spendByServiceByPartnerByMonth,
  unclassifiedSpend,
  updateService,
  type ServiceView,
} from './store.ts';
import { acceptOrukForms, acceptSpendForms, readOrukFile, UploadedFile } from './upload.ts';

type Form = Record<string, string | string[] | undefined>;
const one = (value: string | string[] | undefined) =>
  Array.isArray(value) ? (value[0] ?? '') : (value ?? '');
/** A text field of the upload form; a file or anything else sent under its name counts as blank. */
const textOf = (value: unknown) => (typeof value === 'string' ? value : '');
const idOf = (value: string) => (/^\d{1,15}$/.test(value) ? Number(value) : 0);

/** How long the wizard waits for an import before showing its progress page instead of the result. */
const WAIT_FOR_IMPORT_MS = 1500;

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
      acceptSpendForms(scoped);

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

      // -----------------------------------------------------------------------------------------
      // Classification rules and unclassified spend

      const rulesPage = async (
        reply: FastifyReply,
        place: PlaceContext,
        values: Form,
        status = 200,
        fields?: Record<string, string>,
      ) => {
        const data = await inRequestPlace(reply.request, place, async (tx) => ({
          rules: await listRules(tx, place.id),
          unclassified: await unclassifiedSpend(tx, place.id),
          services: await listServices(tx, place.id),
        }));
        return reply.page(
          'services/views/rules.njk',
          {
            title: `Classification rules – ${place.name}`,
            place,
            rules: data.rules.map((r) => ({ ...r, fieldLabel: RULE_FIELD_LABELS[r.field] })),
            unclassified: data.unclassified,
            unclassifiedTotal: data.unclassified.reduce((sum, u) => sum + u.amount_pence, 0),
            values,
            fieldItems: RULE_FIELDS.map((f) => ({
              value: f,
              text: RULE_FIELD_LABELS[f],
              checked: f === (one(values.field) || 'expense_area'),
            })),
            serviceItems: [
              { value: '', text: 'Choose a service' },
              ...data.services.map((s) => ({
                value: String(s.id),
                text: s.name,
                selected: String(s.id) === one(values.service_id),
              })),
            ],
            errors: errorList(fields, ['field', 'value', 'service_id', 'priority']),
            fieldErrors: fieldMessages(fields),
            can: can(place),
          },
          status,
        );
      };

      scoped.get('/services/rules', { schema: { hide: true } }, async (request, reply) =>
        rulesPage(reply, need(request, 'services.read'), request.query as Form),
      );

      scoped.post<{ Body: Form }>('/services/rules', { schema: { hide: true } }, async (request, reply) => {
        const place = need(request, 'services.manage');
        const body = request.body;
        try {
          const serviceId = idOf(one(body.service_id));
          if (!serviceId)
            throw new Invalid('There is a problem with the rule', {
              service_id: 'Choose the service this spend belongs to',
            });
          const priority = one(body.priority).trim();
          await inRequestPlace(request, place, (tx) =>
            addRule(
              tx,
              place.id,
              {
                field: one(body.field) as RuleField,
                value: one(body.value),
                serviceId,
                ...(priority ? { priority: Number(priority) } : {}),
              },
              place.person.id,
            ),
          );
        } catch (err) {
          if (!(err instanceof Invalid)) throw err;
          return rulesPage(reply, place, body, 400, err.fields ?? { value: err.message });
        }
        return reply.redirect(`/places/${place.slug}/services/rules`, 303);
      });

      scoped.post<{ Params: { slug: string; id: string } }>(
        '/services/rules/:id/remove',
        { schema: { hide: true } },
        async (request, reply) => {
          const place = need(request, 'services.manage');
          await inRequestPlace(request, place, (tx) =>
            removeRule(tx, place.id, idOf(request.params.id), place.person.id),
          );
          return reply.redirect(`/places/${place.slug}/services/rules`, 303);
        },
      );

      // -----------------------------------------------------------------------------------------
      // Spend: imports, by service, reconciliation

      scoped.get('/spend', { schema: { hide: true } }, async (request, reply) => {
        const place = need(request, 'services.read');
        const readLedger = allows(place.roles, 'ledger.read');
        const data = await inRequestPlace(request, place, async (tx) => ({
          imports: await listImports(tx, place.id),
          byService: await spendByServiceByPartnerByMonth(tx, place.id),
          reconciliation: readLedger ? await reconcileWithLedger(tx, place.id) : null,
        }));
        return reply.page('services/views/spend.njk', {
          title: `Spend – ${place.name}`,
          place,
          ...data,
          can: can(place),
        });
      });

      scoped.get<{ Params: { slug: string; id: string } }>(
        '/spend/imports/:id',
        { schema: { hide: true } },
        async (request, reply) => {
          const place = need(request, 'services.read');
          const importId = idOf(request.params.id);
          const data = await inRequestPlace(request, place, async (tx) => {
            const found = (await listImports(tx, place.id)).find((i) => i.id === importId);
            if (!found) throw new NotFound('No such import in this place');
            return { spendImport: found, excluded: await listExclusions(tx, place.id, importId) };
          });
          return reply.page('services/views/import.njk', {
            title: `Import of ${data.spendImport.file_name}`,
            place,
            ...data,
            fresh: (request.query as { added?: string }).added,
          });
        },
      );

      // -----------------------------------------------------------------------------------------
      // The import wizard: upload → preview and mapping → import → progress → result

      const uploadPage = async (
        reply: FastifyReply,
        place: PlaceContext,
        status = 200,
        fields?: Record<string, string>,
      ) => {
        const data = await inRequestPlace(reply.request, place, async (tx) => ({
          partners: await listPartners(tx, place.id),
          profiles: await listProfiles(tx, place.id),
        }));
        return reply.page(
          'services/views/import-upload.njk',
          {
            title: `Import a spend file – ${place.name}`,
            place,
            partnerItems: [
              { value: '', text: 'Find it from the file’s body column' },
              ...data.partners.map((p) => ({ value: String(p.id), text: p.name })),
            ],
            profileItems: [
              { value: '', text: 'Detect the columns' },
              ...data.profiles.map((p) => ({ value: p.name, text: p.name })),
            ],
            errors: errorList(fields, ['file', 'partner_id']),
            fieldErrors: fieldMessages(fields),
          },
          status,
        );
      };

      scoped.get('/spend/import', { schema: { hide: true } }, async (request, reply) =>
        uploadPage(reply, need(request, 'spend.import')),
      );

      scoped.post('/spend/uploads', { schema: { hide: true } }, async (request, reply) => {
        const place = need(request, 'spend.import');
        const body = (request.body ?? {}) as Record<string, unknown>;
        const file = body.file;
        if (!(file instanceof UploadedFile) || file.bytes.length === 0)
          return uploadPage(reply, place, 400, { file: 'Choose a CSV spending file' });
        try {
          const uploadId = await inRequestPlace(request, place, (tx) =>
            saveUpload(
              tx,
              place.id,
              {
                fileName: file.name,
                content: file.bytes,
                partnerId: idOf(textOf(body.partner_id)) || null,
              },
              place.person.id,
            ),
          );
          const profileName = textOf(body.profile);
          const profile = profileName ? `?profile=${encodeURIComponent(profileName)}` : '';
          return reply.redirect(`/places/${place.slug}/spend/uploads/${uploadId}${profile}`, 303);
        } catch (err) {
          if (!(err instanceof Invalid)) throw err;
          return uploadPage(reply, place, 400, err.fields);
        }
      });

      scoped.get<{ Params: { slug: string; id: string }; Querystring: Form }>(
        '/spend/uploads/:id',
        { schema: { hide: true } },
        async (request, reply) => {
          const place = need(request, 'spend.import');
          const uploadId = idOf(request.params.id);
          const query = request.query;
          const upload = await inRequestPlace(request, place, (tx) => findUpload(tx, place.id, uploadId));
          const profile = one(query.profile);
          const columns = chosenColumns(Object.fromEntries(COLUMN_ROLES.map((r) => [r, one(query[r])])));
          let preview: Awaited<ReturnType<typeof importSpend>> | null = null;
          let problem: { message: string; fields?: Record<string, string> } | null = null;
          try {
            preview = await importSpend(
              app.deps.db,
              place.id,
              {
                fileName: upload.file_name,
                open: bytesSource(upload.content),
                ...(profile ? { profileName: profile } : {}),
                columns,
                ...(upload.partner_id ? { partnerId: upload.partner_id } : {}),
                dryRun: true,
                rejects: 'record',
              },
              place.person.id,
            );
          } catch (err) {
            if (!(err instanceof Invalid)) throw err;
            problem = { message: err.message, ...(err.fields ? { fields: err.fields } : {}) };
          }
          const found = preview
            ? Object.fromEntries(
                Object.entries(preview.layout.columns).map(([role, i]) => [
                  role,
                  preview!.layout.headers[i]!,
                ]),
              )
            : {};
          const headers = preview?.layout.headers ?? [];
          const roles = COLUMN_ROLES.map((role) => ({
            role,
            label: ROLE_LABELS[role],
            required: REQUIRED_ROLES.includes(role),
            chosen: columns[role] ?? found[role] ?? '',
            items: [
              { value: '', text: REQUIRED_ROLES.includes(role) ? 'Choose a column' : 'Not in this file' },
              ...headers.map((h) => ({ value: h, text: h, selected: h === (columns[role] ?? found[role]) })),
            ],
          }));
          const mapping = Object.fromEntries(roles.map((r) => [r.role, r.chosen]));
          return reply.page(
            'services/views/import-preview.njk',
            {
              title: `Check ${upload.file_name} before importing`,
              place,
              upload: { id: upload.id, file_name: upload.file_name, bytes: upload.content.length },
              preview,
              rejects: preview?.excluded.filter((e) => e.kind === 'unreadable') ?? [],
              left: preview?.excluded.filter((e) => e.kind !== 'unreadable') ?? [],
              roles,
              mapping,
              profile,
              problem,
              errors: problem
                ? errorList(problem.fields ?? { mapping: problem.message }, [...COLUMN_ROLES])
                : [],
              fieldErrors: fieldMessages(problem?.fields),
            },
            problem ? 400 : 200,
          );
        },
      );

      scoped.post<{ Params: { slug: string; id: string }; Body: Form }>(
        '/spend/uploads/:id/import',
        { schema: { hide: true } },
        async (request, reply) => {
          const place = need(request, 'spend.import');
          const uploadId = idOf(request.params.id);
          const body = request.body;
          const upload = await inRequestPlace(request, place, (tx) => findUpload(tx, place.id, uploadId));
          const columns = chosenColumns(
            Object.fromEntries(COLUMN_ROLES.map((r) => [r, one(body[r])])),
          ) as Partial<Record<ColumnRole, string>>;
          const profileName = one(body.save_profile).trim();
          const { job, done } = startImport(
            app.deps.db,
            place.id,
            {
              fileName: upload.file_name,
              open: bytesSource(upload.content),
              columns,
              ...(upload.partner_id ? { partnerId: upload.partner_id } : {}),
              rejects: one(body.rejects) === 'refuse' ? 'refuse' : 'record',
            },
            place.person.id,
            // After the import lands: the upload is no longer needed, and the mapping is kept if asked.
            (result) =>
              inRequestPlace(request, place, async (tx) => {
                await removeUpload(tx, place.id, uploadId);
                if (profileName)
                  await saveProfile(
                    tx,
                    place.id,
                    {
                      name: profileName,
                      partnerId: upload.partner_id,
                      columns: Object.fromEntries(
                        Object.entries(result.layout.columns).map(([r, i]) => [r, result.layout.headers[i]!]),
                      ),
                    },
                    place.person.id,
                  );
              }),
          );
          await Promise.race([done, new Promise((resolve) => setTimeout(resolve, WAIT_FOR_IMPORT_MS))]);
          return reply.redirect(`/places/${place.slug}/spend/jobs/${job.id}`, 303);
        },
      );

      scoped.get<{ Params: { slug: string; job: string } }>(
        '/spend/jobs/:job',
        { schema: { hide: true } },
        async (request, reply) => {
          const place = need(request, 'spend.import');
          const job = findJob(place.id, request.params.job);
          if (!job) throw new NotFound('No such import: it may have finished more than an hour ago');
          if (job.result?.importId)
            return reply.redirect(
              `/places/${place.slug}/spend/imports/${job.result.importId}?added=${job.result.added}`,
              303,
            );
          // Until it lands, the page reloads itself: progress without JavaScript.
          if (!job.error) reply.header('refresh', '2');
          return reply.page('services/views/import-job.njk', {
            title: job.error ? `${job.fileName} was not imported` : `Importing ${job.fileName}`,
            place,
            job,
            percent: job.lines ? Math.min(100, Math.floor((job.line / job.lines) * 100)) : 0,
          });
        },
      );
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
