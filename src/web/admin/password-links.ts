/** Forgot password, reset and invitation links for staff, in the admin area (open without sign-in). */
import { Router } from 'express';
import type { AppDeps } from '../deps';
import { createRequestThrottle } from '../../auth/recovery-throttle';
import { forgotPage, forgotSubmit, setPasswordPage, setPasswordSubmit, type PasswordLinkPages } from '../password-links';
import { ADMIN } from './common';

export function adminPasswordLinksRouter(deps: AppDeps): Router {
  const router = Router();
  const pages: PasswordLinkPages = {
    area: 'admin',
    linkArea: () => ({ area: 'admin' }),
    views: { forgot: 'admin/forgot', setPassword: 'admin/set-password' },
    home: () => ADMIN.dashboard,
    throttle: createRequestThrottle(deps.db.connection, deps.config.recoveryThrottle, 'recovery'),
    logger: deps.logger,
  };
  router.use([ADMIN.forgot, ADMIN.reset, ADMIN.welcome], (_req, res, next) => {
    res.locals.A = ADMIN;
    next();
  });
  router.get(ADMIN.forgot, forgotPage(pages));
  router.post(ADMIN.forgot, forgotSubmit(pages));
  router.get(ADMIN.reset, setPasswordPage(pages, 'reset'));
  router.post(ADMIN.reset, setPasswordSubmit(pages, 'reset'));
  router.get(ADMIN.welcome, setPasswordPage(pages, 'invite'));
  router.post(ADMIN.welcome, setPasswordSubmit(pages, 'invite'));
  return router;
}
