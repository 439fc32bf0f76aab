/**
 * The one error writer. Domain errors become their status with a message that tells the person what to
 * do; HTML for people (the form again when the route says which view), JSON for /api, SCIM's schema for
 * /scim. Anything unexpected is logged and answered 500 without details (no stack traces outside
 * development).
 */
import type { ErrorRequestHandler, Request, Response } from 'express';
import { isDomainError, TooManyRequestsError, ValidationError, ConflictError } from '../domain/errors';

interface HttpLikeError { status?: number; statusCode?: number; type?: string; expose?: boolean; message?: string; code?: string }

/** Errors from body-parser, csrf-sync and friends carry a status; map them to messages people read. */
function fromHttpError(err: HttpLikeError): { status: number; code: string; message: string } | null {
  // A value mongoose could not cast (an object where a string belongs, a malformed id): bad input, not a bug.
  if ((err as { name?: string }).name === 'CastError') return { status: 400, code: 'invalid_value', message: 'A value in the request is not valid.' };
  const status = err.status ?? err.statusCode;
  if (!status || status < 400 || status >= 500) return null;
  if (err.type === 'entity.too.large') return { status: 413, code: 'payload_too_large', message: 'The request is too large.' };
  if (err.type === 'entity.parse.failed') return { status: 400, code: 'malformed_json', message: 'The request body is not valid JSON.' };
  if (err.code === 'EBADCSRFTOKEN' || /csrf/i.test(err.message ?? '')) {
    return { status: 403, code: 'csrf_failed', message: 'Your form expired or was sent from elsewhere. Reload the page and try again.' };
  }
  return { status, code: 'bad_request', message: err.expose ? (err.message ?? 'Bad request.') : 'Bad request.' };
}

export function wantsJson(req: Request): boolean {
  return req.path.startsWith('/api/') || req.path.startsWith('/scim/');
}

export interface ErrorBody { status: number; code: string; message: string; fields?: Record<string, string>; retryAfter?: number }

export function describeError(err: unknown): ErrorBody | null {
  if (isDomainError(err)) {
    const body: ErrorBody = { status: err.status, code: err.code, message: err.message };
    if (err instanceof ValidationError || err instanceof ConflictError) {
      if (Object.keys(err.fields).length) body.fields = err.fields;
    }
    if (err instanceof TooManyRequestsError) body.retryAfter = err.retryAfterSeconds;
    return body;
  }
  return fromHttpError((err ?? {}) as HttpLikeError);
}

export function sendScimError(res: Response, body: ErrorBody, scimType?: string): void {
  res.status(body.status).type('application/scim+json').json({
    schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'],
    status: String(body.status),
    ...(scimType ? { scimType } : {}),
    detail: body.message,
  });
}

export function errorHandler(opts: { isDevelopment: boolean }): ErrorRequestHandler {
  return (err, req, res, _next) => {
    let body = describeError(err);
    if (!body) {
      req.log?.error({ err }, 'unhandled error');
      body = { status: 500, code: 'internal_error', message: 'Something went wrong on our side. Please try again.' };
    }
    if (res.headersSent) return;
    if (body.retryAfter) res.set('Retry-After', String(body.retryAfter));
    if (req.path.startsWith('/scim/')) {
      // RFC 7644 3.12: an unparseable body is invalidSyntax (the JSON parser runs before the SCIM router).
      return sendScimError(res, body, (err as { scimType?: string })?.scimType ?? (body.code === 'malformed_json' ? 'invalidSyntax' : undefined));
    }
    if (wantsJson(req)) {
      res.status(body.status).json({ error: { code: body.code, message: body.message, ...(body.fields ? { fields: body.fields } : {}) } });
      return;
    }
    res.status(body.status).render('error', {
      title: body.status === 404 ? 'Not found' : body.status >= 500 ? 'Something went wrong' : 'Request refused',
      status: body.status,
      message: body.message,
      detail: opts.isDevelopment && body.status >= 500 && err instanceof Error ? err.stack : undefined,
    });
  };
}
