/**
 * CSRF: a signed double-submit token (csrf-csrf). The token sits in an httpOnly, SameSite=Strict cookie
 * and in a hidden `_csrf` field (or the X-CSRF-Token header); a state-changing request must send both,
 * equal, with a valid HMAC under the session secret. The HMAC covers the session id once someone is
 * signed in, so a token from before sign-in (or from another session) is refused afterwards.
 *
 * Why not a token in the session: that made every anonymous view of a form store a session document
 * (3,000 views, 3,000 documents). Here an anonymous visitor costs no storage at all.
 *
 * The API and SCIM use bearer tokens, never cookies, and are exempt.
 */
import type { Application, NextFunction, Request, RequestHandler, Response, Router } from 'express';
import { doubleCsrf } from 'csrf-csrf';
import type { Config } from '../config';
import { CsrfError } from '../shared/errors';
import { showsFormAgain } from './error-writer';

/**
 * Declared where routes are registered: a router wrapped by csrfProtected puts the check first on every
 * POST, PUT, PATCH and DELETE route it registers, so a route knows at registration whether it shows its
 * form again (formRoute) and nothing has to look the route up in Express's router at request time. The
 * route table test (test/http/permissions/route-table.test.ts) fails for a state-changing route without it.
 */
const STATE_CHANGING = ['post', 'put', 'patch', 'delete'] as const;
const CSRF_CHECK = Symbol('csrfCheck');
/** The app setting that holds the verifier (set by installCsrf): routers are built without the config. */
const VERIFIER = 'csrf verifier';

type Verifier = (req: Request, res: Response, next: (err?: unknown) => void) => void;

function csrfCheck(showsForm: boolean): RequestHandler {
  const check: RequestHandler = (req, res, next) => {
    const verify = req.app.get(VERIFIER) as Verifier | undefined;
    // Fails closed: an app that mounted these routes without installCsrf changes nothing.
    if (!verify) return next(new CsrfError());
    verify(req, res, (err?: unknown) => {
      if (!err) return next();
      const refusal = new CsrfError();
      // A form route refuses it itself, before its handler runs, showing the form again with what was
      // typed (formRoute in http/error-writer.ts); any other route never runs.
      if (showsForm && req.method === 'POST') {
        res.locals.csrfRefusal = refusal;
        return next();
      }
      next(refusal);
    });
  };
  return Object.assign(check, { [CSRF_CHECK]: true });
}

/** True for the check csrfProtected puts first on a state-changing route (for the route table test). */
export function isCsrfCheck(handle: unknown): boolean {
  return typeof handle === 'function' && (handle as unknown as Record<symbol, unknown>)[CSRF_CHECK] === true;
}

/** The router, with every state-changing route registered on it checked for a CSRF token first. */
export function csrfProtected<R extends Router>(router: R): R {
  for (const method of STATE_CHANGING) {
    const register = router[method].bind(router) as (path: unknown, ...handlers: unknown[]) => R;
    const protectedRegister = (path: unknown, ...handlers: unknown[]) =>
      register(path, csrfCheck(handlers.flat().some(showsFormAgain)), ...handlers);
    Object.assign(router, { [method]: protectedRegister });
  }
  return router;
}

const exempt = (req: Request) => req.path.startsWith('/api/') || req.path.startsWith('/scim/');

/** The session id binds the token only for a signed-in session (an anonymous one is never stored). */
const sessionIdentifier = (req: Request) => (req.session?.site || req.session?.admin ? req.sessionID : '');

export function csrfMiddleware(config: Config): { install(app: Application): void; locals: RequestHandler } {
  const { doubleCsrfProtection, generateCsrfToken } = doubleCsrf({
    getSecret: () => config.sessionSecret,
    getSessionIdentifier: sessionIdentifier,
    // __Host- pins the cookie to this host and path /; browsers accept the prefix only with Secure.
    cookieName: config.isProduction ? '__Host-portal.csrf' : 'portal.csrf',
    cookieOptions: { sameSite: 'strict', secure: config.isProduction, httpOnly: true, path: '/' },
    getCsrfTokenFromRequest: (req: Request) => {
      const fromBody = (req.body as Record<string, unknown> | undefined)?._csrf;
      if (typeof fromBody === 'string') return fromBody;
      const header = req.headers['x-csrf-token'];
      return typeof header === 'string' ? header : undefined;
    },
    skipCsrfProtection: exempt,
  });

  const verify: Verifier = (req, res, next) => doubleCsrfProtection(req, res, next as NextFunction);

  /** Puts the token in res.locals for forms: <input type="hidden" name="_csrf" value="<%= csrfToken %>">. */
  const locals: RequestHandler = (req, res, next) => {
    if (!exempt(req)) res.locals.csrfToken = generateCsrfToken(req, res);
    next();
  };
  return { install: (app) => app.set(VERIFIER, verify), locals };
}
