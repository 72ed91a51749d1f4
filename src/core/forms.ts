import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Invalid } from './errors.ts';
import { errorList, fieldMessages } from './web.ts';

/** A submitted form: text fields, and lists where a field repeats (checkboxes). */
export type FormBody = Record<string, string | string[] | undefined>;

/** Re-shows a form with the GOV.UK error summary when input is invalid; rethrows anything else. */
export async function formOr(
  reply: FastifyReply,
  template: string,
  context: Record<string, unknown>,
  order: string[],
  action: () => Promise<unknown>,
) {
  try {
    await action();
    return null;
  } catch (err) {
    if (!(err instanceof Invalid)) throw err;
    return reply.page(
      template,
      { ...context, errors: errorList(err.fields, order), fieldErrors: fieldMessages(err.fields) },
      400,
    );
  }
}

type FormRequest<P> = FastifyRequest<{ Params: P; Body: FormBody }>;

export interface FormPage<P> {
  /** Where the form is shown (GET) and, unless `action` says otherwise, submitted (POST). */
  path: string;
  action?: string;
  template: string;
  /** The form's fields in page order, so the error summary lists problems as the page shows them. */
  order: string[];
  /**
   * Checks the person may use the form and loads what the page shows. It runs for the GET and
   * again for the POST, so showing and submitting are checked the same way.
   */
  context(request: FormRequest<P>, values: FormBody): Promise<Record<string, unknown>>;
  /** What a fresh form is filled in with. */
  initial?(request: FormRequest<P>): FormBody;
  /** Saves the submission (throwing Invalid to re-show the form) and returns where to go next. */
  submit(request: FormRequest<P>, body: FormBody): Promise<string>;
}

/**
 * One form as its GET and POST pair: the POST re-shows the page with the error summary and what
 * was typed when the input is invalid, and otherwise redirects (303) where `submit` says.
 */
export function formPage<P>(app: FastifyInstance, spec: FormPage<P>) {
  app.get<{ Params: P; Body: FormBody }>(spec.path, { schema: { hide: true } }, async (request, reply) =>
    reply.page(spec.template, await spec.context(request, spec.initial?.(request) ?? {})),
  );
  app.post<{ Params: P; Body: FormBody }>(
    spec.action ?? spec.path,
    { schema: { hide: true } },
    async (request, reply) => {
      const body = request.body ?? {};
      const context = await spec.context(request, body);
      let next = '';
      const shown = await formOr(reply, spec.template, context, spec.order, async () => {
        next = await spec.submit(request, body);
      });
      return shown ?? reply.redirect(next, 303);
    },
  );
}
