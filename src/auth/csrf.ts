/**
 * CSRF: a synchronizer token kept in the session and sent back in a hidden `_csrf` field (or the
 * X-CSRF-Token header) on every state-changing request. The API and SCIM use bearer tokens, never
 * cookies, and are exempt.
 */
import type { Request, RequestHandler } from 'express';
import { csrfSync } from 'csrf-sync';

const { csrfSynchronisedProtection, generateToken } = csrfSync({
  getTokenFromRequest: (req: Request) => {
    const fromBody = (req.body as Record<string, unknown> | undefined)?._csrf;
    if (typeof fromBody === 'string') return fromBody;
    const header = req.headers['x-csrf-token'];
    return typeof header === 'string' ? header : undefined;
  },
  errorConfig: { statusCode: 403, message: 'Invalid CSRF token', code: 'EBADCSRFTOKEN' },
});

const exempt = (req: Request) => req.path.startsWith('/api/') || req.path.startsWith('/scim/');

export const csrfProtection: RequestHandler = (req, res, next) => (exempt(req) ? next() : csrfSynchronisedProtection(req, res, next));

/** Puts the token in res.locals for forms: <input type="hidden" name="_csrf" value="<%= csrfToken %>">. */
export const csrfLocals: RequestHandler = (req, res, next) => {
  if (!exempt(req) && req.session) res.locals.csrfToken = generateToken(req);
  next();
};
