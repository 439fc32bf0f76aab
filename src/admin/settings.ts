/**
 * The admin area's settings pages, one file per feature (dashboard, sites, licenses, API tokens, connected apps,
 * delegated admin groups, audit trail, community pages), registered together in this order.
 */
import { Router } from 'express';
import { adminDashboardRouter } from '../dashboard/routes';
import { adminSitesRouter } from '../sites/routes';
import { adminLicensesRouter } from '../qualification/routes';
import { adminApiTokensRouter } from '../api/routes';
import { adminGroupsRouter } from '../roles/routes';
import { adminAuditRouter } from '../audit/routes';
import { adminIdentityProvidersRouter } from '../federation/routes';
import { adminAppsRouter } from '../oidc/routes';
import { adminTermsRouter } from '../registration/routes';
import { adminCommunityRouter } from '../community/routes';

export function adminSettingsRouter(): Router {
  const router = Router();
  for (const feature of [
    adminDashboardRouter,
    adminSitesRouter,
    adminLicensesRouter,
    adminApiTokensRouter,
    adminAppsRouter,
    adminGroupsRouter,
    adminAuditRouter,
    adminIdentityProvidersRouter,
    adminTermsRouter,
    adminCommunityRouter,
  ])
    router.use(feature());
  return router;
}
