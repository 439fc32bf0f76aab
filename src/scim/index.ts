/**
 * SCIM 2.0 (RFC 7643/7644) under /scim/v2, with the same bearer tokens as the REST API. Answers are
 * application/scim+json; errors use SCIM's error schema with a scimType where one fits (invalidValue,
 * uniqueness, invalidFilter, invalidPath, mutability, invalidSyntax, noTarget). Resource locations
 * are built from PUBLIC_URL, never from the Host header. Files by role: filter.ts (filters to a
 * query), patch.ts (PATCH onto the resource), resource.ts (user <-> resource), users.ts (routes),
 * schemas.ts (discovery documents).
 */
import express, { Router, type Request, type Response } from 'express';
import type { AppDeps } from '../http/deps';
import { NotFoundError, NotSupportedError } from '../shared/errors';
import { requireBearer } from '../api';
import { assertShallow } from './scim-error';
import { schemaDefinitions, serviceProviderConfig, userResourceType, SCIM } from './schemas';
import { scimUserRoutes } from './users';

function send(res: Response, body: unknown) {
  res.status(200).type('application/scim+json').send(JSON.stringify(body));
}

const listOf = (resources: unknown[], startIndex = 1) => ({
  schemas: [SCIM.list],
  totalResults: resources.length,
  startIndex,
  itemsPerPage: resources.length,
  Resources: resources,
});

const GROUPS_OFF =
  'Groups are not kept here: turn group provisioning off (Entra ID: Provisioning > Mappings > Provision Microsoft Entra ID Groups: No; Okta: Push Groups off).';

export function scimRouter(deps: AppDeps): Router {
  const router = Router();
  const publicUrl = deps.config.publicUrl.replace(/\/+$/, '');
  const base = (req: Request) => `${publicUrl}${req.baseUrl}`;
  const getOnly = (req: Request, res: Response, next: () => void) => {
    if (req.method === 'GET' || req.method === 'HEAD') return next(); // an unknown schema: 404 below
    res.set('Allow', 'GET');
    throw new NotSupportedError('This address answers GET only.', 405);
  };

  router.use(requireBearer('scim'));
  // A body without a Content-Type is read as JSON (some clients send none); then no body nests deeply.
  router.use(express.json({ limit: '1mb', type: (req) => !req.headers['content-type'] }));
  router.use((req, _res, next) => {
    assertShallow(req.body);
    next();
  });

  router.get('/ServiceProviderConfig', (req, res) => send(res, serviceProviderConfig(base(req))));
  router.get('/ResourceTypes', (req, res) => send(res, listOf([userResourceType(base(req))])));
  router.get('/ResourceTypes/User', (req, res) => send(res, userResourceType(base(req))));
  router.get('/Schemas', (req, res) => send(res, listOf(schemaDefinitions(base(req)))));
  router.get('/Schemas/:id', (req, res, next) => {
    const found = schemaDefinitions(base(req)).find((s) => s.id.toLowerCase() === String(req.params.id).toLowerCase());
    if (!found) return next();
    send(res, found);
  });
  router.all(['/ServiceProviderConfig', '/ResourceTypes', '/ResourceTypes/:id', '/Schemas', '/Schemas/:id'], getOnly);

  // Groups: an empty list, so connection tests pass; changes are refused with what to turn off.
  router.get('/Groups', (req, res) =>
    send(res, { ...listOf([]), startIndex: Math.max(1, Number(req.query.startIndex) || 1) }),
  );
  router.get('/Groups/:id', () => {
    throw new NotFoundError(`No group has this id. ${GROUPS_OFF}`);
  });
  router.all(['/Groups', '/Groups/:id'], () => {
    throw new NotSupportedError(GROUPS_OFF, 501);
  });

  scimUserRoutes(router, base);
  return router;
}
