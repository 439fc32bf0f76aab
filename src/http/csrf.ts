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
import type { Request, RequestHandler } from 'express';
import { doubleCsrf } from 'csrf-csrf';
import type { Config } from '../config';
import { CsrfError } from '../shared/errors';
import { showsFormAgain } from './error-writer';

interface RouterLayer {
  match(path: string): false | { path: string };
  route?: { _handlesMethod(method: string): boolean; stack: { handle: unknown }[] };
  handle?: { stack?: RouterLayer[] };
}

/**
 * The last handler of the route Express will dispatch this request to, found with Express's own matching
 * (middleware is assumed to pass; routers are entered as Express enters them), or undefined.
 */
function routeHandlerFor(req: Request): unknown {
  const find = (stack: RouterLayer[], path: string): unknown => {
    for (const layer of stack) {
      let m: false | { path: string };
      try {
        m = layer.match(path);
      } catch {
        return undefined;
      }
      if (!m) continue;
      if (layer.route) {
        if (layer.route._handlesMethod(req.method)) return layer.route.stack[layer.route.stack.length - 1]?.handle;
      } else if (layer.handle?.stack) {
        const rest = path.slice(m.path.length);
        const found = find(layer.handle.stack, rest.startsWith('/') ? rest : `/${rest}`);
        if (found) return found;
      }
    }
    return undefined;
  };
  const router = (req.app as unknown as { router?: { stack: RouterLayer[] } }).router;
  return router ? find(router.stack, req.path) : undefined;
}

const exempt = (req: Request) => req.path.startsWith('/api/') || req.path.startsWith('/scim/');

/** The session id binds the token only for a signed-in session (an anonymous one is never stored). */
const sessionIdentifier = (req: Request) => (req.session?.site || req.session?.admin ? req.sessionID : '');

export function csrfMiddleware(config: Config): { protect: RequestHandler; locals: RequestHandler } {
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

  const protect: RequestHandler = (req, res, next) => {
    doubleCsrfProtection(req, res, (err?: unknown) => {
      if (!err) return next();
      const refusal = new CsrfError();
      // A form route (formRoute) refuses it itself, before its handler runs, showing the form again with
      // what was typed; any other route never runs.
      if (req.method === 'POST' && showsFormAgain(routeHandlerFor(req))) {
        res.locals.csrfRefusal = refusal;
        return next();
      }
      next(refusal);
    });
  };

  /** Puts the token in res.locals for forms: <input type="hidden" name="_csrf" value="<%= csrfToken %>">. */
  const locals: RequestHandler = (req, res, next) => {
    if (!exempt(req)) res.locals.csrfToken = generateCsrfToken(req, res);
    next();
  };
  return { protect, locals };
}
