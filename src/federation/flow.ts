/**
 * The portal as a relying party: authorization code with PKCE, state and nonce (openid-client 6 does
 * every check: issuer, audience, signature, state, nonce, PKCE). What the flow needs between the
 * redirect and the callback (state, nonce, verifier) is kept in the person's session only, and used once.
 */
import { IdentityProviderModel, type SiteRecord } from '../data/models';
import { AuthenticationError, NotFoundError } from '../shared/errors';
import { isObjectIdString, toObjectId } from '../shared/ids';
import { lifecycleSettings } from '../shared/lifecycle-settings';
import { openid, type OpenIdClient } from './openid';
import { openSecret } from './secret-box';
import { isLoopbackHttp } from './providers';

/** How long a started sign-in may take at the provider. */
export const FLOW_MAX_MS = 10 * 60_000;

export interface PendingFlow {
  providerId: string;
  siteSlug: string;
  state: string;
  nonce: string;
  codeVerifier: string;
  returnTo?: string;
  startedAt: number;
}

/** What the provider said about the person, after every check passed. */
export interface ProviderClaims {
  providerId: string;
  providerName: string;
  issuer: string;
  subject: string;
  email: string | null;
  emailVerified: boolean;
  givenName: string;
  familyName: string;
}

/** The one redirect URI of a site, for every provider (the flow in the session says which one). */
export function callbackUrl(siteSlug: string): string {
  return `${lifecycleSettings().publicUrl}/s/${siteSlug}/sso/callback`;
}

export function flowRefused(
  message = 'Signing in with the provider did not complete. Try again.',
): AuthenticationError {
  return new AuthenticationError(message);
}

async function enabledProvider(site: SiteRecord, providerId: string) {
  const provider = isObjectIdString(providerId)
    ? await IdentityProviderModel.findOne({ _id: toObjectId(providerId)!, site: site._id }).select('+clientSecret')
    : null;
  if (!provider || !provider.enabled) throw new NotFoundError('This site offers no such sign-in.');
  return provider;
}

// Discovery once per provider version: the metadata and keys are reused (openid-client refetches keys it lacks).
const configurations = new Map<string, { at: number; config: Promise<OpenIdClient.Configuration> }>();
const DISCOVERY_TTL_MS = 10 * 60_000;

function configurationOf(provider: Awaited<ReturnType<typeof enabledProvider>>): Promise<OpenIdClient.Configuration> {
  const key = `${String(provider._id)}:${provider.updatedAt?.getTime() ?? 0}`;
  const cached = configurations.get(key);
  if (cached && Date.now() - cached.at < DISCOVERY_TTL_MS) return cached.config;
  const issuer = new URL(provider.issuer);
  const config = openid.discovery(
    issuer,
    provider.clientId,
    openSecret(provider.clientSecret),
    undefined,
    isLoopbackHttp(issuer) ? { execute: [openid.allowInsecureRequests] } : undefined,
  );
  configurations.set(key, { at: Date.now(), config });
  // A failed discovery is not kept: the next attempt tries again.
  config.catch(() => configurations.delete(key));
  return config;
}

/** The provider's authorization URL, and what the session keeps until the callback. */
export async function beginFlow(
  site: SiteRecord,
  providerId: string,
  returnTo?: string,
): Promise<{ url: string; pending: PendingFlow }> {
  const provider = await enabledProvider(site, providerId);
  let config: OpenIdClient.Configuration;
  try {
    config = await configurationOf(provider);
  } catch {
    throw flowRefused(`${provider.name} cannot be reached just now. Try again later, or log in with your password.`);
  }
  const codeVerifier = openid.randomPKCECodeVerifier();
  const pending: PendingFlow = {
    providerId: String(provider._id),
    siteSlug: site.slug,
    state: openid.randomState(),
    nonce: openid.randomNonce(),
    codeVerifier,
    startedAt: Date.now(),
    ...(returnTo ? { returnTo } : {}),
  };
  const url = openid.buildAuthorizationUrl(config, {
    redirect_uri: callbackUrl(site.slug),
    scope: provider.scopes,
    response_type: 'code',
    code_challenge: await openid.calculatePKCECodeChallenge(codeVerifier),
    code_challenge_method: 'S256',
    state: pending.state,
    nonce: pending.nonce,
  });
  return { url: url.href, pending };
}

/**
 * Redeems the code of the callback (`query`: its query string as received). `pending` is what the session
 * held, already removed from it by the caller, so a replayed callback finds nothing.
 */
export async function finishFlow(
  site: SiteRecord,
  query: string,
  pending: PendingFlow | undefined,
  now = Date.now(),
): Promise<ProviderClaims> {
  if (!pending || pending.siteSlug !== site.slug || now - pending.startedAt > FLOW_MAX_MS)
    throw flowRefused('This sign-in has expired or was not started here. Start again.');
  const provider = await enabledProvider(site, pending.providerId);
  const current = new URL(callbackUrl(site.slug));
  current.search = query;
  let claims: (OpenIdClient.IDToken & Record<string, unknown>) | undefined;
  try {
    const config = await configurationOf(provider);
    const tokens = await openid.authorizationCodeGrant(config, current, {
      pkceCodeVerifier: pending.codeVerifier,
      expectedState: pending.state,
      expectedNonce: pending.nonce,
      idTokenExpected: true,
    });
    claims = tokens.claims();
    // Providers may give the address and names at userinfo only (the ID token carries the subject).
    if (claims && claims.email === undefined && tokens.access_token) {
      const info = await openid.fetchUserInfo(config, tokens.access_token, claims.sub);
      claims = {
        ...info,
        ...claims,
        email: info.email,
        email_verified: info.email_verified,
        given_name: info.given_name,
        family_name: info.family_name,
      };
    }
  } catch {
    // Every refusal (a wrong state or nonce, an error from the provider, a used code) ends the same way.
    throw flowRefused();
  }
  if (!claims) throw flowRefused();
  const text = (v: unknown, max: number) => (typeof v === 'string' ? v.trim().slice(0, max) : '');
  return {
    providerId: String(provider._id),
    providerName: provider.name,
    issuer: claims.iss,
    subject: claims.sub,
    email: text(claims.email, 254) || null,
    // Only a literal true counts: a missing claim or the string "true" says nothing was verified.
    emailVerified: claims.email_verified === true,
    givenName: text(claims.given_name, 40),
    familyName: text(claims.family_name, 80),
  };
}
