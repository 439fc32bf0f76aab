/**
 * The sites: each under /s/<slug>/ with register, login, logout, home and account pages; /, /register
 * and /login lead to the default site. Handlers read the declared fields, call one domain service and
 * render; a refused form is rendered again with its messages and the status of the error.
 */
import { Router, type Request, type Response, type NextFunction } from 'express';
import type { AppDeps } from '../http/deps';
import { DEFAULT_SITE_SLUG } from '../data/seed';
import {
  acceptPendingTerms,
  assertRegistrationPageOpen,
  assertSelfRegistrationOpen,
  currentTerms,
  extraFieldsOf,
  findSiteBySlug,
  pendingTerms,
  registerOrTellOwner,
} from '../registration';
import { changeOwnPassword, PROFILE_FIELDS, updateOwnProfile } from './account';
import { localeFromAcceptLanguage } from '../shared/locale';
import { isTimeZone } from '../data/models';
import { NotFoundError } from '../shared/errors';
import { normaliseUsername } from '../users';
import { formRoute } from '../http/error-writer';
import { assertMaySignIn } from './verification';
import { deviceSettings } from '../signin';
import {
  authenticateLogin,
  originOf,
  safeReturnTo,
  signIn,
  signOut,
  holdForSecondFactor,
  takeSignInNotice,
} from '../signin/routes';
import { keepTyped, readStrings, typedPasswords } from '../http/forms';
import { sitePaths } from './site-paths';
import type { SiteRecord } from '../data/models';
import { endProviderSessionOf, oidcAuthorizeRoutes, providerSessionIdOf } from '../oidc/routes';
import { isSiteMember, mayOpenPage } from '../sites';
import { siteLifecycleRoutes } from './lifecycle-routes';
import { passkeyPageLocals, sitePasskeyRoutes } from '../passkeys/routes';
import { federationSiteRoutes } from '../federation/routes';
import { csrfProtected } from '../http/csrf';
import { localiseForSite } from '../http/localise';
import { brandingRoutes, brandLocals } from '../sites/routes';
import { languageChoices, localeChoices, offeredLanguageKey, timeZoneChoices } from '../i18n';
import { powLocals, readProof } from '../bot-check/routes';
import { signInFailures } from '../signin/routes';
import { sitePrivacyRoutes } from '../privacy/routes';
import { communitySiteRoutes } from '../community/routes';

const REGISTER_FIELDS = ['firstName', 'lastName', 'email'] as const;
declare global {
  namespace Express {
    interface Locals {
      site?: SiteRecord;
    }
  }
}

export function siteRouter(deps: AppDeps): Router {
  const router = csrfProtected(Router());
  const home = sitePaths(DEFAULT_SITE_SLUG);
  router.get('/', (_req, res) => res.redirect(home.home));
  router.get('/register', (_req, res) => res.redirect(home.register));
  router.get('/login', (_req, res) => res.redirect(home.login));

  const site = csrfProtected(Router({ mergeParams: true }));
  router.use('/s/:slug', site);

  site.use(async (req: Request<{ slug: string }>, res, next) => {
    const found = await findSiteBySlug(String(req.params.slug));
    res.locals.site = found;
    res.locals.paths = sitePaths(found.slug);
    // Taken by the page that shows it (the header), so a redirect on the way does not lose it.
    res.locals.takeSignInNotice = () => takeSignInNotice(req);
    res.locals.fieldErrors = {};
    res.locals.error = null;
    // Signed in, but not (or no longer) a member of this site: here, they are a visitor.
    if (req.siteUser && !isSiteMember(found, req.siteUser)) {
      req.siteUser = undefined;
      res.locals.siteUser = null;
      res.locals.impersonator = null;
    }
    // Pages with an audience, decided from the user as they are now (an upgrade shows at the next request).
    res.locals.navPages = found.pages.filter((p) => mayOpenPage(p, req.siteUser));
    res.locals.closedPages = req.siteUser ? found.pages.filter((p) => !mayOpenPage(p, req.siteUser)) : [];
    localiseForSite(req, res, found.defaultLanguage);
    brandLocals(found, res);
    if (req.path === '/account' || req.path.startsWith('/account/')) {
      res.locals.localeLists = {
        languages: languageChoices(),
        locales: localeChoices(res.locals.t.language),
        timeZones: timeZoneChoices(),
      };
    }
    next();
  });

  const requireSignIn = (req: Request, res: Response, next: NextFunction) => {
    if (req.siteUser) return next();
    res.redirect(`${res.locals.paths.login}?returnTo=${encodeURIComponent(req.originalUrl)}`);
  };

  brandingRoutes(site);
  site.use(passkeyPageLocals('site'));
  oidcAuthorizeRoutes(site, deps.oidc);

  // New terms in effect: a signed-in person accepts them before anything else of the site is usable
  // (their session goes no further than the acceptance page and signing out). An admin logged in as
  // them is not asked: consent is the person's own.
  site.use(async (req, res, next) => {
    const paths = res.locals.paths;
    if (
      !req.siteUser ||
      req.session.site?.impersonator ||
      req.originalUrl.split('?')[0] === paths.termsAccept ||
      req.originalUrl === paths.logout
    )
      return next();
    if (!(await pendingTerms(res.locals.site!, req.siteUser._id))) return next();
    res.redirect(
      303,
      `${paths.termsAccept}?returnTo=${encodeURIComponent(req.method === 'GET' ? req.originalUrl : paths.home)}`,
    );
  });
  site.get('/terms/accept', requireSignIn, async (req, res) => {
    const pending = await pendingTerms(res.locals.site!, req.siteUser!._id);
    const returnTo = safeReturnTo(req.query.returnTo, res.locals.paths.home);
    if (!pending) return res.redirect(303, returnTo);
    res.render('site/terms-accept', {
      title: res.locals.t('terms.acceptTitle'),
      terms: pending,
      returnTo,
      unticked: req.query.unticked === '1',
    });
  });
  site.post('/terms/accept', requireSignIn, async (req, res) => {
    const f = readStrings(req.body, [], ['termsVersion', 'returnTo', 'accept']);
    const returnTo = safeReturnTo(f.returnTo, res.locals.paths.home);
    const accepted =
      f.accept === 'on' &&
      (await acceptPendingTerms(res.locals.site!, req.siteUser!, f.termsVersion ?? '', originOf(req)));
    // Not ticked, or a newer version took effect meanwhile: the page again, with the version in effect.
    res.redirect(
      303,
      accepted
        ? returnTo
        : `${res.locals.paths.termsAccept}?returnTo=${encodeURIComponent(returnTo)}${f.accept === 'on' ? '' : '&unticked=1'}`,
    );
  });
  /** The terms in effect, for anyone to read (the registration form links here). */
  site.get('/terms', async (_req, res) => {
    const terms = await currentTerms(res.locals.site!._id);
    if (!terms) throw new NotFoundError(res.locals.t('notFound.noPage'));
    res.render('site/terms', { title: res.locals.t('terms.title'), terms });
  });

  siteLifecycleRoutes(site, deps, requireSignIn);
  sitePasskeyRoutes(site, deps, requireSignIn);
  sitePrivacyRoutes(site, deps, requireSignIn);
  federationSiteRoutes(site, deps, requireSignIn);
  communitySiteRoutes(site, deps, requireSignIn);

  site.get('/', (_req, res) => res.render('site/home', { title: res.locals.site!.name }));

  site.get('/register', async (req, res) => {
    // An invitation link is /register?invitation=<token>; the form carries it on.
    const invitation = typeof req.query.invitation === 'string' ? req.query.invitation.slice(0, 100) : '';
    assertRegistrationPageOpen(res.locals.site!, invitation || undefined);
    powLocals(deps.botCheck, res, true);
    res.render('site/register', {
      title: 'Register',
      values: { ...keepTyped({}, REGISTER_FIELDS), invitation },
      ...extraFieldLocals(res),
      terms: await currentTerms(res.locals.site!._id),
    });
  });

  /** The site's extra sign-up fields, in its order, with the lists the locale and time zone offer. */
  const extraFieldLocals = (res: Response) => {
    const extraFields = extraFieldsOf(res.locals.site!);
    const asks = (f: string) => extraFields.some((x) => x.field === f);
    return {
      extraFields,
      extraChoices: {
        localeSidKey: asks('localeSidKey') ? localeChoices(res.locals.t.language) : [],
        timeZoneSidKey: asks('timeZoneSidKey') ? timeZoneChoices() : [],
      },
    };
  };

  const registerForm = (req: Request, res: Response) => {
    // The policy is checked (and a refusal audited) by the registration itself, not here.
    assertSelfRegistrationOpen(res.locals.site!);
    // A refused form gets a fresh no-script ticket (the widget fetches its own new challenge).
    powLocals(deps.botCheck, res, true);
    const values = keepTyped(req.body, [
      ...REGISTER_FIELDS,
      'invitation',
      ...extraFieldsOf(res.locals.site!).map((f) => f.field),
    ]);
    // The terms shown again are the ones in effect now (a box ticked for older ones is not kept).
    return async (r: Response) =>
      r.render('site/register', {
        title: 'Register',
        values,
        passwords: typedPasswords(req.body, ['password', 'passwordConfirm']),
        ...extraFieldLocals(r),
        terms: await currentTerms(r.locals.site!._id),
        error: r.locals.error,
        fieldErrors: r.locals.fieldErrors,
      });
  };
  site.post(
    '/register',
    formRoute(registerForm, async (req, res) => {
      const s = res.locals.site!;
      // Only registrations with a taken address are counted (the page no longer says so, but a burst of
      // them would still send mail to the owners); an IP over the limit is refused before anything is read.
      const ip = req.ip ?? 'unknown';
      await deps.registrationThrottle.assertOpen(ip);
      const f = readStrings(
        req.body,
        [],
        [
          'firstName',
          'lastName',
          'email',
          'password',
          'passwordConfirm',
          'timeZone',
          'invitation',
          'acceptTerms',
          'termsVersion',
        ],
      );
      // Every registration proves some work (bot protection) before anything is looked up or hashed.
      await deps.botCheck.verify(readProof(req.body));
      const locale = localeFromAcceptLanguage(req.get('accept-language'));
      await registerOrTellOwner(
        s,
        {
          firstName: f.firstName ?? '',
          lastName: f.lastName ?? '',
          email: f.email ?? '',
          password: f.password ?? '',
          passwordConfirm: f.passwordConfirm,
          localeSidKey: locale,
          languageLocaleKey: locale,
          timeZoneSidKey: f.timeZone && isTimeZone(f.timeZone) ? f.timeZone : 'GMT',
          invitation: f.invitation || undefined,
          // Only the fields the site asks for are read from it (src/registration/extra-fields.ts).
          extra: req.body as Record<string, unknown>,
          acceptTerms: f.acceptTerms === 'on',
          termsVersion: f.termsVersion,
          userAgent: req.get('user-agent') ?? null,
        },
        { ip: req.ip },
        () => deps.registrationThrottle.conflict(ip),
      );
      // The same page, status and words whether the account was made or the address already had one (its
      // owner got a mail instead): the form never tells who has an account. Nobody is signed in here.
      res.status(201).render('site/check-email', { title: 'Check your mail', email: normaliseUsername(f.email ?? '') });
    }),
  );

  /** Sign-in asks for a proof of work once failures from this IP (or for this name) reach the setting. */
  const proofNeeded = async (username: string | null | undefined, ip: string | undefined) =>
    (await signInFailures(deps.loginThrottle, username, ip ?? 'unknown')) >= deps.config.pow.signInAfterFails;

  site.get('/login', async (req, res) => {
    powLocals(deps.botCheck, res, await proofNeeded(null, req.ip));
    res.render('site/login', {
      title: 'Log in',
      values: { username: '' },
      returnTo: safeReturnTo(req.query.returnTo, ''),
    });
  });

  const loginForm = (req: Request) => async (r: Response) => {
    // An unconfirmed address gets the form with a button to send the link again.
    const unverified =
      r.locals.errorCode === 'email_unverified' ? keepTyped(req.body, ['username']).username : undefined;
    // This refusal may be the failure that makes the next attempt need a proof.
    powLocals(deps.botCheck, r, await proofNeeded(keepTyped(req.body, ['username']).username, req.ip));
    r.render('site/login', {
      title: 'Log in',
      values: keepTyped(req.body, ['username']),
      returnTo: safeReturnTo((req.body as Record<string, unknown>)?.returnTo, ''),
      error: r.locals.error,
      fieldErrors: r.locals.fieldErrors,
      unverified,
    });
  };
  const devices = deviceSettings(deps.config);
  site.post(
    '/login',
    formRoute(loginForm, async (req, res, next) => {
      const returnTo = safeReturnTo((req.body as Record<string, unknown>)?.returnTo, '');
      // "Keep me signed in": the session gets its own, longer limit (KEEP_SIGNED_IN_DAYS).
      const keepMs =
        (req.body as Record<string, unknown>)?.keep === 'yes' ? deps.config.session.keepSignedInMs : undefined;
      let held = false;
      await authenticateLogin(
        'site',
        deps.loginThrottle,
        req,
        res,
        next,
        async (user) => {
          assertMaySignIn(user, res.locals.site!);
          const step = await holdForSecondFactor(req, 'site', user, returnTo, keepMs, devices);
          held = step === 'held';
          return held ? 'held' : step === 'skipped' ? 'device' : 'sign-in';
        },
        {
          keepMs,
          beforeAttempt: async (failures) => {
            if (failures >= deps.config.pow.signInAfterFails) await deps.botCheck.verify(readProof(req.body));
          },
        },
      );
      res.redirect(303, held ? res.locals.paths.loginCode : returnTo || res.locals.paths.home);
    }),
  );

  site.post('/logout', async (req, res) => {
    await endProviderSessionOf(req, deps.oidc);
    await signOut(req, res, 'site');
    res.redirect(303, res.locals.paths.home);
  });

  site.get('/account', requireSignIn, (req, res) => {
    const values = keepTyped(req.siteUser, PROFILE_FIELDS);
    res.render('site/account', {
      title: 'Your account',
      values: { ...values, languageLocaleKey: offeredLanguageKey(values.languageLocaleKey ?? '') },
      saved: req.query.saved ?? null,
    });
  });

  const accountForm = (req: Request) => ({
    view: 'site/account',
    locals: { title: 'Your account', values: keepTyped(req.body, PROFILE_FIELDS), saved: null },
  });
  site.post(
    '/account',
    requireSignIn,
    formRoute(accountForm, async (req, res) => {
      const f = readStrings(req.body, [], PROFILE_FIELDS);
      await updateOwnProfile(
        req.siteUser!,
        {
          firstName: f.firstName ?? '',
          lastName: f.lastName ?? '',
          communityNickname: f.communityNickname ?? '',
          localeSidKey: f.localeSidKey ?? '',
          languageLocaleKey: f.languageLocaleKey ?? '',
          timeZoneSidKey: f.timeZoneSidKey ?? '',
        },
        originOf(req),
      );
      res.redirect(303, `${res.locals.paths.account}?saved=profile`);
    }),
  );

  site.post(
    '/account/password',
    requireSignIn,
    formRoute(
      (req) => ({
        view: 'site/account',
        locals: {
          title: 'Your account',
          values: keepTyped(req.siteUser, PROFILE_FIELDS),
          saved: null,
          passwords: typedPasswords(req.body, ['currentPassword', 'newPassword', 'newPasswordConfirm']),
        },
      }),
      async (req, res) => {
        const f = readStrings(req.body, [], ['currentPassword', 'newPassword', 'newPasswordConfirm']);
        const updated = await changeOwnPassword(
          req.siteUser!._id,
          f.currentPassword ?? '',
          f.newPassword ?? '',
          deps.recheckThrottle,
          originOf(req),
          f.newPasswordConfirm,
          providerSessionIdOf(req),
        );
        // The epoch moved on, which ends every other session; this one signs in again with a fresh id.
        await signIn(req, 'site', updated, req.session.site?.impersonator);
        res.redirect(303, `${res.locals.paths.account}?saved=password`);
      },
    ),
  );

  /** A page with an audience (the seeded site's Community): open to its licenses and profiles only. */
  // An address that is no page of the site is a 404 for everyone: asking a visitor to sign in first
  // would promise a page that is not there.
  site.get(
    '/:page',
    (req, res, next) => {
      const page = res.locals.site!.pages.find((p) => p.slug === String(req.params.page));
      if (!page) throw new NotFoundError(res.locals.t('notFound.noPage'));
      next();
    },
    requireSignIn,
    (req, res) => {
      const page = res.locals.site!.pages.find((p) => p.slug === String(req.params.page))!;
      const user = req.siteUser!;
      if (mayOpenPage(page, user)) return res.render('site/page', { title: page.title, page });
      res.status(403).render('site/page-closed', {
        title: page.title,
        page,
        contactless: !user.contact && user.userType !== 'internal',
      });
    },
  );

  return router;
}
