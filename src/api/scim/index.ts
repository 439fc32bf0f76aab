/**
 * SCIM 2.0 (RFC 7643/7644) under /scim/v2, with the same bearer tokens as the REST API. Answers are
 * application/scim+json; errors use SCIM's error schema with a scimType where one fits (invalidValue,
 * uniqueness, invalidFilter, mutability, invalidSyntax).
 */
import { Router, type ErrorRequestHandler, type Response } from 'express';
import type { AppDeps } from '../../web/deps';
import { describeError, sendScimError } from '../../web/error-handler';
import { ConflictError, ValidationError } from '../../domain/errors';
import { requireBearer } from '../bearer';
import { schemaDefinitions, serviceProviderConfig, userResourceType, SCIM } from './schemas';
import { scimUserRoutes } from './users';

function send(res: Response, body: unknown) {
  res.status(200).type('application/scim+json').send(JSON.stringify(body));
}

const UNIQUENESS = new Set(['username_taken', 'nickname_taken', 'contact_taken']);

/** Which scimType an error gets; the contactless refusal is a 400 invalidValue, as SCIM clients expect. */
export const scimErrors: ErrorRequestHandler = (err, _req, res, next) => {
  const body = describeError(err);
  if (!body || res.headersSent) return next(err);
  let scimType = (err as { scimType?: string }).scimType;
  if (err instanceof ValidationError) {
    body.status = 400;
    scimType ??= 'invalidValue';
    if (body.fields) body.message = `${body.message} ${Object.entries(body.fields).map(([f, m]) => `${f}: ${m}`).join(' ')}`;
  } else if (err instanceof ConflictError && err.code === 'contact_required') {
    body.status = 400;
    scimType = 'invalidValue';
  } else if (err instanceof ConflictError && UNIQUENESS.has(err.code)) {
    scimType = 'uniqueness';
  } else if (body.code === 'malformed_json') {
    scimType = 'invalidSyntax';
  }
  sendScimError(res, body, scimType);
};

export function scimRouter(_deps: AppDeps): Router {
  const router = Router();
  router.use(requireBearer('scim'));
  router.get('/ServiceProviderConfig', (req, res) => send(res, serviceProviderConfig(req.baseUrl)));
  router.get('/ResourceTypes', (req, res) => send(res, { schemas: [SCIM.list], totalResults: 1, startIndex: 1, itemsPerPage: 1, Resources: [userResourceType(req.baseUrl)] }));
  router.get('/ResourceTypes/User', (req, res) => send(res, userResourceType(req.baseUrl)));
  router.get('/Schemas', (req, res) => {
    const all = schemaDefinitions(req.baseUrl);
    send(res, { schemas: [SCIM.list], totalResults: all.length, startIndex: 1, itemsPerPage: all.length, Resources: all });
  });
  router.get('/Schemas/:id', (req, res, next) => {
    const found = schemaDefinitions(req.baseUrl).find((s) => s.id === req.params.id);
    if (!found) return next();
    send(res, found);
  });
  scimUserRoutes(router);
  router.use(scimErrors);
  return router;
}
