/**
 * Bearer tokens for the API and SCIM: `Authorization: Bearer ipt_...`. A valid token acts as the admin
 * who created it, with that admin's permissions as they are now (src/api/api-tokens.ts).
 * Anything else is a 401 with WWW-Authenticate (RFC 6750), before any route runs.
 */
import type { NextFunction, Request, Response } from 'express';
import { actorForToken, scopeOfRequest } from './api-tokens';
import type { Actor, Channel, RequestContext } from '../access';
import { AuthenticationError, ForbiddenError } from '../shared/errors';

export type ApiContext = RequestContext & { actor: Actor };

export function requireBearer(via: Extract<Channel, 'api' | 'scim'>) {
  return async (req: Request, res: Response, next: NextFunction): Promise<void> => {
    const header = req.get('authorization');
    const m = header ? /^Bearer +([A-Za-z0-9._~+/-]+=*)$/i.exec(header.trim()) : null;
    const found = m ? await actorForToken(m[1]) : null;
    if (!found) {
      res.set('WWW-Authenticate', `Bearer realm="identity-portal"${header ? ', error="invalid_token"' : ''}`);
      return next(
        new AuthenticationError(
          header
            ? 'This API token is unknown, revoked, or its administrator is inactive.'
            : 'Send an API token: Authorization: Bearer <token>.',
        ),
      );
    }
    res.locals.apiContext = { actor: found.actor, ip: req.ip ?? null, via } satisfies ApiContext;
    // Every route needs its scope; the OpenAPI document describes the API and is open to any token.
    const scope = scopeOfRequest(via, req.method, req.path);
    if (!(via === 'api' && req.path === '/v1/openapi.json') && !found.scopes.includes(scope)) {
      return next(
        new ForbiddenError(
          `This API token lacks the scope ${scope}. Create a token with it on the API tokens page.`,
          scope,
        ),
      );
    }
    next();
  };
}

/** The context of the token's admin, set by requireBearer. */
export function apiContext(res: Response): ApiContext {
  return res.locals.apiContext as ApiContext;
}
