/**
 * The REST API under /api (v1). Order: bearer token first (401 before anything else), then the routes,
 * then the app's one error writer (src/http/error-writer.ts) answers errors in JSON. The routes are registered on
 * this one router with their full paths (src/api/v1/paths.ts), so the OpenAPI test can list them.
 */
import { Router } from 'express';
import type { AppDeps } from '../http/deps';
import { requireBearer } from './bearer';
import { openApiDocument } from './openapi';
import { V1 } from './v1/paths';
import { userRoutes } from './v1/users';
import { qualificationRoutes } from './v1/qualification';
import { catalogRoutes } from './v1/catalog';
import { jobRoutes } from './v1/jobs';
import { roleRoutes } from './v1/roles';
import { apiPrivacyRoutes } from '../privacy/routes';
import { appRoutes } from './v1/apps';
import { communityRoutes } from './v1/community';
import { bulkActionRoutes } from './v1/bulk-actions';

export function apiRouter(deps: AppDeps): Router {
  const router = Router();
  router.use(requireBearer('api'));
  const document = openApiDocument();
  router.get(V1.openapi, (_req, res) => {
    res.json(document);
  });
  userRoutes(router);
  qualificationRoutes(router);
  catalogRoutes(router);
  roleRoutes(router);
  appRoutes(router);
  communityRoutes(router);
  jobRoutes(router, deps);
  bulkActionRoutes(router);
  apiPrivacyRoutes(router, deps, V1);
  return router;
}

// What other features use from here (their only way in).
export { API_SCOPES, createApiToken, findActiveApiToken, listApiTokens, revokeApiToken } from './api-tokens';
export { apiContext, requireBearer } from './bearer';
export { parseInput } from './validate';
