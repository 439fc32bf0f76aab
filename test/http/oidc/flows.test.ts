/**
 * The certification plan's flows with openid-client 6 as the app, against the portal served on a random
 * loopback port: a person's browser is a supertest agent keeping cookies; the app's back channel
 * (discovery, token, userinfo) is openid-client's own fetch. Hostile cases beside each flow.
 */
import request from 'supertest';
import * as client from 'openid-client';
import mongoose from 'mongoose';
import { startTestApp, type TestApp } from '../../helpers/app';
import { GOOD_PASSWORD, logIn, postForm, csrfFrom } from '../../helpers/forms';
import { makeAdmin } from '../../helpers/admin';
import { loadActor } from '../../../src/access';
import { createConnectedApp } from '../../../src/oidc';
import { addContactAndAssociate, downgradeUser, setUserActive } from '../../../src/qualification';
import { SiteModel, UserModel } from '../../../src/data/models';

const REDIRECT = 'http://127.0.0.1:9/callback';
const AFTER_LOGOUT = 'http://127.0.0.1:9/signed-out';
let t: TestApp;
let issuer: URL;
let app: { clientId: string; secret: string };
let publicApp: { clientId: string };
let thirdParty: { clientId: string; secret: string };

beforeAll(async () => {
  t = await startTestApp('oidc_flows', { listen: true });
  issuer = new URL(t.config.oidc.issuer);
  const admin = await makeAdmin();
  const ctx = { actor: (await loadActor(admin!._id))!, via: 'admin' as const };
  const site = await SiteModel.findOne({ slug: 'portal' }).lean();
  const base = {
    siteId: String(site!._id),
    redirectUris: [REDIRECT],
    postLogoutRedirectUris: [AFTER_LOGOUT],
    scopes: ['openid', 'offline_access', 'email', 'profile', 'portal'],
  };
  const first = await createConnectedApp({ ...base, name: 'Orders', firstParty: true, type: 'confidential' }, ctx);
  app = { clientId: first.app.clientId, secret: first.secret! };
  publicApp = {
    clientId: (await createConnectedApp({ ...base, name: 'Mobile', firstParty: true, type: 'public' }, ctx)).app
      .clientId,
  };
  const third = await createConnectedApp({ ...base, name: 'Partner', firstParty: false, type: 'confidential' }, ctx);
  thirdParty = { clientId: third.app.clientId, secret: third.secret! };
  const agent = request.agent(t.baseUrl);
  await postForm(agent, '/s/portal/register', '/s/portal/register', {
    firstName: 'Ada',
    lastName: 'Lovelace',
    email: 'ada@example.com',
    password: GOOD_PASSWORD,
  });
});
afterAll(() => t.stop());

const pathOf = (url: string) => {
  const u = new URL(url, t.baseUrl);
  return u.pathname + u.search;
};

async function rp(c: { clientId: string; secret?: string }) {
  const auth = c.secret ? client.ClientSecretBasic(c.secret) : client.None();
  return client.discovery(issuer, c.clientId, undefined, auth, { execute: [client.allowInsecureRequests] });
}

async function signedInAgent() {
  const agent = request.agent(t.baseUrl);
  const res = await logIn(agent, 'ada@example.com', GOOD_PASSWORD);
  expect(res.status).toBe(303);
  return agent;
}

/** Follows the browser's redirects until the app's callback (returned) or a page (returned as a response). */
async function follow(agent: request.Agent, start: string): Promise<{ callback?: URL; page?: request.Response }> {
  let next = start;
  for (let i = 0; i < 12; i++) {
    if (next.startsWith('http://127.0.0.1:9/')) return { callback: new URL(next) };
    const res = await agent.get(pathOf(next)).redirects(0);
    if (res.status < 300 || res.status >= 400) return { page: res };
    next = new URL(res.headers.location, new URL(next, t.baseUrl)).href;
  }
  throw new Error('too many redirects');
}

async function startFlow(config: client.Configuration, extra: Record<string, string> = {}) {
  const verifier = client.randomPKCECodeVerifier();
  const state = client.randomState();
  const nonce = client.randomNonce();
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri: REDIRECT,
    scope: 'openid email profile portal offline_access',
    prompt: 'consent',
    code_challenge: await client.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state,
    nonce,
    ...extra,
  });
  return { url, verifier, state, nonce };
}

async function signInToApp(c: { clientId: string; secret?: string } = app) {
  const config = await rp(c);
  const agent = await signedInAgent();
  const flow = await startFlow(config);
  const { callback, page } = await follow(agent, flow.url.href);
  if (!callback) throw new Error(`no callback: ${page?.status} ${page?.text.slice(0, 2000)}`);
  const tokens = await client.authorizationCodeGrant(config, callback, {
    pkceCodeVerifier: flow.verifier,
    expectedState: flow.state,
    expectedNonce: flow.nonce,
  });
  return { config, agent, flow, callback: callback!, tokens };
}

describe('authorization code with PKCE', () => {
  it('signs a signed-in member in: ID token with sub and nonce, userinfo with the portal claims', async () => {
    const user = await UserModel.findOne({ username: 'ada@example.com' });
    const { config, tokens, flow } = await signInToApp();
    const claims = tokens.claims()!;
    expect(claims.sub).toBe(String(user!._id));
    expect(claims.nonce).toBe(flow.nonce);
    expect(claims.iss).toBe(issuer.href);
    const info = await client.fetchUserInfo(config, tokens.access_token, claims.sub);
    expect(info).toMatchObject({
      sub: String(user!._id),
      email: 'ada@example.com',
      email_verified: false,
      given_name: 'Ada',
      family_name: 'Lovelace',
      locale: 'en-US',
      contactless: true,
      license: 'External Identity',
      portal_profile: 'External Identity User',
    });
    expect(info).not.toHaveProperty('account');
    expect(tokens.refresh_token).toEqual(expect.any(String));
  });

  it('a public app signs in with PKCE alone', async () => {
    const { tokens } = await signInToApp(publicApp);
    expect(tokens.claims()!.aud).toBe(publicApp.clientId);
  });

  it('sends a person who is not signed in to the site sign-in page, then back to the app', async () => {
    const config = await rp(app);
    const agent = request.agent(t.baseUrl);
    const flow = await startFlow(config);
    const { page } = await follow(agent, flow.url.href);
    expect(page!.status).toBe(200);
    expect(page!.text).toContain('action="/s/portal/login"');
    const returnTo = /name="returnTo" value="([^"]+)"/.exec(page!.text)![1];
    expect(returnTo).toMatch(/^\/s\/portal\/authorize\/[\w-]+$/);
    const login = await agent
      .post('/s/portal/login')
      .type('form')
      .send({ _csrf: csrfFrom(page!.text), username: 'ada@example.com', password: GOOD_PASSWORD, returnTo });
    expect(login.headers.location).toBe(returnTo);
    const { callback } = await follow(agent, returnTo);
    const tokens = await client.authorizationCodeGrant(config, callback!, {
      pkceCodeVerifier: flow.verifier,
      expectedState: flow.state,
      expectedNonce: flow.nonce,
    });
    expect(tokens.claims()!.email).toBeUndefined();
    expect(tokens.access_token).toEqual(expect.any(String));
  });

  it('asks consent for a third-party app; declining answers access_denied', async () => {
    const config = await rp(thirdParty);
    const agent = await signedInAgent();
    const flow = await startFlow(config);
    const { page } = await follow(agent, flow.url.href);
    expect(page!.text).toContain('Allow Partner to sign you in?');
    expect(page!.text).toContain('your email address');
    const action = /<form method="post" action="([^"]+)" class="card" id="consent-form">/.exec(page!.text)![1];
    const res = await agent
      .post(action)
      .type('form')
      .send({ _csrf: csrfFrom(page!.text), decision: 'deny' })
      .redirects(0);
    const { callback } = await follow(agent, new URL(res.headers.location, t.baseUrl).href);
    expect(callback!.searchParams.get('error')).toBe('access_denied');
    expect(callback!.searchParams.get('state')).toBe(flow.state);
  });

  it('a third-party app gets tokens once the person allows it, for the scopes asked', async () => {
    const config = await rp(thirdParty);
    const agent = await signedInAgent();
    const flow = await startFlow(config);
    const { page } = await follow(agent, flow.url.href);
    const action = /<form method="post" action="([^"]+)" class="card" id="consent-form">/.exec(page!.text)![1];
    const res = await agent
      .post(action)
      .type('form')
      .send({ _csrf: csrfFrom(page!.text), decision: 'allow' })
      .redirects(0);
    const { callback } = await follow(agent, new URL(res.headers.location, t.baseUrl).href);
    const tokens = await client.authorizationCodeGrant(config, callback!, {
      pkceCodeVerifier: flow.verifier,
      expectedState: flow.state,
      expectedNonce: flow.nonce,
    });
    expect(tokens.scope!.split(' ').sort()).toEqual(['email', 'offline_access', 'openid', 'portal', 'profile']);
  });

  it("refuses a site user who is not a member of the app's site with access_denied", async () => {
    const site = await SiteModel.findOne({ slug: 'portal' });
    const members = site!.members;
    const agent = await signedInAgent();
    await SiteModel.updateOne({ _id: site!._id }, { $set: { 'members.profiles': [] } });
    try {
      const config = await rp(app);
      const flow = await startFlow(config);
      const { callback } = await follow(agent, flow.url.href);
      expect(callback!.searchParams.get('error')).toBe('access_denied');
    } finally {
      await SiteModel.updateOne({ _id: site!._id }, { $set: { members } });
    }
  });
});

describe('refresh tokens', () => {
  it('rotate at each use; reusing a rotated one revokes the grant', async () => {
    const { config, tokens } = await signInToApp();
    const second = await client.refreshTokenGrant(config, tokens.refresh_token!);
    expect(second.refresh_token).not.toBe(tokens.refresh_token);
    await expect(client.refreshTokenGrant(config, tokens.refresh_token!)).rejects.toMatchObject({
      error: 'invalid_grant',
    });
    // The reuse revoked the grant: the newest refresh token is dead too.
    await expect(client.refreshTokenGrant(config, second.refresh_token!)).rejects.toMatchObject({
      error: 'invalid_grant',
    });
  });

  it('a qualification and a downgrade show in the claims after the next refresh', async () => {
    const { config, tokens } = await signInToApp();
    const user = await UserModel.findOne({ username: 'ada@example.com' });
    const system = { actor: null, via: 'system' as const };
    await addContactAndAssociate(user!._id, { lastName: 'Lovelace', accountName: 'Analytical Engines' }, system);
    const qualified = await client.refreshTokenGrant(config, tokens.refresh_token!);
    expect(await client.fetchUserInfo(config, qualified.access_token, user!.id)).toMatchObject({
      contactless: false,
      account: { name: 'Analytical Engines' },
    });
    await downgradeUser(user!._id, undefined, system);
    const downgraded = await client.refreshTokenGrant(config, qualified.refresh_token!);
    const info = await client.fetchUserInfo(config, downgraded.access_token, user!.id);
    expect(info).toMatchObject({ contactless: true, license: 'External Identity' });
    expect(info).not.toHaveProperty('account');
  });

  it("someone removed from the app's site can no longer refresh", async () => {
    const { config, tokens } = await signInToApp();
    const site = await SiteModel.findOne({ slug: 'portal' });
    const members = site!.members;
    await SiteModel.updateOne({ _id: site!._id }, { $set: { 'members.profiles': [] } });
    try {
      await expect(client.refreshTokenGrant(config, tokens.refresh_token!)).rejects.toMatchObject({
        error: 'invalid_grant',
      });
    } finally {
      await SiteModel.updateOne({ _id: site!._id }, { $set: { members } });
    }
  });

  it("a deactivated user's refresh fails, and their grants are gone from the database", async () => {
    const { config, tokens } = await signInToApp();
    const user = await UserModel.findOne({ username: 'ada@example.com' });
    await setUserActive(user!._id, false, { actor: null, via: 'system' });
    try {
      expect(
        await mongoose.connection.db!.collection('oidc_records').countDocuments({ accountId: String(user!._id) }),
      ).toBe(0);
      await expect(client.refreshTokenGrant(config, tokens.refresh_token!)).rejects.toMatchObject({
        error: 'invalid_grant',
      });
      await expect(client.fetchUserInfo(config, tokens.access_token, user!.id)).rejects.toBeTruthy();
    } finally {
      await setUserActive(user!._id, true, { actor: null, via: 'system' });
    }
  });
});

describe('hostile requests', () => {
  it('a code is good once: its second exchange fails', async () => {
    const { config, flow, callback } = await signInToApp();
    await expect(
      client.authorizationCodeGrant(config, callback, {
        pkceCodeVerifier: flow.verifier,
        expectedState: flow.state,
        expectedNonce: flow.nonce,
      }),
    ).rejects.toMatchObject({ error: 'invalid_grant' });
  });

  it.each([
    ['a trailing slash', `${REDIRECT}/`],
    ['another case', REDIRECT.replace('callback', 'Callback')],
    ['an extra path', `${REDIRECT}/extra`],
    ['a query', `${REDIRECT}?next=https://evil.example`],
    ['another host', 'https://evil.example/callback'],
  ])('refuses a redirect URI with %s, on a page, never redirecting there', async (_what, uri) => {
    const config = await rp(app);
    const flow = await startFlow(config, { redirect_uri: uri });
    const res = await (await signedInAgent()).get(pathOf(flow.url.href)).redirects(0);
    expect(res.status).toBe(400);
    expect(res.headers.location).toBeUndefined();
    expect(res.text).toContain('redirect_uri');
  });

  it.each([
    ['missing', { code_challenge: '', code_challenge_method: '' }],
    ['plain', { code_challenge: 'a'.repeat(43), code_challenge_method: 'plain' }],
  ])('refuses PKCE %s', async (_what, pkce) => {
    const config = await rp(app);
    const flow = await startFlow(config);
    const url = new URL(flow.url);
    for (const [k, v] of Object.entries(pkce)) {
      if (v) url.searchParams.set(k, v);
      else url.searchParams.delete(k);
    }
    const { callback } = await follow(await signedInAgent(), url.href);
    expect(callback!.searchParams.get('error')).toBe('invalid_request');
    expect(callback!.searchParams.get('code')).toBeNull();
  });

  it('a wrong PKCE verifier gets no tokens', async () => {
    const config = await rp(app);
    const flow = await startFlow(config);
    const { callback } = await follow(await signedInAgent(), flow.url.href);
    await expect(
      client.authorizationCodeGrant(config, callback!, {
        pkceCodeVerifier: client.randomPKCECodeVerifier(),
        expectedState: flow.state,
      }),
    ).rejects.toMatchObject({ error: 'invalid_grant' });
  });

  it('a wrong client secret gets no tokens', async () => {
    const flow = await startFlow(await rp(app));
    const { callback } = await follow(await signedInAgent(), flow.url.href);
    const wrong = await rp({ clientId: app.clientId, secret: 'not-the-secret' });
    await expect(
      client.authorizationCodeGrant(wrong, callback!, { pkceCodeVerifier: flow.verifier, expectedState: flow.state }),
    ).rejects.toMatchObject({
      status: 401,
      cause: [expect.objectContaining({ parameters: expect.objectContaining({ error: 'invalid_client' }) })],
    });
  });

  it('never redirects to an unregistered post_logout_redirect_uri', async () => {
    const { config, agent, tokens } = await signInToApp();
    const url = client.buildEndSessionUrl(config, {
      id_token_hint: tokens.id_token!,
      post_logout_redirect_uri: 'https://evil.example/',
    });
    const res = await agent.get(pathOf(url.href)).redirects(0);
    expect(res.status).toBe(400);
    expect(res.headers.location).toBeUndefined();
  });
});

describe('logout', () => {
  it("an app's logout ends the portal session and returns to the registered address", async () => {
    const { config, agent, tokens } = await signInToApp();
    const url = client.buildEndSessionUrl(config, {
      id_token_hint: tokens.id_token!,
      post_logout_redirect_uri: AFTER_LOGOUT,
      state: 'bye',
    });
    const confirm = await agent.get(pathOf(url.href)).redirects(0);
    expect(confirm.status).toBe(200);
    const xsrf = /name="xsrf" value="([^"]+)"/.exec(confirm.text)![1];
    const done = await agent.post('/oidc/session/end/confirm').type('form').send({ xsrf, logout: 'yes' }).redirects(0);
    expect(done.headers.location).toBe(`${AFTER_LOGOUT}?state=bye`);
    const account = await agent.get('/s/portal/account').redirects(0);
    expect(account.headers.location).toMatch(/^\/s\/portal\/login/);
  });

  it('signing out of the portal ends the provider session: the next authorization asks to sign in', async () => {
    const { config, agent } = await signInToApp();
    const home = await agent.get('/s/portal/');
    await agent
      .post('/s/portal/logout')
      .type('form')
      .send({ _csrf: csrfFrom(home.text) })
      .expect(303);
    const flow = await startFlow(config, { prompt: '' });
    const { page } = await follow(agent, flow.url.href);
    expect(page!.text).toContain('action="/s/portal/login"');
  });
});
