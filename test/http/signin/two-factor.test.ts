/**
 * Two-factor sign-in (TOTP): enrolment with a QR code and key that start working only after a correct
 * code; ten recovery codes shown once, stored hashed, usable once; a second step after the password
 * (and after a reset link); codes accepted once and throttled like passwords; turning it off asks for
 * the password; an admin can reset it; a site can require it.
 */
import request from 'supertest';
import { startTestApp, type TestApp } from '../../helpers/app';
import { adminAgent, makeAdmin } from '../../helpers/admin';
import { GOOD_PASSWORD, logIn, postForm, registerGuest } from '../../helpers/forms';
import { recoveryCodesIn, savedThem, secretIn, totp } from '../../helpers/totp';
import { linkIn, tokenOf } from '../../helpers/mail';
import { AuditEventModel, LoginEventModel, SiteModel, UserModel } from '../../../src/data/models';
import { sendPasswordResetLinks } from '../../../src/account/recovery';
import { useSecondFactor } from '../../../src/signin/two-factor';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp('lifecycle-two-factor', { env: { TRUST_PROXY: '1', LOGIN_MAX_FAILS_PER_USER_IP: '3' } });
  await makeAdmin();
});
afterAll(() => t.stop());

let ipN = 0;
const ip = () => `10.7.${Math.floor(++ipN / 250)}.${ipN % 250}`;
const welcomed = async (agent: request.Agent) => (await agent.get('/s/portal/')).text.includes('Welcome, ');

/** Registers `email` and turns two-factor on; returns the secret and the recovery codes. */
async function enrolled(email: string) {
  const { agent } = await registerGuest(t.app, { email });
  const setup = await postForm(agent, '/s/portal/account/two-factor', '/s/portal/account/two-factor/setup', {});
  const secret = secretIn(setup.text);
  const done = await postForm(agent, '/s/portal/account/two-factor', '/s/portal/account/two-factor/enable', {
    code: totp(secret),
  });
  expect(done.status).toBe(200);
  const codes = recoveryCodesIn(done.text);
  expect((await savedThem(agent, '/s/portal/account/two-factor', codes)).status).toBe(303);
  return { agent, secret, codes };
}

async function passwordStep(email: string, at = ip(), password = GOOD_PASSWORD) {
  const agent = request.agent(t.app);
  const res = await logIn(agent, email, password, at);
  return { agent, res };
}
const codeStep = (agent: request.Agent, code: string, at?: string) =>
  postForm(agent, '/s/portal/login', '/s/portal/login/code', { code }, at);

describe('enrolment', () => {
  it('shows a QR code as a data: image and the key in #totp-secret, and turns on only after a correct code', async () => {
    const { agent } = await registerGuest(t.app, { email: 'enrol@example.com' });
    const page = await agent.get('/s/portal/account/two-factor');
    expect(page.text).toContain('Two-factor sign-in is off.');
    const setup = await postForm(agent, '/s/portal/account/two-factor', '/s/portal/account/two-factor/setup', {});
    expect(setup.status).toBe(200);
    expect(setup.text).toMatch(
      /<img src="data:image\/png;base64,[A-Za-z0-9+/=]+" alt="QR code of your two-factor key"/,
    );
    expect(setup.headers['content-security-policy']).toMatch(/img-src 'self' data:/);
    expect(setup.text).not.toMatch(/<script(?![^>]*src=)/);
    const secret = secretIn(setup.text);

    const wrong = await postForm(agent, '/s/portal/account/two-factor', '/s/portal/account/two-factor/enable', {
      code: '000000',
    });
    expect(wrong.status).toBe(422);
    expect(wrong.text).toContain('That code is not correct.');
    expect(secretIn(wrong.text)).toBe(secret); // the same key is shown again
    expect((await UserModel.findOne({ username: 'enrol@example.com' }).lean())!.mfaEnabled).toBe(false);

    const ok = await postForm(agent, '/s/portal/account/two-factor', '/s/portal/account/two-factor/enable', {
      code: totp(secret),
    });
    expect(ok.status).toBe(200);
    const codes = recoveryCodesIn(ok.text);
    expect(codes).toHaveLength(10);
    expect(new Set(codes).size).toBe(10);
    // Not on until "I saved them": refused without the box, the same codes are shown again; codes of
    // one's own choosing are refused.
    expect((await UserModel.findOne({ username: 'enrol@example.com' }).lean())!.mfaEnabled).toBe(false);
    const unticked = await savedThem(agent, '/s/portal/account/two-factor', codes, false);
    expect(unticked.status).toBe(422);
    expect(unticked.text).toContain('Save your recovery codes (copy, download or print them), then tick this box.');
    expect(recoveryCodesIn(unticked.text)).toEqual(codes);
    const planted = await savedThem(agent, '/s/portal/account/two-factor', ['aaaaa-aaaaa', ...codes.slice(1)]);
    expect(planted.status).toBe(409);
    expect(recoveryCodesIn(planted.text)).toEqual([]);
    expect((await UserModel.findOne({ username: 'enrol@example.com' }).lean())!.mfaEnabled).toBe(false);
    expect((await savedThem(agent, '/s/portal/account/two-factor', codes)).status).toBe(303);
    const stored = (await UserModel.findOne({ username: 'enrol@example.com' }).select('+mfa').lean())!;
    expect(stored.mfaEnabled).toBe(true);
    expect(stored.mfa!.secret).toBe(secret);
    expect(stored.mfa!.recoveryCodes).toHaveLength(10);
    expect(JSON.stringify(stored.mfa!.recoveryCodes)).not.toContain(codes[0]);
    expect(await AuditEventModel.countDocuments({ action: 'user.mfa_enabled', 'target.id': stored._id })).toBe(1);
    // Shown once: the page now shows the state, not the codes.
    const later = await agent.get('/s/portal/account/two-factor');
    expect(later.text).toContain('Recovery codes left: 10.');
    expect(recoveryCodesIn(later.text)).toEqual([]);
  });
});

describe('signing in', () => {
  it('asks for a code after the password; accepts a code once', async () => {
    const { secret } = await enrolled('second@example.com');
    const { agent, res } = await passwordStep('second@example.com');
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe('/s/portal/login/code');
    expect(await welcomed(agent)).toBe(false);
    const code = totp(secret, 1);
    const ok = await codeStep(agent, code);
    expect(ok.status).toBe(303);
    expect(ok.headers.location).toBe('/s/portal/');
    expect(await welcomed(agent)).toBe(true);

    const again = await passwordStep('second@example.com');
    const replay = await codeStep(again.agent, code);
    expect(replay.status).toBe(401);
    expect(replay.text).toContain('That code is not correct, or was already used.');
    expect(await welcomed(again.agent)).toBe(false);
  });

  it('accepts each recovery code once', async () => {
    const { codes } = await enrolled('recovery@example.com');
    const first = await passwordStep('recovery@example.com');
    expect((await codeStep(first.agent, codes[3].toUpperCase())).status).toBe(303);
    const second = await passwordStep('recovery@example.com');
    expect((await codeStep(second.agent, codes[3])).status).toBe(401);
    expect((await codeStep(second.agent, codes[4])).status).toBe(303);
    const user = (await UserModel.findOne({ username: 'recovery@example.com' }).select('+mfa').lean())!;
    expect(user.mfa!.recoveryCodes).toHaveLength(8);
  });

  it('throttles wrong codes like passwords, and records them in the history', async () => {
    const { secret } = await enrolled('throttle@example.com');
    const at = ip();
    const { agent } = await passwordStep('throttle@example.com', at);
    for (let i = 0; i < 3; i++) expect((await codeStep(agent, '123456', at)).status).toBe(401);
    const over = await codeStep(agent, totp(secret, 1), at);
    expect(over.status).toBe(429);
    expect(await welcomed(agent)).toBe(false);
    const user = (await UserModel.findOne({ username: 'throttle@example.com' }).lean())!;
    expect(await LoginEventModel.countDocuments({ user: user._id, outcome: 'failure', ip: at })).toBe(3);
  });

  it('refuses the code step without a password step, and hostile input', async () => {
    const cold = request.agent(t.app);
    expect((await cold.get('/s/portal/login/code')).status).toBe(303);
    const res = await codeStep(cold, '123456');
    expect(res.status).toBe(401);
    expect(res.text).toContain('Log in again.');
    await enrolled('hostile@example.com');
    const { agent } = await passwordStep('hostile@example.com');
    expect((await codeStep(agent, 'x'.repeat(5000))).status).toBe(422);
    expect((await codeStep(agent, ['123456', '654321'] as never)).status).toBe(422);
  });

  it('still asks for the second factor after a password reset link', async () => {
    const { secret } = await enrolled('reset2fa@example.com');
    await sendPasswordResetLinks('reset2fa@example.com', { area: 'site', siteSlug: 'portal' });
    const link = await linkIn('reset2fa@example.com', /Reset/);
    const agent = request.agent(t.app);
    const fresh = 'lighthouse-violin-parsnip-58';
    const res = await postForm(agent, link, '/s/portal/reset', {
      token: tokenOf(link),
      password: fresh,
      passwordConfirm: fresh,
    });
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe('/s/portal/login/code');
    expect(await welcomed(agent)).toBe(false);
    expect((await codeStep(agent, totp(secret, 1))).status).toBe(303);
    expect(await welcomed(agent)).toBe(true);
  });
});

describe('turning it off and resets', () => {
  it('asks for the password to turn it off', async () => {
    const { agent } = await enrolled('off@example.com');
    const wrong = await postForm(agent, '/s/portal/account/two-factor', '/s/portal/account/two-factor/disable', {
      password: 'not-it-at-all',
    });
    expect(wrong.status).toBe(422);
    expect((await UserModel.findOne({ username: 'off@example.com' }).lean())!.mfaEnabled).toBe(true);
    const ok = await postForm(agent, '/s/portal/account/two-factor', '/s/portal/account/two-factor/disable', {
      password: GOOD_PASSWORD,
    });
    expect(ok.status).toBe(303);
    expect((await agent.get(ok.headers.location)).text).toContain('Two-factor sign-in is now off.');
    expect((await passwordStep('off@example.com')).res.headers.location).toBe('/s/portal/');
  });

  it('lets an admin reset it: sessions end, audited', async () => {
    const { agent } = await enrolled('lost@example.com');
    const user = (await UserModel.findOne({ username: 'lost@example.com' }).lean())!;
    const admin = await adminAgent(t.app);
    expect((await admin.get(`/admin/users/${user._id}`)).text).toContain('<dd id="mfa-state">On</dd>');
    expect(
      (await postForm(admin, `/admin/users/${user._id}`, `/admin/users/${user._id}/two-factor/reset`, {})).status,
    ).toBe(303);
    expect(await welcomed(agent)).toBe(false);
    expect(await UserModel.findById(user._id).select('+mfa').lean()).toMatchObject({ mfaEnabled: false, mfa: null });
    expect(await AuditEventModel.countDocuments({ action: 'user.mfa_reset', 'target.id': user._id })).toBe(1);
    expect((await passwordStep('lost@example.com')).res.headers.location).toBe('/s/portal/');
  });
});

describe('a site that requires two-factor', () => {
  beforeAll(() => SiteModel.updateOne({ slug: 'portal' }, { $set: { requireMfa: true } }));
  afterAll(() => SiteModel.updateOne({ slug: 'portal' }, { $set: { requireMfa: false } }));

  it('sends a signed-in user without it to set it up first, then lets them in', async () => {
    const { agent } = await registerGuest(t.app, { email: 'must@example.com' });
    const home = await agent.get('/s/portal/');
    expect(home.status).toBe(303);
    expect(home.headers.location).toBe('/s/portal/account/two-factor');
    const page = await agent.get('/s/portal/account/two-factor');
    expect(page.text).toContain('This account must use two-factor sign-in.');
    expect(
      (await postForm(agent, '/s/portal/account/two-factor', '/s/portal/account', { firstName: 'X', lastName: 'Y' }))
        .status,
    ).toBe(403);
    const setup = await postForm(agent, '/s/portal/account/two-factor', '/s/portal/account/two-factor/setup', {});
    const shown = await postForm(agent, '/s/portal/account/two-factor', '/s/portal/account/two-factor/enable', {
      code: totp(secretIn(setup.text)),
    });
    await savedThem(agent, '/s/portal/account/two-factor', recoveryCodesIn(shown.text));
    expect(await welcomed(agent)).toBe(true);
  });
});

describe('recovery codes (issue 26 item 8)', () => {
  it('makes new codes with the password asked again: the old ones stop working, the new ones are shown once', async () => {
    const { agent, codes } = await enrolled('regen@example.com');
    const wrong = await postForm(agent, '/s/portal/account/two-factor', '/s/portal/account/two-factor/recovery-codes', {
      password: 'not-my-password-1',
    });
    expect(wrong.status).toBe(422);
    expect(recoveryCodesIn(wrong.text)).toEqual([]);
    const res = await postForm(agent, '/s/portal/account/two-factor', '/s/portal/account/two-factor/recovery-codes', {
      password: GOOD_PASSWORD,
    });
    expect(res.status).toBe(200);
    const fresh = recoveryCodesIn(res.text);
    expect(fresh).toHaveLength(10);
    expect(fresh.filter((c) => codes.includes(c))).toEqual([]);
    expect(res.text).toContain('data-download="recovery-codes-text"');
    const user = (await UserModel.findOne({ username: 'regen@example.com' }).lean())!;
    expect(
      await AuditEventModel.countDocuments({ action: 'user.mfa_recovery_codes_regenerated', 'target.id': user._id }),
    ).toBe(1);
    const old = await passwordStep('regen@example.com');
    expect((await codeStep(old.agent, codes[0])).status).toBe(401);
    expect((await codeStep(old.agent, fresh[0])).status).toBe(303);
    // A reused recovery code is refused, and signs nobody in.
    const reuse = await passwordStep('regen@example.com');
    expect((await codeStep(reuse.agent, fresh[0])).status).toBe(401);
    expect(await welcomed(reuse.agent)).toBe(false);
  });

  it('warns on the account page and the two-factor page when two or fewer are left', async () => {
    const { agent, codes } = await enrolled('few@example.com');
    const user = (await UserModel.findOne({ username: 'few@example.com' }).lean())!;
    for (const c of codes.slice(0, 7)) await useSecondFactor(user._id, c);
    expect((await agent.get('/s/portal/account')).text).not.toContain('id="few-codes-warning"');
    await useSecondFactor(user._id, codes[7]);
    const account = await agent.get('/s/portal/account');
    expect(account.text).toMatch(
      /id="few-codes-warning">Only 2 recovery codes are left\. <a href="\/s\/portal\/account\/two-factor#regenerate-codes">Make new recovery codes<\/a>/,
    );
    expect((await agent.get('/s/portal/account/two-factor')).text).toContain('Only 2 recovery codes are left.');
  });
});
