/**
 * The admin area's settings pages, one file per feature (dashboard, sites, licenses, API tokens,
 * delegated admin groups, audit trail), registered together in this order.
 */
import { Router } from 'express';
import { adminDashboardRouter } from '../dashboard/admin-page';
import { adminSitesRouter } from '../sites/admin-pages';
import { adminLicensesRouter } from '../qualification/licenses-page';
import { adminApiTokensRouter } from '../api/tokens-page';
import { adminGroupsRouter } from '../roles/groups-pages';
import { adminAuditRouter } from '../audit/admin-page';

export function adminSettingsRouter(): Router {
  const router = Router();
  for (const feature of [adminDashboardRouter, adminSitesRouter, adminLicensesRouter, adminApiTokensRouter, adminGroupsRouter, adminAuditRouter]) router.use(feature());
  return router;
}
