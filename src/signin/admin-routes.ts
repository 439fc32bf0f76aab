/** Admin sign-in, sign-out, first-administrator setup, and the end of a Login As session. */
import { Router, type Request } from 'express';
import type { AppDeps } from '../http/deps';
import { authenticateLogin } from './login-middleware';
import { safeReturnTo, signIn, signOut } from './session-middleware';
import { completeSetup, setupTokenIsValid } from '../users';
import { endLoginAs, loadActor } from '../access';
import { recordLogin } from './authentication';
import { NotFoundError } from '../shared/errors';
import { formRoute } from '../http/error-writer';
import { ADMIN, field, typedField } from '../admin/routes';
import { holdForSecondFactor } from './two-factor-pages';
import { deviceSettings } from './remembered-devices';
import { MSG } from '../shared/messages';
import { csrfProtected } from '../http/csrf';

export function adminAuthRouter(deps: AppDeps): Router {
  const router = csrfProtected(Router());
  const render = (res: import('express').Response, view: string, locals: Record<string, unknown>) =>
    res.render(view, { A: ADMIN, error: null, fieldErrors: {}, ...locals });

  router.get(ADMIN.login, (req, res) => {
    render(res, 'admin/login', {
      title: 'Admin log in',
      values: { username: '' },
      returnTo: safeReturnTo(req.query.returnTo, ''),
    });
  });

  const loginForm = (req: Request) => ({
    view: 'admin/login',
    locals: {
      A: ADMIN,
      title: 'Admin log in',
      values: { username: typedField(req, 'username').slice(0, 200) },
      returnTo: safeReturnTo(typedField(req, 'returnTo'), ''),
    },
  });
  const devices = deviceSettings(deps.config);
  router.post(
    ADMIN.login,
    formRoute(loginForm, async (req, res, next) => {
      const { returnTo } = loginForm(req).locals;
      const dest = returnTo.startsWith('/admin') ? returnTo : ADMIN.dashboard;
      let held = false;
      await authenticateLogin('admin', deps.loginThrottle, req, res, next, async (user) => {
        held = await holdForSecondFactor(req, 'admin', user, dest, undefined, devices);
        return held ? 'held' : 'sign-in';
      });
      res.redirect(303, held ? ADMIN.loginCode : dest);
    }),
  );

  router.post(ADMIN.logout, async (req, res) => {
    // Signing out of the admin area also ends a Login As session it opened in this browser.
    const impersonated = req.session.site?.impersonator ? req.session.site.userId : null;
    if (impersonated) {
      await endLoginAs(impersonated, {
        actor: req.adminUser ? await loadActor(req.adminUser._id) : null,
        ip: req.ip,
        via: 'admin',
      });
      delete req.session.site;
    }
    await signOut(req, res, 'admin');
    res.redirect(303, ADMIN.login);
  });

  router.get(ADMIN.setup, async (req, res) => {
    const token = typeof req.query.token === 'string' ? req.query.token : '';
    if (!(await setupTokenIsValid(token))) throw new NotFoundError(MSG.setupLinkInvalid);
    render(res, 'admin/setup', { title: 'Create the first administrator', token, values: {} });
  });

  const setupForm = (req: Request) => ({
    view: 'admin/setup',
    locals: {
      A: ADMIN,
      title: 'Create the first administrator',
      token: typedField(req, 'token'),
      values: {
        username: typedField(req, 'username').slice(0, 200),
        firstName: typedField(req, 'firstName').slice(0, 40),
        lastName: typedField(req, 'lastName').slice(0, 80),
      },
    },
  });
  router.post(
    ADMIN.setup,
    formRoute(setupForm, async (req, res) => {
      // Read strictly here (a repeated field is a 422); setupForm's lenient reads only refill a refused form.
      const values = {
        username: field(req, 'username').slice(0, 200),
        firstName: field(req, 'firstName').slice(0, 40),
        lastName: field(req, 'lastName').slice(0, 80),
      };
      const admin = await completeSetup(field(req, 'token'), { ...values, password: field(req, 'password') });
      await signIn(req, 'admin', admin);
      await recordLogin(admin, 'admin', req.ip, req.get('user-agent'));
      res.redirect(303, ADMIN.dashboard);
    }),
  );

  /** The banner's "Return to the admin area": ends the site session that Login As opened. */
  router.post(ADMIN.loginAsEnd, async (req, res) => {
    const impersonated = req.session.site?.impersonator ? req.session.site.userId : null;
    if (impersonated) {
      const actor = req.adminUser ? await loadActor(req.adminUser._id) : null;
      await endLoginAs(impersonated, { actor, ip: req.ip, via: 'admin' });
      await signOut(req, res, 'site');
    }
    res.redirect(303, impersonated ? ADMIN.user(impersonated) : ADMIN.dashboard);
  });

  return router;
}
