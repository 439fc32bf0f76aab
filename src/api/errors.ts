/**
 * The API's error writer, placed before the app's: the same kinds and messages as everywhere, with two
 * API rules on top. Invalid fields are 400 (the domain calls them 422, as the HTML forms show them), and
 * a 403 names the missing permission in `error.permission`. Anything it does not recognise (a 500) goes
 * on to the app's handler, which logs it.
 */
import type { ErrorRequestHandler } from 'express';
import { describeError } from '../web/error-handler';
import { ForbiddenError, ValidationError } from '../domain/errors';

export const apiErrors: ErrorRequestHandler = (err, _req, res, next) => {
  const body = describeError(err);
  if (!body || res.headersSent) return next(err);
  const status = err instanceof ValidationError ? 400 : body.status;
  if (body.retryAfter) res.set('Retry-After', String(body.retryAfter));
  const permission = err instanceof ForbiddenError && err.permission ? { permission: err.permission } : {};
  res.status(status).json({ error: { code: body.code, message: body.message, ...(body.fields ? { fields: body.fields } : {}), ...permission } });
};
