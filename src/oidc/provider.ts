/**
 * The OpenID Connect provider (oidc-provider 9, panva's OpenID-certified implementation), configured for
 * the portal: clients are the connected apps, accounts are the portal's users, storage is the database
 * (adapter.ts), signing keys are the stored, encrypted ones (signing-keys.ts). Authorization code flow
 * only, PKCE (S256) required for every app, refresh tokens rotated at each use (a rotated one used again
 * revokes its grant: the provider does that itself), and the sign-in and consent prompts sent to the
 * portal's own pages (/interaction/:uid, routes.ts).
 */
import crypto from 'node:crypto';
import Provider from 'oidc-provider';
import type { OidcSettings } from '../config';
import { SiteModel, UserModel, type UserDoc } from '../data/models';
import { isSiteMember } from '../sites';
import { translator, languageFromAcceptLanguage, DEFAULT_LANGUAGE } from '../i18n';
import { escapeHtml } from './html';
import { mongoAdapter } from './adapter';
import { claimsOf, SCOPE_CLAIMS } from './claims';
import { APP_SCOPES } from './connected-app.model';
import { connectedAppByClientId, hashSecret } from './connected-apps';
import { loadSigningKeys } from './signing-keys';
import { isObjectIdString } from '../shared/ids';

/**
 * The prompts are answered on the app's site (/s/<slug>/authorize/<uid>), with its sign-in and branding;
 * the provider scopes its interaction cookie to this path.
 */
async function interactionUrl(clientId: string, uid: string): Promise<string> {
  const app = await connectedAppByClientId(clientId);
  const site = app ? await SiteModel.findById(app.site).select('slug').lean() : null;
  // The client was found a moment ago; gone since (deleted with its site), the prompt page says so.
  return `/s/${encodeURIComponent(site?.slug ?? 'portal')}/authorize/${encodeURIComponent(uid)}`;
}

interface Ctx {
  get(name: string): string;
  body: unknown;
  type: string;
  status: number;
}

/** The connected app as the provider's client metadata; null when there is no such app. */
export async function clientMetadataOf(clientId: string): Promise<Record<string, unknown> | undefined> {
  const app = await connectedAppByClientId(clientId);
  if (!app) return undefined;
  const offline = app.scopes.includes('offline_access');
  return {
    client_id: app.clientId,
    client_name: app.name,
    // The provider compares what an app sends with this after hashing it (compareClientSecret below).
    ...(app.type === 'confidential'
      ? { client_secret: app.secretHash, token_endpoint_auth_method: 'client_secret_basic' }
      : { token_endpoint_auth_method: 'none' }),
    redirect_uris: app.redirectUris,
    post_logout_redirect_uris: app.postLogoutRedirectUris,
    response_types: ['code'],
    grant_types: offline ? ['authorization_code', 'refresh_token'] : ['authorization_code'],
    scope: app.scopes.join(' '),
    ...(app.backchannelLogoutUri
      ? { backchannel_logout_uri: app.backchannelLogoutUri, backchannel_logout_session_required: true }
      : {}),
    portal_site: String(app.site),
    portal_first_party: app.firstParty,
  };
}

function page(ctx: Ctx, lang: string, title: string, body: string): void {
  ctx.type = 'html';
  ctx.body = `<!doctype html><html lang="${escapeHtml(lang)}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${escapeHtml(title)}</title><link rel="stylesheet" href="/css/portal.css"></head><body><main class="container"><h1>${escapeHtml(title)}</h1>${body}</main></body></html>`;
}

const tFor = (ctx: Ctx) => translator(languageFromAcceptLanguage(ctx.get('accept-language')) ?? DEFAULT_LANGUAGE);

async function memberOfAppSite(clientId: string, user: UserDoc): Promise<boolean> {
  const app = await connectedAppByClientId(clientId);
  const site = app ? await SiteModel.findById(app.site).select('members').lean() : null;
  return Boolean(site && isSiteMember(site, user));
}

export async function createProvider(settings: OidcSettings, cookieSecret: string): Promise<Provider> {
  const jwks = { keys: await loadSigningKeys(settings.keySecret) };
  // The provider's cookies are signed with keys of their own, derived from the session secret.
  const cookieKey = Buffer.from(
    crypto.hkdfSync('sha256', cookieSecret, 'identity-portal', 'oidc-cookies', 32),
  ).toString('base64url');
  const provider = new Provider(settings.issuer, {
    adapter: mongoAdapter(clientMetadataOf),
    jwks,
    cookies: { keys: [cookieKey] },
    clientBasedCORS: () => false,
    responseTypes: ['code'],
    scopes: [...APP_SCOPES],
    claims: SCOPE_CLAIMS,
    extraClientMetadata: { properties: ['portal_site', 'portal_first_party'] },
    pkce: { required: () => true },
    rotateRefreshToken: true,
    issueRefreshToken: async (_ctx: unknown, client: { grantTypeAllowed(t: string): boolean }) =>
      client.grantTypeAllowed('refresh_token'),
    ttl: {
      AccessToken: settings.accessTokenSeconds,
      AuthorizationCode: 60,
      IdToken: 3600,
      Interaction: 3600,
      Grant: settings.refreshTokenSeconds,
      Session: settings.refreshTokenSeconds,
      RefreshToken: settings.refreshTokenSeconds,
    },
    features: {
      devInteractions: { enabled: false },
      revocation: { enabled: true },
      backchannelLogout: { enabled: true },
      rpInitiatedLogout: {
        enabled: true,
        logoutSource: async (ctx: Ctx, form: string) => {
          const t = tFor(ctx);
          page(
            ctx,
            t.language,
            t('oidc.logoutTitle'),
            `${form}<p>${escapeHtml(t('oidc.logoutQuestion'))}</p><p><button class="button" type="submit" form="op.logoutForm" value="yes" name="logout">${escapeHtml(t('oidc.logoutYes'))}</button> <button class="button secondary" type="submit" form="op.logoutForm">${escapeHtml(t('oidc.logoutNo'))}</button></p>`,
          );
        },
        postLogoutSuccessSource: async (ctx: Ctx) => {
          const t = tFor(ctx);
          page(ctx, t.language, t('oidc.loggedOutTitle'), `<p>${escapeHtml(t('oidc.loggedOut'))}</p>`);
        },
      },
    },
    interactions: {
      url: (_ctx: unknown, interaction: { uid: string; params: { client_id?: unknown } }) =>
        interactionUrl(String(interaction.params.client_id ?? ''), interaction.uid),
    },
    renderError: async (ctx: Ctx, out: { error: string; error_description?: string }) => {
      const t = tFor(ctx);
      page(
        ctx,
        t.language,
        t('oidc.errorTitle'),
        `<p>${escapeHtml(t('oidc.errorText'))}</p><p><code>${escapeHtml(out.error)}</code> ${escapeHtml(out.error_description ?? '')}</p>`,
      );
    },
    findAccount: async (ctx: { oidc?: { client?: { clientId: string } } }, id: string) => {
      const user = isObjectIdString(String(id)) ? await UserModel.findById(String(id)) : null;
      // A deactivated user has no account here: their tokens stop working, userinfo and refresh included.
      if (!user || !user.isActive) return undefined;
      // Nor has someone who is no longer a member of the app's site (their next refresh fails).
      const clientId = ctx.oidc?.client?.clientId;
      if (clientId && !(await memberOfAppSite(clientId, user))) return undefined;
      return { accountId: String(user._id), claims: async () => claimsOf(user) };
    },
  });
  // Apps send their secret; only its hash is stored, so the comparison hashes what was sent.
  const ClientClass = (
    provider as unknown as {
      Client: { prototype: { compareClientSecret(actual: string): boolean; clientSecret?: string } };
    }
  ).Client;
  ClientClass.prototype.compareClientSecret = function compareClientSecret(actual: string) {
    if (typeof actual !== 'string' || !this.clientSecret) return false;
    const sent = Buffer.from(hashSecret(actual));
    const stored = Buffer.from(this.clientSecret);
    return sent.length === stored.length && crypto.timingSafeEqual(sent, stored);
  };
  return provider;
}
