/**
 * "Continue with" against a second OpenID provider (oidc-provider, started on loopback by the test): the
 * portal's callback is reached with what the provider really answered.
 */
import request from 'supertest';
import { startTestApp, type TestApp } from '../../helpers/app';
import { startExternalIdp, type ExternalIdp } from '../../helpers/external-idp';
import { GOOD_PASSWORD, postForm, registerGuest } from '../../helpers/forms';
import { linkIn, mailTo, tokenOf } from '../../helpers/mail';
import {
  AuditEventModel,
  FederatedLinkModel,
  IdentityProviderModel,
  LoginEventModel,
  SiteModel,
  UserModel,
} from '../../../src/data/models';
import { sealSecret } from '../../../src/federation/secret-box';
import { DeletionRequestModel } from '../../../src/privacy/deletion-request.model';
import { adminToken } from '../api/tokens';
import { hashPassword } from '../../../src/signin/passwords';

const PUBLIC_URL = 'http://portal.test';
const CLIENT = {
  client_id: 'portal',
  client_secret: 'portal-secret-0123456789abcdef',
  redirect_uris: [`${PUBLIC_URL}/s/portal/sso/callback`],
};
let t: TestApp;
let idp: ExternalIdp;
let providerId: string;

beforeAll(async () => {
  [t, idp] = await Promise.all([startTestApp('continue-with', { env: { PUBLIC_URL } }), startExternalIdp([CLIENT])]);
});
afterAll(async () => {
  await Promise.all([t.stop(), idp.stop()]);
});
beforeEach(async () => {
  await Promise.all([
    UserModel.deleteMany({}),
    FederatedLinkModel.deleteMany({}),
    IdentityProviderModel.deleteMany({}),
  ]);
  const site = await SiteModel.findOneAndUpdate(
    { slug: 'portal' },
    { $set: { selfRegistrationEnabled: true } },
    { returnDocument: 'after' },
  );
  const provider = await IdentityProviderModel.create({
    site: site!._id,
    name: 'Test ID',
    issuer: idp.issuer,
    clientId: CLIENT.client_id,
    clientSecret: sealSecret(CLIENT.client_secret),
  });
  providerId = String(provider._id);
});

interface Person {
  login: string;
  email?: string;
  verified?: boolean;
  given?: string;
  family?: string;
}

/** Where a redirect goes, as a path of the server it names (the provider's Location may be relative). */
const locationOf = (res: request.Response, base: string) => new URL(res.headers.location, base);

/**
 * Clicks "Continue with" on the portal and signs in at the provider as `person`; returns the portal
 * callback (path and query) the provider sent the browser back to. `tamper` edits the authorization request.
 */
async function atProvider(agent: request.Agent, person: Person, tamper?: (url: URL) => void): Promise<string> {
  const start = await agent.get(`/s/portal/sso/${providerId}/start`);
  expect(start.status).toBe(303);
  const auth = new URL(start.headers.location);
  expect(auth.origin).toBe(idp.issuer);
  expect(auth.searchParams.get('code_challenge_method')).toBe('S256');
  tamper?.(auth);
  const browser = request.agent(idp.issuer);
  let res = await browser.get(auth.pathname + auth.search);
  let where = locationOf(res, idp.issuer);
  expect(where.pathname).toMatch(/^\/interaction\//);
  res = await browser
    .post(where.pathname)
    .type('form')
    .send({
      login: person.login,
      email: person.email ?? '',
      verified: person.verified === false ? '' : 'yes',
      given_name: person.given ?? '',
      family_name: person.family ?? '',
    });
  // The provider resumes the authorization, then sends the browser back to the portal.
  while (res.status >= 300 && res.status < 400) {
    where = locationOf(res, idp.issuer);
    if (where.origin !== idp.issuer) break;
    res = await browser.get(where.pathname + where.search);
  }
  expect(where.origin).toBe(PUBLIC_URL);
  return where.pathname + where.search;
}

async function continueWith(agent: request.Agent, person: Person) {
  return agent.get(await atProvider(agent, person));
}

describe('Continue with an external provider', () => {
  it('shows the button on the sign-in and registration pages', async () => {
    for (const path of ['/s/portal/login', '/s/portal/register']) {
      const page = await request(t.app).get(path);
      expect(page.text).toContain(`href="/s/portal/sso/${providerId}/start"`);
      expect(page.text).toContain('Continue with Test ID');
    }
  });

  it('first sign-in creates a contactless user through registration (audit, mail), links it and signs in', async () => {
    const agent = request.agent(t.app);
    const res = await continueWith(agent, {
      login: 'ext-1',
      email: 'Grace@Example.com',
      given: 'Grace',
      family: 'Hopper',
    });
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe('/s/portal/');
    const user = await UserModel.findOne({ email: 'grace@example.com' }).select('+passwordHash').lean();
    expect(user).toMatchObject({
      contact: null,
      firstName: 'Grace',
      lastName: 'Hopper',
      userType: 'customer',
      isActive: true,
      passwordHash: null,
    });
    expect(await FederatedLinkModel.countDocuments({ user: user!._id, issuer: idp.issuer, subject: 'ext-1' })).toBe(1);
    expect(await AuditEventModel.countDocuments({ action: 'user.registered', 'target.id': user!._id })).toBe(1);
    expect(await AuditEventModel.countDocuments({ action: 'user.identity_linked', 'target.id': user!._id })).toBe(1);
    expect((await mailTo('grace@example.com')).length).toBe(1);
    expect(await LoginEventModel.countDocuments({ user: user!._id, outcome: 'success' })).toBe(1);
    expect((await agent.get('/s/portal/')).text).toContain('Welcome, Grace!');
    // Later sign-ins find the user by (issuer, subject), whatever address the provider now gives.
    await agent
      .post('/s/portal/logout')
      .type('form')
      .send({ _csrf: /name="_csrf" value="([^"]+)"/.exec((await agent.get('/s/portal/')).text)![1] });
    const again = request.agent(t.app);
    const second = await continueWith(again, { login: 'ext-1', email: 'other@example.com' });
    expect(second.headers.location).toBe('/s/portal/');
    expect(await UserModel.countDocuments()).toBe(1);
    expect((await again.get('/s/portal/')).text).toContain('Welcome, Grace!');
  });

  it("an existing address is linked only after its owner's password, never by the email claim", async () => {
    await registerGuest(t.app, { email: 'ada@example.com' });
    const agent = request.agent(t.app);
    const res = await continueWith(agent, { login: 'ext-ada', email: 'ada@example.com', given: 'Ada' });
    expect(res.headers.location).toBe('/s/portal/sso/link');
    expect(await FederatedLinkModel.countDocuments()).toBe(0);
    // Not signed in yet.
    expect((await agent.get('/s/portal/account')).status).toBe(302);
    const wrong = await postForm(agent, '/s/portal/sso/link', '/s/portal/sso/link', {
      password: 'not-the-password-at-all',
    });
    expect(wrong.status).toBe(401);
    expect(await FederatedLinkModel.countDocuments()).toBe(0);
    const right = await postForm(agent, '/s/portal/sso/link', '/s/portal/sso/link', { password: GOOD_PASSWORD });
    expect(right.status).toBe(303);
    const ada = await UserModel.findOne({ email: 'ada@example.com' }).lean();
    expect(await FederatedLinkModel.countDocuments({ user: ada!._id, subject: 'ext-ada' })).toBe(1);
    expect((await agent.get('/s/portal/')).text).toContain('Welcome, Ada!');
    expect(await UserModel.countDocuments()).toBe(1);
  });

  it('or after a link mailed to the address, opened in the same browser (once)', async () => {
    await registerGuest(t.app, { email: 'ada@example.com' });
    const agent = request.agent(t.app);
    await continueWith(agent, { login: 'ext-mail', email: 'ada@example.com' });
    const sent = await postForm(agent, '/s/portal/sso/link', '/s/portal/sso/link/mail', {});
    expect(sent.status).toBe(200);
    expect(sent.text).toContain('id="sso-link-mailed"');
    const link = await linkIn('ada@example.com', /Link your sign-in with Test ID/);
    expect(link).toMatch(/^\/s\/portal\/sso\/link\/confirm\?token=/);
    // Another browser (no pending link in its session) gets nothing from the link.
    const other = request.agent(t.app);
    expect((await other.get(link)).status).toBe(401);
    expect(await FederatedLinkModel.countDocuments()).toBe(0);
    const page = await agent.get(link);
    expect(page.status).toBe(200);
    const confirmed = await postForm(agent, link, '/s/portal/sso/link/confirm', { token: tokenOf(link) });
    expect(confirmed.status).toBe(303);
    const ada = await UserModel.findOne({ email: 'ada@example.com' }).lean();
    expect(await FederatedLinkModel.countDocuments({ user: ada!._id, subject: 'ext-mail' })).toBe(1);
    expect((await agent.get('/s/portal/')).text).toContain('Welcome, Ada!');
  });

  it('refuses an unverified address: no user, no link', async () => {
    await registerGuest(t.app, { email: 'ada@example.com' });
    for (const email of ['ada@example.com', 'new@example.com']) {
      const res = await continueWith(request.agent(t.app), { login: `unverified-${email}`, email, verified: false });
      expect(res.status).toBe(403);
      expect(res.text).toContain('did not confirm your email address');
    }
    expect(await FederatedLinkModel.countDocuments()).toBe(0);
    expect(await UserModel.countDocuments()).toBe(1);
  });

  it('refuses a callback whose state does not match, and a replayed callback', async () => {
    const agent = request.agent(t.app);
    const callback = await atProvider(agent, { login: 'ext-2', email: 'two@example.com' });
    const forged = callback.replace(/state=[^&]+/, 'state=forged');
    const bad = await agent.get(forged);
    expect(bad.status).toBe(401);
    // The flow was used up by the refused attempt: the genuine callback now finds nothing either.
    const replay = await agent.get(callback);
    expect(replay.status).toBe(401);
    expect(await UserModel.countDocuments()).toBe(0);

    const fresh = request.agent(t.app);
    const ok = await fresh.get(await atProvider(fresh, { login: 'ext-3', email: 'three@example.com' }));
    expect(ok.status).toBe(303);
    const cb = ok.request.url;
    const again = await fresh.get(new URL(cb).pathname + new URL(cb).search);
    expect(again.status).toBe(401);
    expect(await UserModel.countDocuments()).toBe(1);
  });

  it("refuses a callback carrying the provider's refusal (access_denied), and an unknown provider", async () => {
    const agent = request.agent(t.app);
    const start = await agent.get(`/s/portal/sso/${providerId}/start`);
    const state = new URL(start.headers.location).searchParams.get('state')!;
    const res = await agent.get(
      `/s/portal/sso/callback?error=access_denied&state=${state}&iss=${encodeURIComponent(idp.issuer)}`,
    );
    expect(res.status).toBe(401);
    expect(res.text).toContain('did not complete');
    for (const id of ['0123456789abcdef01234567', 'not-an-id'])
      expect((await agent.get(`/s/portal/sso/${id}/start`)).status).toBe(404);
    expect(await UserModel.countDocuments()).toBe(0);
  });

  it('refuses an ID token whose nonce is not the one sent', async () => {
    const agent = request.agent(t.app);
    const callback = await atProvider(agent, { login: 'ext-4', email: 'four@example.com' }, (url) =>
      url.searchParams.set('nonce', 'attacker-chosen-nonce'),
    );
    const res = await agent.get(callback);
    expect(res.status).toBe(401);
    expect(await UserModel.countDocuments()).toBe(0);
    expect(await FederatedLinkModel.countDocuments()).toBe(0);
  });

  it('refuses a disabled provider: no button, no start, no callback', async () => {
    const agent = request.agent(t.app);
    const callback = await atProvider(agent, { login: 'ext-5', email: 'five@example.com' });
    await IdentityProviderModel.updateOne({ _id: providerId }, { $set: { enabled: false } });
    expect((await agent.get(callback)).status).toBe(404);
    expect((await agent.get(`/s/portal/sso/${providerId}/start`)).status).toBe(404);
    expect((await agent.get('/s/portal/login')).text).not.toContain('Continue with Test ID');
    expect(await UserModel.countDocuments()).toBe(0);
  });

  it('refuses a new user where the site takes no registrations', async () => {
    await SiteModel.updateOne({ slug: 'portal' }, { $set: { selfRegistrationEnabled: false } });
    const res = await continueWith(request.agent(t.app), { login: 'ext-6', email: 'six@example.com' });
    expect(res.status).toBe(404);
    expect(await UserModel.countDocuments()).toBe(0);
    expect(await FederatedLinkModel.countDocuments()).toBe(0);
  });

  it('still asks a user with two-factor sign-in for their code', async () => {
    await continueWith(request.agent(t.app), { login: 'ext-9', email: 'nine@example.com' });
    await UserModel.updateOne({ email: 'nine@example.com' }, { $set: { mfaEnabled: true } });
    const agent = request.agent(t.app);
    const res = await continueWith(agent, { login: 'ext-9', email: 'nine@example.com' });
    expect(res.headers.location).toBe('/s/portal/login/code');
    expect((await agent.get('/s/portal/account')).status).toBe(302);
  });

  it('a sign-in through the provider during a deletion grace period cancels the deletion and says so', async () => {
    await continueWith(request.agent(t.app), { login: 'ext-leaving', email: 'leaving@example.com' });
    const user = (await UserModel.findOne({ email: 'leaving@example.com' }).lean())!;
    // No password to confirm with on the account page: an administrator asks, through the API.
    const { token } = await adminToken();
    const asked = await request(t.app)
      .post(`/api/v1/users/${user._id}/deletion`)
      .set('Authorization', `Bearer ${token}`)
      .send({});
    expect(asked.status).toBe(202);
    const agent = request.agent(t.app);
    const res = await continueWith(agent, { login: 'ext-leaving', email: 'leaving@example.com' });
    expect(res.headers.location).toBe('/s/portal/');
    expect(await DeletionRequestModel.exists({ _id: user._id })).toBeNull();
    expect(await AuditEventModel.countDocuments({ action: 'user.deletion_cancelled', 'target.id': user._id })).toBe(1);
    expect((await agent.get('/s/portal/')).text).toContain('You signed in, so your account will not be deleted.');
  });

  it("refuses a deactivated user's linked account", async () => {
    const agent = request.agent(t.app);
    await continueWith(agent, { login: 'ext-7', email: 'seven@example.com' });
    await UserModel.updateOne({ email: 'seven@example.com' }, { $set: { isActive: false } });
    const res = await continueWith(request.agent(t.app), { login: 'ext-7', email: 'seven@example.com' });
    expect(res.status).toBe(401);
  });

  it('lists links on the account page; the last way to sign in cannot be removed, another can', async () => {
    const agent = request.agent(t.app);
    await continueWith(agent, { login: 'ext-8', email: 'eight@example.com', given: 'Eve' });
    const account = await agent.get('/s/portal/account');
    expect(account.text).toContain('id="linked-accounts"');
    const link = await FederatedLinkModel.findOne().lean();
    const action = `/s/portal/account/linked/${link!._id}/remove`;
    expect(account.text).toContain(`action="${action}"`);
    const refused = await postForm(agent, '/s/portal/account', action, {});
    expect(refused.status).toBe(409);
    expect(refused.text).toContain('only way you can sign in');
    expect(await FederatedLinkModel.countDocuments()).toBe(1);
    // With a password set, the link may go.
    await UserModel.updateOne({ _id: link!.user }, { $set: { passwordHash: await hashPassword(GOOD_PASSWORD) } });
    const removed = await postForm(agent, '/s/portal/account', action, {});
    expect(removed.status).toBe(303);
    expect(await FederatedLinkModel.countDocuments()).toBe(0);
    expect(await AuditEventModel.countDocuments({ action: 'user.identity_unlinked', 'target.id': link!.user })).toBe(1);
    expect((await agent.get('/s/portal/account')).text).not.toContain('id="linked-accounts"');
  });
});
