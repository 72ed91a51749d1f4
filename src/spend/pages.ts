import type { FastifyInstance, FastifyReply } from 'fastify';
import { allows } from '../auth/domain.ts';
import { Invalid, NotFound } from '../core/errors.ts';
import { UploadedFile } from '../core/uploads.ts';
import { errorList, fieldMessages } from '../core/web.ts';
import { inRequestPlace, need, placeScoped, type PlaceContext } from '../places/scope.ts';
import { listPartners } from '../places/public.ts';
import { listServices } from '../services/public.ts';
import {
  addRule,
  listRules,
  reconcileWithLedger,
  removeRule,
  spendByServiceByPartnerByMonth,
  unclassifiedSpend,
} from './classification.ts';
import { RULE_FIELD_LABELS, RULE_FIELDS, type RuleField } from './domain.ts';
import { findJob, startImport } from './import-jobs.ts';
import { COLUMN_ROLES, REQUIRED_ROLES, ROLE_LABELS, type ColumnRole } from './parse.ts';
import { chosenColumns } from './routes.ts';
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
} from './store.ts';
import { acceptSpendForms } from './upload.ts';

type Form = Record<string, string | string[] | undefined>;
const one = (value: string | string[] | undefined) =>
  Array.isArray(value) ? (value[0] ?? '') : (value ?? '');
/** A text field of the upload form; a file or anything else sent under its name counts as blank. */
const textOf = (value: unknown) => (typeof value === 'string' ? value : '');
const idOf = (value: string) => (/^\d{1,15}$/.test(value) ? Number(value) : 0);

/** How long the wizard waits for an import before showing its progress page instead of the result. */
const WAIT_FOR_IMPORT_MS = 1500;

function can(place: PlaceContext) {
  return {
    manage: allows(place.roles, 'services.manage'),
    importSpend: allows(place.roles, 'spend.import'),
    readLedger: allows(place.roles, 'ledger.read'),
  };
}

/** The spend pages: classification rules, imported spend, and the import wizard. */
export async function spendPages(app: FastifyInstance) {
  await app.register(
    placeScoped('/places/:slug', (scoped) => {
      acceptSpendForms(scoped);
      registerRulePages(scoped);
      registerSpendPages(scoped);
      registerImportWizard(scoped);
    }),
  );
}

/** Classification rules and unclassified spend. */
function registerRulePages(scoped: FastifyInstance) {
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
      'spend/views/rules.njk',
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
}

/** Spend: imports, by service, reconciliation. */
function registerSpendPages(scoped: FastifyInstance) {
  scoped.get('/spend', { schema: { hide: true } }, async (request, reply) => {
    const place = need(request, 'services.read');
    const readLedger = allows(place.roles, 'ledger.read');
    const data = await inRequestPlace(request, place, async (tx) => ({
      imports: await listImports(tx, place.id),
      byService: await spendByServiceByPartnerByMonth(tx, place.id),
      reconciliation: readLedger ? await reconcileWithLedger(tx, place.id) : null,
    }));
    return reply.page('spend/views/spend.njk', {
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
      return reply.page('spend/views/import.njk', {
        title: `Import of ${data.spendImport.file_name}`,
        place,
        ...data,
        fresh: (request.query as { added?: string }).added,
      });
    },
  );
}

/** The import wizard: upload → preview and mapping → import → progress → result. */
function registerImportWizard(scoped: FastifyInstance) {
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
      'spend/views/import-upload.njk',
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
          scoped.deps.db,
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
            Object.entries(preview.layout.columns).map(([role, i]) => [role, preview!.layout.headers[i]!]),
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
        'spend/views/import-preview.njk',
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
          errors: problem ? errorList(problem.fields ?? { mapping: problem.message }, [...COLUMN_ROLES]) : [],
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
        scoped.deps.db,
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
      return reply.page('spend/views/import-job.njk', {
        title: job.error ? `${job.fileName} was not imported` : `Importing ${job.fileName}`,
        place,
        job,
        percent: job.lines ? Math.min(100, Math.floor((job.line / job.lines) * 100)) : 0,
      });
    },
  );
}
