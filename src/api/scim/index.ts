/**
 * SCIM 2.0 (RFC 7643/7644) under /scim/v2, with the same bearer tokens as the REST API. Answers are
 * application/scim+json; errors use SCIM's error schema with a scimType where one fits (invalidValue,
 * uniqueness, invalidFilter, mutability, invalidSyntax).
 */
import { Router, type Response } from 'express';
import type { AppDeps } from '../../web/deps';
import { requireBearer } from '../bearer';
import { schemaDefinitions, serviceProviderConfig, userResourceType, SCIM } from './schemas';
import { scimUserRoutes } from './users';

function send(res: Response, body: unknown) {
  res.status(200).type('application/scim+json').send(JSON.stringify(body));
}

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
  return router;
}
