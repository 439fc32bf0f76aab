/**
 * The sites: each under /s/<slug>/ with register, login, logout, home and account pages; /, /register
 * and /login lead to the default site. Handlers read the declared fields, call one domain service and
 * render; a refused form is rendered again with its messages and the status of the error.
 */
import { Router, type Request, type Response, type NextFunction } from 'express';
import type { AppDeps } from '../deps';
import { DEFAULT_SITE_SLUG } from '../../data/seed';
import { assertSelfRegistrationOpen, findSiteBySlug, registerContactlessUser } from '../../domain/registration';
import { changeOwnPassword, updateOwnProfile } from '../../domain/account';
import { recordLogin } from '../../domain/authentication';
import { localeFromAcceptLanguage } from '../../domain/locale';
import { isTimeZone } from '../../data/models';
import { EmailUnverifiedError, isDomainError, TooManyRequestsError, ValidationError, type DomainError } from '../../domain/errors';
import { assertMaySignIn } from '../../domain/verification';
import { authenticateLogin } from '../../auth/login';
import { safeReturnTo, signIn, signOut } from '../../auth/areas';
import { keepTyped, readStrings } from '../forms';
import { sitePaths } from './paths';
import type { SiteDoc } from '../../data/models';
import { siteLifecycleRoutes } from './lifecycle';
import { holdForSecondFactor } from '../two-factor';

const REGISTER_FIELDS = ['firstName', 'lastName', 'email'] as const;
const ACCOUNT_FIELDS = ['firstName', 'lastName', 'communityNickname', 'localeSidKey', 'languageLocaleKey', 'timeZoneSidKey'] as const;

declare global {
  namespace Express {
    interface Locals {
      site?: SiteDoc;
    }
  }
}

/** Renders `view` again after a refused form, or passes errors that are not about the form on. */
function renderRefusal(res: Response, next: NextFunction, err: unknown, view: string, locals: Record<string, unknown>): void {
  if (!isDomainError(err) || err.status >= 500) return next(err);
  const e = err as DomainError & { fields?: Record<string, string>; retryAfterSeconds?: number };
  if (e instanceof TooManyRequestsError) res.set('Retry-After', String(e.retryAfterSeconds));
  if (e.status === 404 || e.status === 403) return next(err);
  res.status(e.status).render(view, { ...locals, error: e.message, fieldErrors: (e as { fields?: Record<string, string> }).fields ?? {} });
}

export function siteRouter(deps: AppDeps): Router {
  const router = Router();
  const home = sitePaths(DEFAULT_SITE_SLUG);
  router.get('/', (_req, res) => res.redirect(home.home));
  router.get('/register', (_req, res) => res.redirect(home.register));
  router.get('/login', (_req, res) => res.redirect(home.login));

  const site = Router({ mergeParams: true });
  router.use('/s/:slug', site);

  site.use(async (req: Request<{ slug: string }>, res, next) => {
    const found = await findSiteBySlug(String(req.params.slug));
    res.locals.site = found;
    res.locals.paths = sitePaths(found.slug);
    res.locals.fieldErrors = {};
    res.locals.error = null;
    next();
  });

  const requireSignIn = (req: Request, res: Response, next: NextFunction) => {
    if (req.siteUser) return next();
    res.redirect(`${res.locals.paths.login}?returnTo=${encodeURIComponent(req.originalUrl)}`);
  };

  siteLifecycleRoutes(site, deps, requireSignIn);

  site.get('/', (_req, res) => res.render('site/home', { title: res.locals.site!.name }));

  site.get('/register', (_req, res) => {
    assertSelfRegistrationOpen(res.locals.site!);
    res.render('site/register', { title: 'Register', values: keepTyped({}, REGISTER_FIELDS) });
  });

  site.post('/register', async (req, res, next) => {
    const s = res.locals.site!;
    assertSelfRegistrationOpen(s);
    const locals = { title: 'Register', values: keepTyped(req.body, REGISTER_FIELDS) };
    try {
      const f = readStrings(req.body, [], ['firstName', 'lastName', 'email', 'password', 'passwordConfirm', 'timeZone']);
      if (f.passwordConfirm !== undefined && f.passwordConfirm !== f.password) {
        return renderRefusal(res, next, new ValidationError('Some fields need attention.', { passwordConfirm: 'The two passwords differ. Type the same password twice.' }), 'site/register', locals);
      }
      const locale = localeFromAcceptLanguage(req.get('accept-language'));
      const user = await registerContactlessUser(
        s,
        {
          firstName: f.firstName ?? '',
          lastName: f.lastName ?? '',
          email: f.email ?? '',
          password: f.password ?? '',
          localeSidKey: locale,
          languageLocaleKey: locale,
          timeZoneSidKey: f.timeZone && isTimeZone(f.timeZone) ? f.timeZone : 'GMT',
        },
        { ip: req.ip },
      );
      if (s.allowUnverifiedSignIn === false) {
        // This site lets people in once their address is confirmed: the mail is on its way.
        return res.status(201).render('site/check-email', { title: 'Check your mail', email: user.email });
      }
      await signIn(req, 'site', user);
      await recordLogin(user, 'site', req.ip, req.get('user-agent'));
      res.redirect(303, sitePaths(s.slug).home);
    } catch (err) {
      renderRefusal(res, next, err, 'site/register', locals);
    }
  });

  site.get('/login', (req, res) => {
    res.render('site/login', { title: 'Log in', values: { username: '' }, returnTo: safeReturnTo(req.query.returnTo, '') });
  });

  site.post('/login', async (req, res, next) => {
    const returnTo = safeReturnTo((req.body as Record<string, unknown>)?.returnTo, '');
    const locals = { title: 'Log in', values: keepTyped(req.body, ['username']), returnTo };
    try {
      let held = false;
      await authenticateLogin('site', deps.siteThrottle, req, res, next, async (user) => {
        assertMaySignIn(user, res.locals.site!);
        held = await holdForSecondFactor(req, 'site', user, returnTo);
        return held ? 'held' : 'sign-in';
      });
      res.redirect(303, held ? res.locals.paths.loginCode : returnTo || res.locals.paths.home);
    } catch (err) {
      if (err instanceof EmailUnverifiedError) {
        return res.status(err.status).render('site/login', { ...locals, error: err.message, fieldErrors: {}, unverified: locals.values.username });
      }
      renderRefusal(res, next, err, 'site/login', locals);
    }
  });

  site.post('/logout', async (req, res) => {
    await signOut(req, res, 'site');
    res.redirect(303, res.locals.paths.home);
  });

  site.get('/account', requireSignIn, (req, res) => {
    res.render('site/account', { title: 'Your account', values: keepTyped(req.siteUser, ACCOUNT_FIELDS), saved: req.query.saved ?? null });
  });

  site.post('/account', requireSignIn, async (req, res, next) => {
    const locals = { title: 'Your account', values: keepTyped(req.body, ACCOUNT_FIELDS), saved: null };
    try {
      const f = readStrings(req.body, [], ACCOUNT_FIELDS);
      await updateOwnProfile(req.siteUser!, {
        firstName: f.firstName ?? '',
        lastName: f.lastName ?? '',
        communityNickname: f.communityNickname ?? '',
        localeSidKey: f.localeSidKey ?? '',
        languageLocaleKey: f.languageLocaleKey ?? '',
        timeZoneSidKey: f.timeZoneSidKey ?? '',
      }, req.ip);
      res.redirect(303, `${res.locals.paths.account}?saved=profile`);
    } catch (err) {
      renderRefusal(res, next, err, 'site/account', locals);
    }
  });

  site.post('/account/password', requireSignIn, async (req, res, next) => {
    const locals = { title: 'Your account', values: keepTyped(req.siteUser, ACCOUNT_FIELDS), saved: null };
    try {
      const f = readStrings(req.body, [], ['currentPassword', 'newPassword']);
      const updated = await changeOwnPassword(req.siteUser!._id, f.currentPassword ?? '', f.newPassword ?? '', req.ip);
      // The epoch moved on, which ends every other session; this one signs in again with a fresh id.
      await signIn(req, 'site', updated);
      res.redirect(303, `${res.locals.paths.account}?saved=password`);
    } catch (err) {
      renderRefusal(res, next, err, 'site/account', locals);
    }
  });

  return router;
}
