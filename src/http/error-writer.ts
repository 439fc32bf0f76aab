/**
 * The one error writer. Every error of every route ends here (Express 5 forwards rejected promises),
 * is turned into a domain error (library errors such as body-parser's are translated once, below) and
 * written in the format of its channel:
 * - html: the form again with its messages when the route registered one (onRefusal), else an error page;
 * - api (/api): JSON `{ error: { code, message, fields?, permission? } }`, invalid fields as 400;
 * - scim (/scim): SCIM's error schema with a scimType where one fits.
 * Anything that is not a domain error is logged and answered 500 without details (a stack trace only in
 * development).
 */
import type { ErrorRequestHandler, NextFunction, Request, RequestHandler, Response } from 'express';
import {
  BadRequestError,
  ConflictError,
  CsrfError,
  InvalidLinkError,
  NotFoundError,
  NotSupportedError,
  DomainError,
  ForbiddenError,
  PayloadTooLargeError,
  RegistrationRefusedError,
  TooManyRequestsError,
  UnsupportedMediaTypeError,
  ValidationError,
  isDomainError,
} from '../shared/errors';
import { localiseFields, localiseRefusal, type Translate } from '../i18n';

export type Channel = 'html' | 'api' | 'scim';

export function channelOf(req: Request): Channel {
  const path = req.originalUrl ?? req.url;
  if (path.startsWith('/scim/')) return 'scim';
  if (path.startsWith('/api/')) return 'api';
  return 'html';
}

/** A form to render again, with the error's message and field messages, when its route refuses input. */
export type RefusalForm = { view: string; locals: Record<string, unknown> } | ((res: Response) => Promise<void>);

/** Registers the form that a refused request of this route shows again (HTML channel only). */
export function onRefusal(res: Response, form: RefusalForm): void {
  res.locals.refusalForm = form;
}

const SHOWS_FORM_AGAIN = Symbol('showsFormAgain');

/**
 * A form route: its form is registered before anything else runs, so any refusal, an expired CSRF token
 * included, shows the form again with what was typed. The CSRF check (csrfProtected in http/csrf.ts) sees
 * at registration that the route is a form route and lets a request with a bad token reach it; here it is
 * refused before the handler runs, so nothing is written.
 */
export function formRoute<Req extends Request = Request>(
  form: (req: Req, res: Response) => RefusalForm,
  handler: (req: Req, res: Response, next: NextFunction) => Promise<void> | void,
): RequestHandler {
  const route = async (req: Request, res: Response, next: NextFunction) => {
    // The writer runs after the router has left this route and reset req.params, so a form that reads
    // them (the profile or set being edited) would look up "undefined" and fail with a 500: it gets the
    // route's params back while it renders.
    const params = req.params;
    const registered = form(req as Req, res);
    onRefusal(
      res,
      typeof registered === 'function'
        ? async (r: Response) => {
            const outside = req.params;
            req.params = params;
            try {
              await registered(r);
            } finally {
              req.params = outside;
            }
          }
        : registered,
    );
    const expired = res.locals.csrfRefusal as CsrfError | undefined;
    if (expired) throw expired;
    await handler(req as Req, res, next);
  };
  return Object.assign(route, { [SHOWS_FORM_AGAIN]: true }) as RequestHandler;
}

/** True for a handler made by formRoute. */
export function showsFormAgain(handle: unknown): boolean {
  return typeof handle === 'function' && (handle as unknown as Record<symbol, unknown>)[SHOWS_FORM_AGAIN] === true;
}

/** What a form whose CSRF token no longer holds says above what was typed. */
export const SESSION_EXPIRED = 'Your session expired; check and submit again.';

/** A 4xx raised by a library (body-parser and friends) that has no domain meaning of its own. */
class LibraryHttpError extends DomainError {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

interface LibraryError {
  status?: number;
  statusCode?: number;
  type?: string;
  expose?: boolean;
  message?: string;
  name?: string;
}

/** Translates what libraries throw into domain errors; null for anything unexpected (a 500). */
export function toDomainError(err: unknown): DomainError | null {
  if (isDomainError(err)) return err;
  if (!err || typeof err !== 'object') return null;
  const e = err as LibraryError;
  // A value mongoose could not cast (an object where a string belongs, a malformed id): bad input, not a bug.
  if (e.name === 'CastError')
    return new BadRequestError('A value in the request is not valid.', 'invalid_value', 'invalidValue');
  const status = e.status ?? e.statusCode;
  if (!status || status < 400 || status >= 500) return null;
  switch (e.type) {
    case 'entity.too.large':
    case 'parameters.too.many':
      return new PayloadTooLargeError();
    case 'entity.parse.failed':
      return new BadRequestError('The request body is not valid JSON.', 'malformed_json', 'invalidSyntax');
    case 'encoding.unsupported':
    case 'charset.unsupported':
      return new UnsupportedMediaTypeError(
        'The request body uses an encoding or character set the portal does not read.',
      );
    default:
      return new LibraryHttpError(status, 'bad_request', e.expose && e.message ? e.message : 'Bad request.');
  }
}

const SCIM_UNIQUENESS = new Set([
  'username_taken',
  'email_taken',
  'nickname_taken',
  'contact_taken',
  'external_id_taken',
]);

function fieldList(fields: Record<string, string>): string {
  return Object.entries(fields)
    .map(([f, m]) => `${f}: ${m}`)
    .join(' ');
}

function writeScim(res: Response, err: DomainError): void {
  let status = err.status;
  let detail = err.message;
  let scimType = (err as { scimType?: string }).scimType;
  if (err instanceof ValidationError) {
    status = 400;
    scimType ??= 'invalidValue';
    if (Object.keys(err.fields).length) detail = `${detail} ${fieldList(err.fields)}`;
  } else if (err instanceof ConflictError && err.code === 'contact_required') {
    // SCIM never creates a contactless user; clients expect that refusal as invalidValue.
    status = 400;
    scimType = 'invalidValue';
  } else if (err instanceof ConflictError && SCIM_UNIQUENESS.has(err.code)) {
    scimType = 'uniqueness';
  }
  res
    .status(status)
    .type('application/scim+json')
    .send(
      JSON.stringify({
        schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'],
        status: String(status),
        ...(scimType ? { scimType } : {}),
        detail,
      }),
    );
}

function writeApi(res: Response, err: DomainError): void {
  // The API calls invalid fields 400 (the HTML forms show them as 422).
  const status = err instanceof ValidationError ? 400 : err.status;
  const fields =
    (err instanceof ValidationError || err instanceof ConflictError || err instanceof RegistrationRefusedError) &&
    Object.keys(err.fields).length
      ? { fields: err.fields }
      : {};
  const permission = err instanceof ForbiddenError && err.permission ? { permission: err.permission } : {};
  res.status(status).json({ error: { code: err.code, message: err.message, ...fields, ...permission } });
}

/**
 * Refusals about the address rather than what was typed (no permission, nothing there, a used or expired
 * link, a forged form) get the error page even where the route has a form to show again.
 */
function isAboutTheAddress(err: DomainError): boolean {
  return (
    err instanceof ForbiddenError ||
    err instanceof NotFoundError ||
    err instanceof InvalidLinkError ||
    err instanceof CsrfError ||
    err instanceof NotSupportedError
  );
}

async function writeHtml(res: Response, err: DomainError): Promise<void> {
  const form = res.locals.refusalForm as RefusalForm | undefined;
  // An expired token reaches a form only through formRoute (see http/csrf.ts): the form again, token fresh.
  const expired = err instanceof CsrfError && res.locals.csrfRefusal === err;
  if (form && (!isAboutTheAddress(err) || expired)) {
    const message = expired
      ? translated(res, 'error.sessionExpired', SESSION_EXPIRED)
      : err.messageKey
        ? translated(res, err.messageKey, err.message)
        : localised(res, err.message);
    // A refusal with a catalogue key says the same words beside its fields as above the form.
    const fieldErrors =
      err instanceof RegistrationRefusedError
        ? Object.fromEntries(Object.keys(err.fields).map((k) => [k, message]))
        : localisedFields(res, err instanceof ValidationError || err instanceof ConflictError ? err.fields : {});
    // What was typed (a password, where the refusal is about another field) must not sit in a cache.
    res.status(err.status).set('Cache-Control', 'no-store');
    if (typeof form === 'function') {
      res.locals.error = message;
      res.locals.errorCode = err.code;
      res.locals.fieldErrors = fieldErrors;
      await form(res);
    } else {
      await renderView(res, form.view, { ...form.locals, error: message, fieldErrors });
    }
    return;
  }
  await renderErrorPage(res, err.status, err.messageKey ? translated(res, err.messageKey, err.message) : err.message);
}

/** res.render as a promise, so a failing template is caught here instead of re-entering the writer. */
function renderView(res: Response, view: string, locals: Record<string, unknown>): Promise<void> {
  return new Promise((resolve, reject) => {
    res.render(view, locals, (e: Error | null, html?: string) => {
      if (e) return reject(e);
      res.send(html);
      resolve();
    });
  });
}

/**
 * The error page. Inside the admin area, a signed-in admin (the admin guard has set res.locals.actor)
 * keeps the admin navigation on a 4xx; anyone else, and every 500, gets the plain page.
 */
export function renderErrorPage(res: Response, status: number, message: string, detail?: string): Promise<void> {
  res.status(status);
  const inAdminArea = Boolean(res.locals.actor) && status < 500 && (res.req?.originalUrl ?? '').startsWith('/admin');
  const titleKey = status === 404 ? 'error.notFound' : status >= 500 ? 'error.failed' : 'error.refused';
  // Inside a site (its router has set the site and its paths), a missing page keeps the site's header
  // and offers the ways on: home, sign in or the account, the site's own pages.
  const inSite =
    status === 404 && Boolean(res.locals.site && res.locals.paths) && (res.req?.originalUrl ?? '').startsWith('/s/');
  return renderView(res, inAdminArea ? 'admin/error' : inSite ? 'site/not-found' : 'error', {
    title: translated(
      res,
      titleKey,
      status === 404 ? 'Not found' : status >= 500 ? 'Something went wrong' : 'Request refused',
    ),
    status,
    message: localised(res, message),
    detail,
  });
}

const INTERNAL = 'Something went wrong on our side. Please try again.';

/**
 * A message of the writer's own in the page's language (res.locals.t, set by http/localise.ts); the
 * English text when a request failed before its language was known. Domain refusals go through localised (below).
 */
function translated(res: Response, key: string, english: string): string {
  const t = res.locals.t as ((k: string) => string) | undefined;
  return t ? t(key) : english;
}

/**
 * A domain refusal (English, the API's contract) in the page's language: its key in the catalogue
 * (src/i18n/refusals.ts). English pages, the admin area and a request that failed before its language
 * was known keep the text as thrown.
 */
function localised(res: Response, message: string): string {
  const t = res.locals.t as Translate | undefined;
  return t ? localiseRefusal(t, message) : message;
}

function localisedFields(res: Response, fields: Record<string, string>): Record<string, string> {
  const t = res.locals.t as Translate | undefined;
  return t ? localiseFields(t, fields) : fields;
}

export function errorWriter(opts: { isDevelopment: boolean }): ErrorRequestHandler {
  return async (err, req, res, _next) => {
    const known = toDomainError(err);
    if (!known) req.log?.error({ err }, 'unhandled error');
    if (res.headersSent) {
      // A stream failed part-way (an export, a result file): the body can't be mended, so end the connection.
      res.destroy();
      return;
    }
    const channel = channelOf(req);
    try {
      if (!known) {
        if (channel === 'html')
          return renderErrorPage(
            res,
            500,
            translated(res, 'error.internal', INTERNAL),
            opts.isDevelopment && err instanceof Error ? err.stack : undefined,
          );
        return channel === 'scim'
          ? writeScim(res, new LibraryHttpError(500, 'internal_error', INTERNAL))
          : writeApi(res, new LibraryHttpError(500, 'internal_error', INTERNAL));
      }
      if (known instanceof TooManyRequestsError) res.set('Retry-After', String(known.retryAfterSeconds));
      if (channel === 'scim') return writeScim(res, known);
      if (channel === 'api') return writeApi(res, known);
      await writeHtml(res, known);
    } catch (renderErr) {
      // Rendering the refusal failed (a broken template, the database gone): answer plainly, never crash.
      req.log?.error({ err: renderErr }, 'error page failed');
      if (!res.headersSent) res.status(500).type('text/plain').send(INTERNAL);
      else res.destroy();
    }
  };
}
