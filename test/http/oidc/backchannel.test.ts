/**
 * Back-channel logout driven by the portal: when a person's portal session ends, the apps signed in
 * through their provider session that registered a back-channel logout URI receive a signed logout token.
 * The apps' receivers are a real HTTP server on loopback (OIDC_BACKCHANNEL_PRIVATE_NETWORK lets the
 * provider reach it); the tokens are verified against the portal's JWKS with jose.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import request from 'supertest';
import * as client from 'openid-client';
import * as jose from 'jose';
import { startTestApp, type TestApp } from '../../helpers/app';
import { GOOD_PASSWORD, csrfFrom, logIn, postForm } from '../../helpers/forms';
import { makeAdmin } from '../../helpers/admin';
import { loadActor } from '../../../src/access';
import { createConnectedApp } from '../../../src/oidc';
import { endAllSessionsAsAdmin } from '../../../src/account';
import { setUserActive } from '../../../src/qualification';
import { resetMfaAsAdmin } from '../../../src/signin';
import { enrolThroughPages } from '../../helpers/totp';
import { SiteModel, UserModel } from '../../../src/data/models';
import { OidcRecordModel } from '../../../src/oidc/oidc-record.model';

const REDIRECT = 'http://127.0.0.1:9/callback';
const BACKCHANNEL_EVENT = 'http://schemas.openid.net/event/backchannel-logout';

/** What the apps' back channels received, by path; /broken answers 500 like an app that is down. */
let received: { path: string; logoutToken: string }[] = [];
let receiver: Server;
let receiverUrl = '';
let t: TestApp;
let issuer: URL;
let admin: Awaited<ReturnType<typeof makeAdmin>>;
const apps: Record<'notified' | 'silent' | 'broken', { clientId: string; secret: string }> = {} as never;

beforeAll(async () => {
  receiver = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => (body += chunk));
    req.on('end', () => {
      received.push({ path: req.url ?? '', logoutToken: new URLSearchParams(body).get('logout_token') ?? '' });
      res.statusCode = req.url === '/broken' ? 500 : 200;
      res.end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
  t = await startTestApp('oidc_backchannel', { listen: true, env: { OIDC_BACKCHANNEL_PRIVATE_NETWORK: 'true' } });
  issuer = new URL(t.config.oidc.issuer);
  admin = await makeAdmin();
  const ctx = { actor: (await loadActor(admin!._id))!, via: 'admin' as const };
  const site = await SiteModel.findOne({ slug: 'portal' }).lean();
  const base = {
    siteId: String(site!._id),
    redirectUris: [REDIRECT],
    scopes: ['openid', 'email'],
    firstParty: true,
    type: 'confidential' as const,
  };
  for (const [key, uri] of [
    ['notified', `${receiverUrl}/logout`],
    ['silent', ''],
    ['broken', `${receiverUrl}/broken`],
  ] as const) {
    const made = await createConnectedApp({ ...base, name: key, backchannelLogoutUri: uri }, ctx);
    apps[key] = { clientId: made.app.clientId, secret: made.secret! };
  }
});
afterAll(async () => {
  await t.stop();
  receiver.closeAllConnections();
  await new Promise((r) => receiver.close(r));
});

let userCount = 0;
/** A new registered person, signed in to the portal in a fresh browser. */
async function newPerson() {
  const email = `bcl${++userCount}@example.com`;
  const agent = request.agent(t.baseUrl);
  await postForm(agent, '/s/portal/register', '/s/portal/register', {
    firstName: 'Grace',
    lastName: 'Hopper',
    email,
    password: GOOD_PASSWORD,
  });
  expect((await logIn(agent, email, GOOD_PASSWORD)).status).toBe(303);
  const user = await UserModel.findOne({ username: email });
  return { agent, email, user: user! };
}

const pathOf = (url: string) => {
  const u = new URL(url, t.baseUrl);
  return u.pathname + u.search;
};

/** Signs the browser in to the app through the provider; returns the ID token's claims (its `sid` above all). */
async function signInToApp(agent: request.Agent, key: keyof typeof apps) {
  const config = await client.discovery(
    issuer,
    apps[key].clientId,
    undefined,
    client.ClientSecretBasic(apps[key].secret),
    {
      execute: [client.allowInsecureRequests],
    },
  );
  const verifier = client.randomPKCECodeVerifier();
  const nonce = client.randomNonce();
  let next = client.buildAuthorizationUrl(config, {
    redirect_uri: REDIRECT,
    scope: 'openid email',
    code_challenge: await client.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    nonce,
  }).href;
  for (let i = 0; i < 12 && !next.startsWith(REDIRECT); i++) {
    const res = await agent.get(pathOf(next)).redirects(0);
    if (!res.headers.location) throw new Error(`no redirect: ${res.status} ${res.text.slice(0, 500)}`);
    next = new URL(res.headers.location, new URL(next, t.baseUrl)).href;
  }
  const tokens = await client.authorizationCodeGrant(config, new URL(next), {
    pkceCodeVerifier: verifier,
    expectedNonce: nonce,
  });
  return tokens.claims()!;
}

/** Signed in to all three apps in one browser: one provider session, three authorizations. */
async function personInAllApps() {
  const person = await newPerson();
  const sids: Record<string, unknown> = {};
  for (const key of ['notified', 'silent', 'broken'] as const) sids[key] = (await signInToApp(person.agent, key)).sid;
  received = [];
  return { ...person, sids };
}

async function verified(logoutToken: string, audience: string) {
  const jwks = jose.createRemoteJWKSet(new URL(`${issuer.href}/jwks`));
  const { payload, protectedHeader } = await jose.jwtVerify(logoutToken, jwks, {
    issuer: issuer.href,
    audience,
    typ: 'logout+jwt',
  });
  expect(protectedHeader.alg).toMatch(/^(RS|ES)256$/);
  return payload;
}

const providerSessionsOf = (userId: unknown) =>
  OidcRecordModel.collection.countDocuments({ kind: 'Session', accountId: String(userId) });

describe('back-channel logout from the portal', () => {
  it('signing out of the portal sends a verified logout token (sub, sid, events, no nonce) to the app with a URI only', async () => {
    const { agent, user, sids } = await personInAllApps();
    expect(await providerSessionsOf(user._id)).toBe(1);
    const home = await agent.get('/s/portal/');
    const out = await agent
      .post('/s/portal/logout')
      .type('form')
      .send({ _csrf: csrfFrom(home.text) });
    expect(out.status).toBe(303);

    const notified = received.filter((r) => r.path === '/logout');
    expect(notified).toHaveLength(1);
    const claims = await verified(notified[0].logoutToken, apps.notified.clientId);
    expect(claims.sub).toBe(String(user._id));
    expect(claims.sid).toEqual(expect.any(String));
    expect(claims.sid).toBe(sids.notified);
    expect(claims.events).toEqual({ [BACKCHANNEL_EVENT]: {} });
    expect(claims).not.toHaveProperty('nonce');
    expect(claims.jti).toEqual(expect.any(String));
    // Exactly one other notice, to the broken app: the app without a URI got nothing.
    expect(received.map((r) => r.path).sort()).toEqual(['/broken', '/logout']);
    const broken = await verified(received.find((r) => r.path === '/broken')!.logoutToken, apps.broken.clientId);
    expect(broken.sid).toBe(sids.broken);
  });

  it('an app whose receiver fails does not break the logout: the portal and provider sessions still end', async () => {
    const { agent, user } = await personInAllApps();
    const home = await agent.get('/s/portal/');
    const out = await agent
      .post('/s/portal/logout')
      .type('form')
      .send({ _csrf: csrfFrom(home.text) });
    expect(out.status).toBe(303);
    expect(out.headers.location).toBe('/s/portal/');
    expect(received.some((r) => r.path === '/broken')).toBe(true);
    expect(await providerSessionsOf(user._id)).toBe(0);
    const account = await agent.get('/s/portal/account').redirects(0);
    expect(account.headers.location).toMatch(/^\/s\/portal\/login/);
  });

  it("an app's own logout (RP-initiated, confirmed) notifies the other apps of the session through the provider", async () => {
    const { agent, user, sids } = await personInAllApps();
    const silent = await client.discovery(
      issuer,
      apps.silent.clientId,
      undefined,
      client.ClientSecretBasic(apps.silent.secret),
      { execute: [client.allowInsecureRequests] },
    );
    const confirm = await agent.get(
      pathOf(client.buildEndSessionUrl(silent, { client_id: apps.silent.clientId }).href),
    );
    expect(confirm.status).toBe(200);
    const xsrf = /name="xsrf" value="([^"]+)"/.exec(confirm.text)![1];
    await agent.post('/oidc/session/end/confirm').type('form').send({ xsrf, logout: 'yes' }).redirects(0);
    const notified = received.filter((r) => r.path === '/logout');
    expect(notified).toHaveLength(1);
    expect(await verified(notified[0].logoutToken, apps.notified.clientId)).toMatchObject({
      sub: String(user._id),
      sid: sids.notified,
    });
    expect(await providerSessionsOf(user._id)).toBe(0);
  });

  it('an admin\'s "end sessions" notifies the apps of every browser of the person', async () => {
    const first = await personInAllApps();
    const second = request.agent(t.baseUrl);
    await logIn(second, first.email, GOOD_PASSWORD);
    const secondSid = (await signInToApp(second, 'notified')).sid;
    received = [];
    expect(await providerSessionsOf(first.user._id)).toBe(2);
    await endAllSessionsAsAdmin(String(first.user._id), { actor: (await loadActor(admin!._id))!, via: 'admin' });
    const sids = await Promise.all(
      received
        .filter((r) => r.path === '/logout')
        .map(async (r) => (await verified(r.logoutToken, apps.notified.clientId)).sid),
    );
    expect(sids.sort()).toEqual([first.sids.notified, secondSid].sort());
    expect(await providerSessionsOf(first.user._id)).toBe(0);
  });

  it('deactivation notifies the apps before revoking the grants', async () => {
    const { user, sids } = await personInAllApps();
    await setUserActive(String(user._id), false, { actor: (await loadActor(admin!._id))!, via: 'admin' });
    const notified = received.filter((r) => r.path === '/logout');
    expect(notified).toHaveLength(1);
    const claims = await verified(notified[0].logoutToken, apps.notified.clientId);
    expect(claims).toMatchObject({ sub: String(user._id), sid: sids.notified });
    expect(await OidcRecordModel.collection.countDocuments({ accountId: String(user._id) })).toBe(0);
  });

  it("an admin's two-factor reset (which ends the person's sessions) notifies the apps", async () => {
    const { agent, user, sids } = await personInAllApps();
    await enrolThroughPages(agent);
    received = [];
    await resetMfaAsAdmin(String(user._id), { actor: (await loadActor(admin!._id))!, via: 'admin' });
    const notified = received.filter((r) => r.path === '/logout');
    expect(notified).toHaveLength(1);
    expect(await verified(notified[0].logoutToken, apps.notified.clientId)).toMatchObject({
      sub: String(user._id),
      sid: sids.notified,
    });
    expect(await providerSessionsOf(user._id)).toBe(0);
  });

  it("a password change ends the other browsers' provider sessions (notified) and keeps this one", async () => {
    const here = await personInAllApps();
    const other = request.agent(t.baseUrl);
    await logIn(other, here.email, GOOD_PASSWORD);
    const otherSid = (await signInToApp(other, 'notified')).sid;
    received = [];
    const res = await postForm(here.agent, '/s/portal/account', '/s/portal/account/password', {
      currentPassword: GOOD_PASSWORD,
      newPassword: 'amber-meadow-lantern-57',
      newPasswordConfirm: 'amber-meadow-lantern-57',
    });
    expect(res.status).toBe(303);
    const notified = received.filter((r) => r.path === '/logout');
    expect(notified).toHaveLength(1);
    expect((await verified(notified[0].logoutToken, apps.notified.clientId)).sid).toBe(otherSid);
    expect(await providerSessionsOf(here.user._id)).toBe(1);
  });

  it('"end other sessions" on the account page notifies the other browser\'s apps only', async () => {
    const here = await personInAllApps();
    const other = request.agent(t.baseUrl);
    await logIn(other, here.email, GOOD_PASSWORD);
    const otherSid = (await signInToApp(other, 'notified')).sid;
    received = [];
    const res = await postForm(here.agent, '/s/portal/account', '/s/portal/account/sessions/end-others', {});
    expect(res.status).toBe(303);
    const notified = received.filter((r) => r.path === '/logout');
    expect(notified).toHaveLength(1);
    expect((await verified(notified[0].logoutToken, apps.notified.clientId)).sid).toBe(otherSid);
    expect(await providerSessionsOf(here.user._id)).toBe(1);
  });
});
