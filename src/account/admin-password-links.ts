/** Forgot password, reset and invitation links for staff, in the admin area (open without sign-in). */
import { Router, type RequestHandler } from 'express';
import type { AppDeps } from '../http/deps';
import { createRequestThrottle } from '../signin';
import {
  forgotPage,
  forgotSubmit,
  setPasswordPage,
  setPasswordSubmit,
  type PasswordLinkPages,
} from './password-link-pages';
import { ADMIN } from '../admin/routes';
import {
  codePage,
  codeSubmit,
  disableSubmit,
  enableSubmit,
  managePage,
  requireEnrolment,
  setupSubmit,
  type TwoFactorPages,
} from '../signin/routes';
import { csrfProtected } from '../http/csrf';
import { deviceSettings } from '../signin';
import { finishSubmit, regenerateSubmit } from '../signin/routes';

/** The admin area's two-factor pages: the second sign-in step and the admin's own settings. */
function adminTwoFactorPages(deps: AppDeps): TwoFactorPages {
  return {
    area: 'admin',
    views: { code: 'admin/login-code', manage: 'admin/two-factor' },
    managePath: () => ADMIN.twoFactor,
    loginPath: () => ADMIN.login,
    home: () => ADMIN.dashboard,
    throttle: deps.loginThrottle,
    recheck: deps.recheckThrottle,
    codeThrottle: deps.secondFactorThrottle,
    devices: deviceSettings(deps.config),
  };
}

/** The admin area's paths as `A`, for the pages here that are served before requireAdmin sets them. */
const withAdminPaths: RequestHandler = (_req, res, next) => {
  res.locals.A = ADMIN;
  next();
};

/** The admin's own two-factor page (signed in), and the rule of ADMIN_MFA_REQUIRED; mounted after requireAdmin. */
export function adminTwoFactorRouter(deps: AppDeps): Router {
  const router = csrfProtected(Router());
  const twoFactor = adminTwoFactorPages(deps);
  router.use(
    '/admin',
    requireEnrolment(
      'admin',
      () => deps.config.adminMfaRequired,
      twoFactor,
      (path) => path === ADMIN.loginAsEnd,
    ),
  );
  router.get(ADMIN.twoFactor, managePage(twoFactor));
  router.post(`${ADMIN.twoFactor}/setup`, setupSubmit(twoFactor));
  router.post(`${ADMIN.twoFactor}/enable`, enableSubmit(twoFactor));
  router.post(`${ADMIN.twoFactor}/disable`, disableSubmit(twoFactor));
  router.post(`${ADMIN.twoFactor}/finish`, finishSubmit(twoFactor));
  router.post(`${ADMIN.twoFactor}/recovery-codes`, regenerateSubmit(twoFactor));
  return router;
}

export function adminPasswordLinksRouter(deps: AppDeps): Router {
  const router = csrfProtected(Router());
  const pages: PasswordLinkPages = {
    area: 'admin',
    linkArea: () => ({ area: 'admin' }),
    views: { forgot: 'admin/forgot', setPassword: 'admin/set-password' },
    home: () => ADMIN.dashboard,
    codePath: () => ADMIN.loginCode,
    throttle: createRequestThrottle(deps.db.connection, deps.config.recoveryThrottle, 'recovery'),
    logger: deps.logger,
  };
  const twoFactor = adminTwoFactorPages(deps);
  router.get(ADMIN.loginCode, withAdminPaths, codePage(twoFactor));
  router.post(ADMIN.loginCode, withAdminPaths, codeSubmit(twoFactor));
  router.use([ADMIN.forgot, ADMIN.reset, ADMIN.welcome], withAdminPaths);
  router.get(ADMIN.forgot, forgotPage(pages));
  router.post(ADMIN.forgot, forgotSubmit(pages));
  router.get(ADMIN.reset, setPasswordPage(pages, 'reset'));
  router.post(ADMIN.reset, setPasswordSubmit(pages, 'reset'));
  router.get(ADMIN.welcome, setPasswordPage(pages, 'invite'));
  router.post(ADMIN.welcome, setPasswordSubmit(pages, 'invite'));
  return router;
}
