/**
 * "Continue with <provider>" on a site: start (a plain link: the redirect to the provider is a navigation,
 * which the CSP's form-action does not govern), callback, the link-confirmation page, and the linked
 * accounts on the account page. Sign-in ends as a password sign-in does: the site's rules, a second
 * factor when the user has one, a fresh session id, the login history.
 */
import type { Request, Response, NextFunction, Router } from 'express';
import type { AppDeps } from '../http/deps';
import type { SiteRecord, UserDoc } from '../data/models';
import { formRoute } from '../http/error-writer';
import { readStrings } from '../http/forms';
import { localeFromAcceptLanguage } from '../shared/locale';
import { holdForSecondFactor, originOf, safeReturnTo, signIn } from '../signin/routes';
import { type DeviceSettings, deviceSettings, recordLogin, verifyCredentials } from '../signin';
import { assertMaySignIn } from '../account';
import {
  beginFlow,
  checkMailedLink,
  confirmLinkByMail,
  mailLinkConfirmation,
  confirmPendingLink,
  enabledProviders,
  finishFlow,
  linksOf,
  pendingLinkUser,
  removeOwnLink,
  resolveFederatedSignIn,
  type PendingFlow,
  type PendingLink,
} from './index';

declare module 'express-session' {
  interface SessionData {
    /** A started "Continue with" sign-in: state, nonce and PKCE verifier until its callback. */
    federation?: PendingFlow;
    /** An existing address met at a callback: the link waits for its owner's password. */
    pendingLink?: PendingLink;
  }
}

export const federationPaths = (slug: string) => ({
  start: (providerId: string) => `/s/${slug}/sso/${providerId}/start`,
  callback: `/s/${slug}/sso/callback`,
  link: `/s/${slug}/sso/link`,
  linkMail: `/s/${slug}/sso/link/mail`,
  linkConfirm: `/s/${slug}/sso/link/confirm`,
  removeLink: (linkId: string) => `/s/${slug}/account/linked/${linkId}/remove`,
});

function saveSession(req: Request): Promise<void> {
  return new Promise((resolve, reject) => req.session.save((err) => (err ? reject(err) : resolve())));
}

/** The end of every sign-in here: the site's rules, then a held second factor or a fresh session. */
async function completeSignIn(
  req: Request,
  res: Response,
  user: UserDoc,
  returnTo: string | undefined,
  devices: DeviceSettings,
): Promise<void> {
  const site = res.locals.site as SiteRecord;
  assertMaySignIn(user, site);
  // A browser remembered for this user skips the code, as with a password sign-in.
  if ((await holdForSecondFactor(req, 'site', user, returnTo, undefined, devices)) === 'held')
    return res.redirect(303, res.locals.paths.loginCode);
  await signIn(req, 'site', user);
  await recordLogin(user, 'site', req.ip, req.get('user-agent'));
  res.redirect(303, returnTo || res.locals.paths.home);
}

export function federationSiteRoutes(
  site: Router,
  deps: AppDeps,
  requireSignIn: (req: Request, res: Response, next: NextFunction) => void,
): void {
  const devices = deviceSettings(deps.config);
  // The buttons on the sign-in and registration pages, and the links on the account page.
  site.use(async (req, res, next) => {
    const s = res.locals.site as SiteRecord;
    res.locals.sso = federationPaths(s.slug);
    if (req.path === '/login' || req.path === '/register')
      res.locals.federationProviders = await enabledProviders(s._id);
    if (req.siteUser && (req.path === '/account' || req.path.startsWith('/account/')))
      res.locals.linkedAccounts = await linksOf(req.siteUser._id);
    next();
  });

  site.get('/sso/:provider/start', async (req, res) => {
    const s = res.locals.site as SiteRecord;
    const { url, pending } = await beginFlow(
      s,
      String(req.params.provider),
      safeReturnTo(req.query.returnTo, '') || undefined,
    );
    req.session.federation = pending;
    await saveSession(req);
    res.redirect(303, url);
  });

  site.get('/sso/callback', async (req, res) => {
    const s = res.locals.site as SiteRecord;
    // Taken out before anything is checked: a callback is answered once, so a replay finds nothing.
    const pending = req.session.federation;
    delete req.session.federation;
    await saveSession(req);
    const query = req.originalUrl.includes('?') ? req.originalUrl.slice(req.originalUrl.indexOf('?')) : '';
    const claims = await finishFlow(s, query, pending);
    const locale = localeFromAcceptLanguage(req.get('accept-language'));
    const outcome = await resolveFederatedSignIn(s, claims, { ip: req.ip, localeSidKey: locale });
    if (outcome.kind === 'confirm-link') {
      req.session.pendingLink = outcome.pending;
      await saveSession(req);
      return res.redirect(303, federationPaths(s.slug).link);
    }
    await completeSignIn(req, res, outcome.user, pending?.returnTo, devices);
  });

  const linkPage = async (req: Request, res: Response) => {
    const { pending } = await pendingLinkUser(res.locals.site as SiteRecord, req.session.pendingLink);
    res.render('site/sso-link', {
      title: res.locals.t('sso.linkTitle'),
      provider: pending.providerName,
      email: pending.email,
      mailed: false,
      token: null,
      error: res.locals.error ?? null,
      fieldErrors: res.locals.fieldErrors ?? {},
    });
  };
  site.get('/sso/link', linkPage);
  site.post(
    '/sso/link',
    formRoute(
      (req) => (r: Response) => linkPage(req, r),
      async (req, res) => {
        const s = res.locals.site as SiteRecord;
        const { pending, user } = await pendingLinkUser(s, req.session.pendingLink);
        const f = readStrings(req.body, [], ['password']);
        // The same count of attempts as the sign-in form, per account and IP.
        const attempt = await deps.loginThrottle.begin(user.username, req.ip ?? 'unknown');
        const proven = await verifyCredentials(user.username, f.password ?? '', 'site', s);
        await attempt.succeeded();
        delete req.session.pendingLink;
        await confirmPendingLink(s, pending, proven, originOf(req));
        await completeSignIn(req, res, proven, undefined, devices);
      },
    ),
  );

  site.post(
    '/sso/link/mail',
    formRoute(
      (req) => (r: Response) => linkPage(req, r),
      async (req, res) => {
        const s = res.locals.site as SiteRecord;
        const { pending } = await pendingLinkUser(s, req.session.pendingLink);
        await mailLinkConfirmation(s, pending);
        res.render('site/sso-link', {
          title: res.locals.t('sso.linkTitle'),
          provider: pending.providerName,
          email: pending.email,
          mailed: true,
          token: null,
        });
      },
    ),
  );
  // The page behind the mailed link: checked, not used, until its button is pressed.
  site.get('/sso/link/confirm', async (req, res) => {
    const pending = await checkMailedLink(res.locals.site as SiteRecord, req.session.pendingLink, req.query.token);
    res.render('site/sso-link', {
      title: res.locals.t('sso.linkTitle'),
      provider: pending.providerName,
      email: pending.email,
      mailed: false,
      token: String(req.query.token),
    });
  });
  site.post('/sso/link/confirm', async (req, res) => {
    const s = res.locals.site as SiteRecord;
    const f = readStrings(req.body, [], ['token']);
    const user = await confirmLinkByMail(s, req.session.pendingLink, f.token ?? '', originOf(req));
    delete req.session.pendingLink;
    await completeSignIn(req, res, user, undefined, devices);
  });

  // A refusal (the last way to sign in) is the error page with its 409 and what to do instead.
  site.post('/account/linked/:link/remove', requireSignIn, async (req, res) => {
    await removeOwnLink(req.siteUser!, String(req.params.link), originOf(req));
    res.redirect(303, `${res.locals.paths.account}?saved=unlinked#linked-accounts`);
  });
}
