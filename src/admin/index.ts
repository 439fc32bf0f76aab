/**
 * The admin area under /admin: sign-in and setup are open; every other page needs a signed-in internal
 * user, and each action checks the acting admin's permissions in the domain.
 */
import { Router } from 'express';
import type { AppDeps } from '../http/deps';
import { adminAuthRouter } from '../signin/routes';
import { adminUsersRouter } from '../users/routes';
import { adminQualifyRouter } from '../qualification/routes';
import { adminSettingsRouter } from './settings';
import { adminRolesRouter } from '../roles/routes';
import { adminOutboxRouter } from '../mail/routes';
import { adminPasswordLinksRouter, adminTwoFactorRouter } from '../account/routes';
import { requireAdmin } from './common';
import { csrfProtected } from '../http/csrf';
import { adminPrivacyRoutes } from '../privacy/routes';
import { adminIngestRouter } from '../ingest/routes';

export function adminRouter(deps: AppDeps): Router {
  const router = csrfProtected(Router());
  router.use(adminAuthRouter(deps));
  router.use(adminPasswordLinksRouter(deps));
  router.use('/admin', requireAdmin);
  // The menu leaves out the outbox where it is closed (production without MAIL_OUTBOX_IN_PRODUCTION).
  router.use('/admin', (_req, res, next) => {
    res.locals.outboxOpen = deps.config.mail.outboxOpen;
    next();
  });
  router.use(adminTwoFactorRouter(deps));
  router.use(adminUsersRouter());
  adminPrivacyRoutes(router, deps);
  router.use(adminQualifyRouter());
  router.use(adminIngestRouter(deps));
  router.use(adminSettingsRouter());
  router.use(adminRolesRouter());
  router.use(adminOutboxRouter(Boolean(deps.config.mail.smtpUrl), { open: deps.config.mail.outboxOpen }));
  return router;
}

// What other features use from here (their only way in).
