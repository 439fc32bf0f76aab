/**
 * Passkeys through the site's pages, as the page's script drives them (options by fetch with the CSRF
 * token in a header, the answer posted as a form), with a software authenticator: the account's passkeys
 * page (add, rename, remove with the password), signing in with one, the second step, and the hostile
 * cases (a challenge used twice, another origin, another rpID, an unknown passkey, a counter that went back).
 */
import request from 'supertest';
import { startTestApp, type TestApp } from '../../helpers/app';
import { GOOD_PASSWORD, csrfFrom, logIn, postForm, registerGuest } from '../../helpers/forms';
import { createPasskey, signWithPasskey, type SoftPasskey, type Tamper } from '../../helpers/webauthn';
import { enrolThroughPages } from '../../helpers/totp';
import { AuditEventModel, LoginEventModel, MailMessageModel, PasskeyModel, UserModel } from '../../../src/data/models';

let t: TestApp;
const ORIGIN = 'http://localhost:3000';
beforeAll(async () => {
  t = await startTestApp('http-passkeys', { env: { TRUST_PROXY: '1', LOGIN_MAX_FAILS_PER_USER_IP: '3' } });
});
afterAll(() => t.stop());

let ipN = 0;
const nextIp = () => `10.9.${Math.floor(++ipN / 250)}.${ipN % 250}`;
const PAGE = '/s/portal/account/passkeys';
const welcomed = async (agent: request.Agent) => (await agent.get('/s/portal/')).text.includes('Welcome, ');

/** The options the page's script fetches: POST with the page's CSRF token in X-CSRF-Token. */
async function optionsFrom(agent: request.Agent, page: string, url: string, ip?: string) {
  const token = csrfFrom((await agent.get(page)).text);
  const req = agent.post(url).set('X-CSRF-Token', token).set('Accept', 'application/json').send({});
  if (ip) req.set('X-Forwarded-For', ip);
  return req;
}

async function addPasskey(agent: request.Agent, name = 'Laptop', tamper: Tamper = {}) {
  const options = await optionsFrom(agent, PAGE, `${PAGE}/options`);
  expect(options.status).toBe(200);
  const { passkey, response } = createPasskey(options.body, ORIGIN, tamper);
  const res = await postForm(agent, PAGE, PAGE, { name, response });
  return { passkey, response, res };
}

async function passkeySignIn(passkey: SoftPasskey, tamper: Tamper = {}, ip = nextIp(), agent = request.agent(t.app)) {
  const options = await optionsFrom(agent, '/s/portal/login', '/s/portal/login/passkey/options', ip);
  expect(options.status).toBe(200);
  const response = signWithPasskey(passkey, options.body, ORIGIN, tamper);
  const res = await postForm(agent, '/s/portal/login', '/s/portal/login/passkey', { response }, ip);
  return { agent, res, response };
}

describe("the account's passkeys page", () => {
  it('adds a named passkey: listed on the page and on the account page, audited, with a security notice', async () => {
    const { agent } = await registerGuest(t.app, { email: 'pk-add@example.com' });
    const { res } = await addPasskey(agent, 'Work laptop');
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe(`${PAGE}?saved=added`);
    const page = await agent.get(`${PAGE}?saved=added`);
    expect(page.text).toContain('Passkey added.');
    expect(page.text).toMatch(/<strong class="passkey-name">Work laptop<\/strong>/);
    expect((await agent.get('/s/portal/account')).text).toContain('You have 1 passkey.');
    const user = (await UserModel.findOne({ email: 'pk-add@example.com' }))!;
    expect(await AuditEventModel.countDocuments({ action: 'user.passkey_added', 'target.id': user._id })).toBe(1);
    expect(
      await MailMessageModel.countDocuments({
        to: 'pk-add@example.com',
        subject: 'A passkey was added to your account',
      }),
    ).toBe(1);
  });

  it('refuses the same answer twice (the challenge is used once), and another origin or rpID, with nothing written', async () => {
    const { agent } = await registerGuest(t.app, { email: 'pk-hostile@example.com' });
    const { response } = await addPasskey(agent, 'One');
    const again = await postForm(agent, PAGE, PAGE, { name: 'Two', response });
    expect(again.status).toBe(422);
    expect(again.text).toContain('That passkey request expired or was already used.');
    for (const tamper of [{ origin: 'http://localhost:4000' }, { rpID: 'evil.example' }]) {
      const { res } = await addPasskey(agent, 'Bad', tamper);
      expect(res.status).toBe(422);
      expect(res.text).toContain('The passkey was not created.');
    }
    const user = (await UserModel.findOne({ email: 'pk-hostile@example.com' }))!;
    expect((await PasskeyModel.find({ user: user._id }).lean()).map((p) => p.name)).toEqual(['One']);
  });

  it('refuses options without the CSRF token, and the page to someone signed out', async () => {
    const { agent } = await registerGuest(t.app, { email: 'pk-csrf@example.com' });
    const res = await agent.post(`${PAGE}/options`).send({});
    expect(res.status).toBe(403);
    const anonymous = await request(t.app).get(PAGE);
    expect(anonymous.status).toBe(302);
    expect(anonymous.headers.location).toMatch(/\/s\/portal\/login\?returnTo=/);
  });

  it('renames a passkey; an empty name is shown next to that passkey and changes nothing', async () => {
    const { agent } = await registerGuest(t.app, { email: 'pk-rename@example.com' });
    await addPasskey(agent, 'Old name');
    const p = (await PasskeyModel.findOne({ name: 'Old name' }))!;
    const empty = await postForm(agent, PAGE, `${PAGE}/${p._id}/rename`, { name: '  ' });
    expect(empty.status).toBe(422);
    expect(empty.text).toMatch(new RegExp(`id="pk-${p._id}-name-error">Give this passkey a name`));
    const ok = await postForm(agent, PAGE, `${PAGE}/${p._id}/rename`, { name: 'Phone' });
    expect(ok.status).toBe(303);
    expect((await PasskeyModel.findById(p._id))!.name).toBe('Phone');
  });

  it('removes a passkey only with the right password; sends a notice and audits it', async () => {
    const { agent } = await registerGuest(t.app, { email: 'pk-remove@example.com' });
    await addPasskey(agent, 'Doomed');
    const p = (await PasskeyModel.findOne({ name: 'Doomed' }))!;
    const wrong = await postForm(agent, PAGE, `${PAGE}/${p._id}/remove`, { password: 'not-my-password' });
    expect(wrong.status).toBe(422);
    expect(await PasskeyModel.exists({ _id: p._id })).not.toBeNull();
    const other = await registerGuest(t.app, { email: 'pk-remove-other@example.com' });
    expect((await postForm(other.agent, PAGE, `${PAGE}/${p._id}/remove`, { password: GOOD_PASSWORD })).status).toBe(
      404,
    );
    expect(await PasskeyModel.exists({ _id: p._id })).not.toBeNull();
    const ok = await postForm(agent, PAGE, `${PAGE}/${p._id}/remove`, { password: GOOD_PASSWORD });
    expect(ok.status).toBe(303);
    expect(await PasskeyModel.exists({ _id: p._id })).toBeNull();
    expect(await AuditEventModel.countDocuments({ action: 'user.passkey_removed', 'target.id': p.user })).toBe(1);
    expect(
      await MailMessageModel.countDocuments({
        to: 'pk-remove@example.com',
        subject: 'A passkey was removed from your account',
      }),
    ).toBe(1);
  });
});

describe('signing in with a passkey', () => {
  it('offers autofill on the username field and serves the browser library from the portal itself', async () => {
    const page = await request(t.app).get('/s/portal/login');
    expect(page.text).toContain('autocomplete="username webauthn"');
    expect(page.text).toContain('<script src="/js/vendor/simplewebauthn-browser.js"></script>');
    const lib = await request(t.app).get('/js/vendor/simplewebauthn-browser.js');
    expect(lib.status).toBe(200);
    expect(lib.headers['content-type']).toMatch(/javascript/);
    expect(lib.text).toContain('SimpleWebAuthnBrowser');
  });

  it('stores no session for a visitor who only opens the log in page; the options request stores the one challenge', async () => {
    const sessions = t.db.connection.db!.collection('sessions');
    const before = await sessions.countDocuments();
    const visitor = request.agent(t.app);
    await visitor.get('/s/portal/login');
    expect(await sessions.countDocuments()).toBe(before);
    const options = await optionsFrom(visitor, '/s/portal/login', '/s/portal/login/passkey/options');
    expect(options.status).toBe(200);
    expect(await sessions.countDocuments()).toBe(before + 1);
    const stored = await sessions.find().sort({ _id: -1 }).toArray();
    const sessionOf = (d: Record<string, unknown>) =>
      (typeof d.session === 'string' ? JSON.parse(d.session) : d.session) as {
        passkeyChallenge?: { challenge: string };
      };
    expect(stored.map((d) => sessionOf(d).passkeyChallenge?.challenge)).toContain(options.body.challenge);
  });

  it('signs in with a fresh session id, records the method in the history, and skips the code step', async () => {
    const { agent } = await registerGuest(t.app, { email: 'pk-signin@example.com' });
    await enrolThroughPages(agent);
    const { passkey } = await addPasskey(agent);
    const visitor = request.agent(t.app);
    const options = await optionsFrom(visitor, '/s/portal/login', '/s/portal/login/passkey/options');
    const before = /portal\.sid=([^;]+)/.exec(String(options.headers['set-cookie']))?.[1];
    expect(options.body.userVerification).toBe('required');
    const res = await postForm(visitor, '/s/portal/login', '/s/portal/login/passkey', {
      response: signWithPasskey(passkey, options.body, ORIGIN),
      returnTo: '/s/portal/account',
    });
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe('/s/portal/account');
    const after = /portal\.sid=([^;]+)/.exec(String(res.headers['set-cookie']))?.[1];
    expect(before).toBeDefined();
    expect(after).toBeDefined();
    expect(after).not.toBe(before);
    expect(await welcomed(visitor)).toBe(true);
    const user = (await UserModel.findOne({ email: 'pk-signin@example.com' }))!;
    const last = await LoginEventModel.findOne({ user: user._id, outcome: 'success' }).sort({ at: -1 }).lean();
    expect(last?.method).toBe('passkey');
  });

  it('refuses a used challenge, a wrong origin, a wrong rpID, an unknown passkey and a counter that went back; records the failures', async () => {
    const { agent } = await registerGuest(t.app, { email: 'pk-hostile-signin@example.com' });
    const { passkey } = await addPasskey(agent);
    const user = (await UserModel.findOne({ email: 'pk-hostile-signin@example.com' }))!;
    const first = await passkeySignIn(passkey, { counter: 20 });
    expect(first.res.status).toBe(303);
    // The same answer again: its challenge was used (and the session is a new one since).
    const replay = await postForm(first.agent, '/s/portal/login', '/s/portal/login/passkey', {
      response: first.response,
    });
    expect(replay.status).toBe(401);
    for (const tamper of [
      { origin: 'https://evil.example' },
      { rpID: 'evil.example' },
      { counter: 20 },
      { counter: 3 },
      { userVerified: false },
    ]) {
      const { res, agent: a } = await passkeySignIn(passkey, { counter: 30, ...tamper });
      expect(res.status).toBe(401);
      expect(res.text).toContain('That passkey could not sign you in.');
      expect(await welcomed(a)).toBe(false);
    }
    const stranger = createPasskey({ challenge: 'x', rp: { id: 'localhost' }, user: { id: 'eA' } }, ORIGIN).passkey;
    expect((await passkeySignIn(stranger)).res.status).toBe(401);
    expect((await PasskeyModel.findOne({ credentialId: passkey.id }).lean())!.counter).toBe(20);
    expect(await LoginEventModel.countDocuments({ user: user._id, outcome: 'failure' })).toBe(6);
  });

  it('is throttled like passwords: after the limit the right passkey waits too', async () => {
    const { agent } = await registerGuest(t.app, { email: 'pk-throttle@example.com' });
    const { passkey } = await addPasskey(agent);
    const ip = nextIp();
    for (let i = 0; i < 3; i++)
      expect((await passkeySignIn(passkey, { origin: 'https://evil.example' }, ip)).res.status).toBe(401);
    const blocked = await passkeySignIn(passkey, {}, ip);
    expect(blocked.res.status).toBe(429);
    expect(await welcomed(blocked.agent)).toBe(false);
  });

  it("refuses a deactivated user's passkey", async () => {
    const { agent } = await registerGuest(t.app, { email: 'pk-inactive@example.com' });
    const { passkey } = await addPasskey(agent);
    await UserModel.updateOne({ email: 'pk-inactive@example.com' }, { $set: { isActive: false } });
    const { res, agent: a } = await passkeySignIn(passkey);
    expect(res.status).toBe(401);
    expect(await welcomed(a)).toBe(false);
  });
});

describe('a passkey as the second step', () => {
  it('is offered after the password to a user with two-factor and a passkey, and signs in', async () => {
    const { agent } = await registerGuest(t.app, { email: 'pk-second@example.com' });
    await enrolThroughPages(agent);
    const { passkey } = await addPasskey(agent);
    const visitor = request.agent(t.app);
    const ip = nextIp();
    const step = await logIn(visitor, 'pk-second@example.com', GOOD_PASSWORD, ip);
    expect(step.headers.location).toBe('/s/portal/login/code');
    const code = await visitor.get('/s/portal/login/code');
    expect(code.text).toContain('id="passkey-second"');
    const options = await optionsFrom(visitor, '/s/portal/login/code', '/s/portal/login/code/passkey/options', ip);
    expect(options.body.allowCredentials.map((c: { id: string }) => c.id)).toEqual([passkey.id]);
    const res = await postForm(
      visitor,
      '/s/portal/login/code',
      '/s/portal/login/code/passkey',
      { response: signWithPasskey(passkey, options.body, ORIGIN, { userVerified: false }) },
      ip,
    );
    expect(res.status).toBe(303);
    expect(await welcomed(visitor)).toBe(true);
    const user = (await UserModel.findOne({ email: 'pk-second@example.com' }))!;
    expect(
      (await LoginEventModel.findOne({ user: user._id, outcome: 'success' }).sort({ at: -1 }).lean())?.method,
    ).toBe('password+passkey');
  });

  it("refuses another user's passkey, and asks nobody who has not passed the password", async () => {
    const a = await registerGuest(t.app, { email: 'pk-second-a@example.com' });
    await enrolThroughPages(a.agent);
    await addPasskey(a.agent);
    const b = await registerGuest(t.app, { email: 'pk-second-b@example.com' });
    const { passkey: theirs } = await addPasskey(b.agent);
    const visitor = request.agent(t.app);
    await logIn(visitor, 'pk-second-a@example.com', GOOD_PASSWORD, nextIp());
    const options = await optionsFrom(visitor, '/s/portal/login/code', '/s/portal/login/code/passkey/options');
    const res = await postForm(visitor, '/s/portal/login/code', '/s/portal/login/code/passkey', {
      response: signWithPasskey(theirs, options.body, ORIGIN),
    });
    expect(res.status).toBe(401);
    expect(await welcomed(visitor)).toBe(false);
    const nobody = await optionsFrom(request.agent(t.app), '/s/portal/login', '/s/portal/login/code/passkey/options');
    expect(nobody.status).toBe(401);
  });
});
