/**
 * The HTTP part of the OpenID Connect provider:
 * - `/oidc`: the provider itself (discovery, JWKS, authorize, token, userinfo, logout, revocation),
 *   mounted by app.ts before the body parsers, sessions and CSRF, which it does without;
 * - `/s/<slug>/authorize/<uid>`: its sign-in and consent prompts, on the app's site, with the site's
 *   own sign-in (two-factor step included) and its session: signed in and a member, the prompt
 *   completes at once; not signed in, the site's sign-in page comes back here; signed in but not a
 *   member (or in a Login As session), the app gets access_denied; new terms in effect that the person
 *   has not accepted are asked for first, on the site's own terms page (which comes back here); then a
 *   third-party app asks consent.
 */
import type { NextFunction, Request, RequestHandler, Response, Router } from 'express';
import type Provider from 'oidc-provider';
import type { InteractionDetails } from 'oidc-provider';
import { BadRequestError, NotFoundError } from '../shared/errors';
import { readForm, formOptional } from '../http/form-input';
import { connectedAppByClientId } from './connected-apps';
import { APP_SCOPES, type AppScope } from './connected-app.model';
import { endProviderSession } from './sessions';
import { pendingTerms } from '../registration';

export { OIDC_MOUNT } from './mount';
export { adminAppsRouter } from './admin-pages';

/**
 * Answers /oidc once the provider (whose signing keys come from the database) is ready. Its endpoint
 * addresses are built from the issuer (PUBLIC_URL), never from the request's Host header: the host and
 * scheme the provider sees are set to the issuer's before it reads them.
 */
export function oidcProviderHandler(provider: Promise<Provider>, issuer: string): RequestHandler {
  const { host, protocol } = new URL(issuer);
  let callback: ReturnType<Provider['callback']> | undefined;
  void provider.then(
    (p) => {
      // An app's logout (RP-initiated, confirmed by the person) ends the site sign-in of this browser too.
      p.on('end_session.success', (ctx: { req: Request }) => {
        if (ctx.req.session?.site) delete ctx.req.session.site;
      });
    },
    () => {},
  );
  return (req, res, next) => {
    provider.then((p) => {
      p.proxy = true;
      req.headers.host = host;
      req.headers['x-forwarded-proto'] = protocol.slice(0, -1);
      delete req.headers['x-forwarded-host'];
      delete req.headers['x-forwarded-port'];
      callback ??= p.callback();
      callback(req, res);
    }, next);
  };
}

/** What the consent page says each scope gives the app (openid, always asked, is listed first by the page). */
const SCOPE_LABELS: Record<AppScope, string> = {
  openid: 'oidc.scope.openid',
  offline_access: 'oidc.scope.offline_access',
  email: 'oidc.scope.email',
  profile: 'oidc.scope.profile',
  portal: 'oidc.scope.portal',
};

type SiteRequest = Request<{ slug: string; uid: string }>;

async function interaction(provider: Provider, req: Request, res: Response): Promise<InteractionDetails> {
  try {
    return await provider.interactionDetails(req, res);
  } catch {
    // No interaction cookie, or an expired or finished interaction: start again from the app.
    throw new BadRequestError(res.locals.t('oidc.interactionGone'), 'interaction_gone');
  }
}

const refuse = (provider: Provider, req: Request, res: Response, description: string) =>
  provider.interactionFinished(
    req,
    res,
    { error: 'access_denied', error_description: description },
    { mergeWithLastSubmission: false },
  );

/** A grant for what the prompt says is missing, limited to the scopes the app is allowed. */
async function grantFor(
  provider: Provider,
  details: InteractionDetails,
  accountId: string,
  allowed: readonly string[],
): Promise<string> {
  const clientId = String(details.params.client_id);
  const grant =
    (details.grantId ? await provider.Grant.find(details.grantId) : undefined) ??
    new provider.Grant({ accountId, clientId });
  const missing = details.prompt.details as {
    missingOIDCScope?: string[];
    missingOIDCClaims?: string[];
    missingResourceScopes?: Record<string, string[]>;
  };
  if (missing.missingOIDCScope)
    grant.addOIDCScope(missing.missingOIDCScope.filter((s) => allowed.includes(s)).join(' '));
  if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
  for (const [resource, scopes] of Object.entries(missing.missingResourceScopes ?? {}))
    grant.addResourceScope(resource, scopes.join(' '));
  return grant.save();
}

/**
 * New terms in effect that the signed-in person has not accepted: sends them to the site's terms page,
 * which records the acceptance in the consent ledger and comes back to this prompt (GET). True: sent.
 */
async function askTerms(req: SiteRequest, res: Response): Promise<boolean> {
  if (!(await pendingTerms(res.locals.site!, req.siteUser!._id))) return false;
  // The prompt's own address (the POST of the consent page answers at the same one).
  const prompt = req.originalUrl.split('?')[0];
  res.redirect(303, `${res.locals.paths.termsAccept}?returnTo=${encodeURIComponent(prompt)}`);
  return true;
}

/** The prompt routes, registered on the site router (so they get its page, language, branding and CSRF). */
export function oidcAuthorizeRoutes(site: Router, provider: Promise<Provider>): void {
  const load = async (req: SiteRequest, res: Response) => {
    const p = await provider;
    const details = await interaction(p, req, res);
    if (details.uid !== req.params.uid)
      throw new BadRequestError(res.locals.t('oidc.interactionGone'), 'interaction_gone');
    const app = await connectedAppByClientId(String(details.params.client_id ?? ''));
    if (!app || String(app.site) !== String(res.locals.site!._id))
      throw new NotFoundError(res.locals.t('error.nothingHere'));
    return { p, details, app };
  };

  site.get('/authorize/:uid', async (req: SiteRequest, res: Response, next: NextFunction) => {
    const { p, details, app } = await load(req, res);
    const t = res.locals.t;
    if (req.session.site && !req.siteUser) return refuse(p, req, res, t('oidc.notMember'));
    if (!req.siteUser) return res.redirect(`${res.locals.paths.login}?returnTo=${encodeURIComponent(req.originalUrl)}`);
    // Someone signed in as this person (Login As) acts in the portal for them, never in their apps.
    if (req.session.site?.impersonator) return refuse(p, req, res, t('oidc.notWhileImpersonating'));
    if (await askTerms(req, res)) return;
    const accountId = String(req.siteUser._id);
    if (details.prompt.name === 'login' || details.session?.accountId !== accountId) {
      return p.interactionFinished(req, res, { login: { accountId } }, { mergeWithLastSubmission: false });
    }
    if (details.prompt.name !== 'consent')
      return next(new BadRequestError(t('oidc.interactionGone'), 'interaction_gone'));
    if (app.firstParty) {
      const grantId = await grantFor(p, details, accountId, app.scopes);
      return p.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true });
    }
    const asked = String(details.params.scope ?? '')
      .split(' ')
      .filter(
        (s) => (APP_SCOPES as readonly string[]).includes(s) && (app.scopes as string[]).includes(s) && s !== 'openid',
      );
    res.render('site/consent', {
      title: t('oidc.consentTitle', { app: app.name }),
      appName: app.name,
      scopeLabels: asked.map((s) => t(SCOPE_LABELS[s as AppScope])),
      action: req.originalUrl,
    });
  });

  site.post('/authorize/:uid', async (req: SiteRequest, res: Response) => {
    const { p, details, app } = await load(req, res);
    const t = res.locals.t;
    const accountId = req.siteUser ? String(req.siteUser._id) : null;
    if (!accountId || details.session?.accountId !== accountId) return refuse(p, req, res, t('oidc.notMember'));
    // Terms that took effect while the consent page was open are accepted first; the prompt is shown again.
    if (await askTerms(req, res)) return;
    const { decision } = readForm(req.body, { decision: formOptional(10) });
    if (decision !== 'allow') return refuse(p, req, res, t('oidc.declined'));
    const grantId = await grantFor(p, details, accountId, app.scopes);
    await p.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true });
  });
}

/** This browser's provider session id (the provider's `_session` cookie), or null. */
export function providerSessionIdOf(req: Request): string | null {
  const id = /(?:^|;\s*)_session=([^;]+)/.exec(req.headers.cookie ?? '')?.[1];
  return id ? decodeURIComponent(id) : null;
}

/** Site sign-out: the provider's session in this browser ends with it, its apps notified (sessions.ts). */
export async function endProviderSessionOf(req: Request, provider: Promise<Provider>): Promise<void> {
  const id = providerSessionIdOf(req);
  if (id) await endProviderSession(await provider, id);
}
