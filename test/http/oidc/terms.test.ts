/**
 * New terms inside the provider's sign-in: a person who has not accepted the site's terms in effect is
 * asked for them on the site's own terms page before the app gets a code (and before a third-party app's
 * consent page); accepting writes a consent-ledger row and the prompt goes on. openid-client 6 is the app.
 */
import request from 'supertest';
import * as client from 'openid-client';
import { startTestApp, type TestApp } from '../../helpers/app';
import { GOOD_PASSWORD, csrfFrom, logIn, postForm } from '../../helpers/forms';
import { makeAdmin } from '../../helpers/admin';
import { loadActor } from '../../../src/access';
import { createConnectedApp } from '../../../src/oidc';
import { publishTerms } from '../../../src/registration';
import { ConsentModel, SiteModel, UserModel } from '../../../src/data/models';

const REDIRECT = 'http://127.0.0.1:9/callback';
let t: TestApp;
let issuer: URL;
let firstParty: { clientId: string; secret: string };
let thirdParty: { clientId: string; secret: string };

beforeAll(async () => {
  t = await startTestApp('oidc_terms', { listen: true });
  issuer = new URL(t.config.oidc.issuer);
  const admin = await makeAdmin();
  const ctx = { actor: (await loadActor(admin!._id))!, via: 'admin' as const };
  const site = await SiteModel.findOne({ slug: 'portal' }).lean();
  const base = { siteId: String(site!._id), redirectUris: [REDIRECT], scopes: ['openid', 'email'] };
  const made = await createConnectedApp({ ...base, name: 'Orders', firstParty: true, type: 'confidential' }, ctx);
  firstParty = { clientId: made.app.clientId, secret: made.secret! };
  const third = await createConnectedApp({ ...base, name: 'Partner', firstParty: false, type: 'confidential' }, ctx);
  thirdParty = { clientId: third.app.clientId, secret: third.secret! };
  // Two people registered before any terms existed; then a version takes effect.
  for (const email of ['ada@example.com', 'grace@example.com', 'linus@example.com'])
    await postForm(request.agent(t.baseUrl), '/s/portal/register', '/s/portal/register', {
      firstName: 'Ada',
      lastName: 'Lovelace',
      email,
      password: GOOD_PASSWORD,
    });
  await publishTerms(
    String(site!._id),
    { version: '2.0', text: 'Apps see your address.', effectiveAt: new Date(Date.now() - 60_000).toISOString() },
    ctx,
  );
});
afterAll(() => t.stop());

const pathOf = (url: string) => {
  const u = new URL(url, t.baseUrl);
  return u.pathname + u.search;
};

/** Follows redirects until the app's callback (returned) or a page (returned as a response). */
async function follow(agent: request.Agent, start: string): Promise<{ callback?: URL; page?: request.Response }> {
  let next = start;
  for (let i = 0; i < 12; i++) {
    if (next.startsWith(REDIRECT)) return { callback: new URL(next) };
    const res = await agent.get(pathOf(next)).redirects(0);
    if (res.status < 300 || res.status >= 400) return { page: res };
    next = new URL(res.headers.location, new URL(next, t.baseUrl)).href;
  }
  throw new Error('too many redirects');
}

async function startFlow(c: { clientId: string; secret: string }) {
  const config = await client.discovery(issuer, c.clientId, undefined, client.ClientSecretBasic(c.secret), {
    execute: [client.allowInsecureRequests],
  });
  const verifier = client.randomPKCECodeVerifier();
  const state = client.randomState();
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri: REDIRECT,
    scope: 'openid email',
    code_challenge: await client.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state,
  });
  return { config, url, verifier, state };
}

/** Ticks (or not) the box of the terms page and sends it; returns where the browser goes next. */
async function answerTerms(agent: request.Agent, page: request.Response, accept: boolean) {
  const field = (name: string) => new RegExp(`name="${name}" value="([^"]*)"`).exec(page.text)![1];
  const res = await agent
    .post('/s/portal/terms/accept')
    .type('form')
    .send({
      _csrf: csrfFrom(page.text),
      termsVersion: field('termsVersion'),
      returnTo: field('returnTo').replace(/&amp;/g, '&'),
      ...(accept ? { accept: 'on' } : {}),
    })
    .redirects(0);
  expect(res.status).toBe(303);
  return new URL(res.headers.location, t.baseUrl).href;
}

async function signedIn(email: string) {
  const agent = request.agent(t.baseUrl);
  expect((await logIn(agent, email, GOOD_PASSWORD)).status).toBe(303);
  return agent;
}

describe('terms inside the provider sign-in', () => {
  it('someone not yet signed in signs in on the site first, then meets the terms, then the app', async () => {
    const agent = request.agent(t.baseUrl);
    const flow = await startFlow(firstParty);
    const login = await follow(agent, flow.url.href);
    expect(login.page!.text).toContain('action="/s/portal/login"');
    const returnTo = /name="returnTo" value="([^"]+)"/.exec(login.page!.text)![1].replace(/&amp;/g, '&');
    expect(returnTo).toMatch(/^\/s\/portal\/authorize\//);
    const signIn = await postForm(agent, '/s/portal/login', '/s/portal/login', {
      username: 'linus@example.com',
      password: GOOD_PASSWORD,
      returnTo,
    });
    expect(signIn.status).toBe(303);
    const terms = await follow(agent, new URL(signIn.headers.location, t.baseUrl).href);
    expect(terms.page!.text).toContain('Apps see your address.');
    const done = await follow(agent, await answerTerms(agent, terms.page!, true));
    expect(done.callback?.searchParams.get('code')).toEqual(expect.any(String));
  });

  it('asks for the new terms before the app gets a code, records the acceptance, then completes the sign-in', async () => {
    const user = await UserModel.findOne({ username: 'ada@example.com' });
    const agent = await signedIn('ada@example.com');
    const flow = await startFlow(firstParty);
    const { callback, page } = await follow(agent, flow.url.href);
    expect(callback).toBeUndefined();
    expect(page!.status).toBe(200);
    expect(page!.text).toContain('Apps see your address.');
    expect(page!.text).toMatch(/name="returnTo" value="\/s\/portal\/authorize\/[^"]+"/);
    expect(await ConsentModel.countDocuments({ user: user!._id })).toBe(0);

    const next = await answerTerms(agent, page!, true);
    expect(pathOf(next)).toMatch(/^\/s\/portal\/authorize\//);
    const rows = await ConsentModel.find({ user: user!._id }).lean();
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ version: '2.0', how: 're-accept', username: 'ada@example.com' });

    const done = await follow(agent, next);
    expect(done.callback?.searchParams.get('code')).toEqual(expect.any(String));
    const tokens = await client.authorizationCodeGrant(flow.config, done.callback!, {
      pkceCodeVerifier: flow.verifier,
      expectedState: flow.state,
    });
    expect(tokens.claims()!.sub).toBe(String(user!._id));

    // Accepted once: the next sign-in to an app goes straight through, writing no second row.
    const again = await follow(agent, (await startFlow(firstParty)).url.href);
    expect(again.callback?.searchParams.get('code')).toEqual(expect.any(String));
    expect(await ConsentModel.countDocuments({ user: user!._id })).toBe(1);
  });

  it('leaving the box unticked never reaches the app nor the ledger; a third-party app asks consent only after the terms', async () => {
    const user = await UserModel.findOne({ username: 'grace@example.com' });
    const agent = await signedIn('grace@example.com');
    const flow = await startFlow(thirdParty);
    const first = await follow(agent, flow.url.href);
    expect(first.page!.text).toContain('Apps see your address.');
    expect(first.page!.text).not.toContain('name="decision"');

    const unticked = await follow(agent, await answerTerms(agent, first.page!, false));
    expect(unticked.callback).toBeUndefined();
    expect(unticked.page!.text).toContain('id="terms-unticked"');
    expect(await ConsentModel.countDocuments({ user: user!._id })).toBe(0);

    const consent = await follow(agent, await answerTerms(agent, unticked.page!, true));
    expect(consent.callback).toBeUndefined();
    expect(consent.page!.text).toContain('name="decision"');
    expect(consent.page!.text).toContain('Partner');
    expect(await ConsentModel.countDocuments({ user: user!._id, version: '2.0' })).toBe(1);
  });
});
