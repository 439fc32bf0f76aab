/**
 * Two first callbacks racing for one new external account (two browsers, or a double submit, coming back
 * from the provider at once): they must end with one user and one link to it, never a user without a
 * link, and neither browser gets an error. Against a second oidc-provider started on loopback.
 */
import request from 'supertest';
import { startTestApp, type TestApp } from '../../helpers/app';
import { startExternalIdp, type ExternalIdp } from '../../helpers/external-idp';
import {
  AuditEventModel,
  FederatedLinkModel,
  IdentityProviderModel,
  SiteModel,
  UserModel,
} from '../../../src/data/models';
import { sealSecret } from '../../../src/federation/secret-box';
import { confirmPendingLink } from '../../../src/federation';
import { registerGuest } from '../../helpers/forms';

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
  [t, idp] = await Promise.all([
    startTestApp('first-callback-race', { env: { PUBLIC_URL } }),
    startExternalIdp([CLIENT]),
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
afterAll(async () => {
  await Promise.all([t.stop(), idp.stop()]);
});

const locationOf = (res: request.Response, base: string) => new URL(res.headers.location, base);

/** "Continue with" in this browser, signing in at the provider as `login`; returns the portal callback (path and query). */
async function atProvider(agent: request.Agent, login: string, email: string): Promise<string> {
  const start = await agent.get(`/s/portal/sso/${providerId}/start`);
  const auth = new URL(start.headers.location);
  const browser = request.agent(idp.issuer);
  let res = await browser.get(auth.pathname + auth.search);
  let where = locationOf(res, idp.issuer);
  res = await browser
    .post(where.pathname)
    .type('form')
    .send({ login, email, verified: 'yes', given_name: 'Rae', family_name: 'Race' });
  while (res.status >= 300 && res.status < 400) {
    where = locationOf(res, idp.issuer);
    if (where.origin !== idp.issuer) break;
    res = await browser.get(where.pathname + where.search);
  }
  expect(where.origin).toBe(PUBLIC_URL);
  return where.pathname + where.search;
}

it.each([1, 2, 3])(
  'two concurrent first callbacks (round %i) end with one user and one link to it, and neither browser gets an error',
  async (round) => {
    const email = `race-${round}@example.com`;
    const [a, b] = [request.agent(t.app), request.agent(t.app)];
    const callbacks = await Promise.all([
      atProvider(a, `ext-race-${round}`, email),
      atProvider(b, `ext-race-${round}`, email),
    ]);
    const answers = await Promise.all([a.get(callbacks[0]), b.get(callbacks[1])]);

    const users = await UserModel.find({ email }).lean();
    expect(users).toHaveLength(1);
    const links = await FederatedLinkModel.find({ subject: `ext-race-${round}` }).lean();
    expect(links).toHaveLength(1);
    expect(String(links[0].user)).toBe(String(users[0]._id));
    expect(await AuditEventModel.countDocuments({ action: 'user.identity_linked', 'target.id': users[0]._id })).toBe(1);
    // Each browser is signed in, or (when the other was still linking) asked to confirm: never an error page.
    for (const res of answers) {
      expect(res.status).toBe(303);
      expect(['/s/portal/', '/s/portal/sso/link']).toContain(res.headers.location);
    }
    expect(answers.some((r) => r.headers.location === '/s/portal/')).toBe(true);
    const signedIn = answers.findIndex((r) => r.headers.location === '/s/portal/');
    const home = await [a, b][signedIn].get('/s/portal/account').redirects(0);
    expect(home.status).toBe(200);
    expect(home.text).toContain(email);
  },
);

it('two concurrent confirmations of one pending link (a double submit) store and audit one link, neither refused', async () => {
  await registerGuest(t.app, { email: 'owner-race@example.com' });
  const owner = (await UserModel.findOne({ username: 'owner-race@example.com' }))!;
  const site = (await SiteModel.findOne({ slug: 'portal' }).lean())!;
  const pending = {
    providerId,
    providerName: 'Test ID',
    issuer: idp.issuer,
    subject: 'ext-owner-race',
    email: 'owner-race@example.com',
    userId: String(owner._id),
    siteSlug: 'portal',
    at: Date.now(),
  };
  const origin = { ip: '127.0.0.1', impersonator: null, userAgent: null };
  const results = await Promise.allSettled([
    confirmPendingLink(site as never, pending, owner, origin),
    confirmPendingLink(site as never, pending, owner, origin),
  ]);
  expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled']);
  const links = await FederatedLinkModel.find({ subject: 'ext-owner-race' }).lean();
  expect(links.map((l) => String(l.user))).toEqual([String(owner._id)]);
  expect(await AuditEventModel.countDocuments({ action: 'user.identity_linked', 'target.id': owner._id })).toBe(1);
});
