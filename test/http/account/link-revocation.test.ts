/**
 * A pending email change, and every other outstanding link, dies when the account's security changes:
 * the owner changes the password, ends other sessions, resets the password by link, or an admin sends a
 * reset link, ends all sessions or resets two-factor. And an email change link confirms only for its
 * owner, signed in (a visitor is sent to sign in, then back to the link).
 */
import request from 'supertest';
import { startTestApp, type TestApp } from '../../helpers/app';
import { adminAgent, makeAdmin } from '../../helpers/admin';
import { GOOD_PASSWORD, logIn, postForm, registerGuest } from '../../helpers/forms';
import { linkIn, tokenOf } from '../../helpers/mail';
import { ActionTokenModel, UserModel } from '../../../src/data/models';
import { sendResetLink } from '../../../src/account/recovery';

const NEW_PASSWORD = 'harbour-quince-meteor-58';
let t: TestApp;
beforeAll(async () => {
  t = await startTestApp('lifecycle-link-revocation', { env: { TRUST_PROXY: '1' } });
  await makeAdmin();
});
afterAll(() => t.stop());

let ipCounter = 0;
const freshIp = () => `10.9.${Math.floor(++ipCounter / 250)}.${ipCounter % 250}`;

/** The owner registers; the "attacker" signs in with the password elsewhere and asks to move the account to their address. */
async function pendingTakeover(owner: string, attackerAddress: string) {
  const { agent: ownerAgent } = await registerGuest(t.app, { email: owner });
  const attacker = request.agent(t.app);
  expect((await logIn(attacker, owner, GOOD_PASSWORD, freshIp())).status).toBe(303);
  expect(
    (
      await postForm(attacker, '/s/portal/account', '/s/portal/account/email', {
        newEmail: attackerAddress,
        password: GOOD_PASSWORD,
      })
    ).status,
  ).toBe(303);
  // A reset link outstanding too (the owner once asked for one).
  const user = (await UserModel.findOne({ username: owner }))!;
  await sendResetLink(user, { area: 'site', siteSlug: 'portal' });
  const emailLink = await linkIn(attackerAddress, /Confirm your new email/);
  const resetLink = await linkIn(owner, /Reset/);
  return { ownerAgent, attacker, user, emailLink, resetLink };
}

/** The links no longer work, for anyone: the page says cancelled (410) and the email is unchanged. */
async function expectDead(owner: string, password: string, emailLink: string, resetLink: string) {
  const signedIn = request.agent(t.app);
  expect((await logIn(signedIn, owner, password, freshIp())).status).toBe(303);
  const page = await signedIn.get(emailLink);
  expect(page.status).toBe(410);
  expect(page.text).toContain('This link was cancelled');
  const post = await postForm(signedIn, '/s/portal/account', '/s/portal/confirm-email', { token: tokenOf(emailLink) });
  expect(post.status).toBe(410);
  expect((await request(t.app).get(resetLink)).status).toBe(410);
  expect((await UserModel.findOne({ username: owner }).lean())!.email).toBe(owner);
  expect(
    await ActionTokenModel.countDocuments({
      user: (await UserModel.findOne({ username: owner }).lean())!._id,
      usedAt: null,
      revokedAt: null,
    }),
  ).toBe(0);
}

describe('confirming an email change needs the owner signed in', () => {
  it('sends a visitor to sign in and back, refuses a post without sign-in and another account, and confirms for the owner', async () => {
    const { agent } = await registerGuest(t.app, { email: 'owner1@example.com' });
    await postForm(agent, '/s/portal/account', '/s/portal/account/email', {
      newEmail: 'owner1-new@example.com',
      password: GOOD_PASSWORD,
    });
    const link = await linkIn('owner1-new@example.com', /Confirm your new email/);

    const visitor = request.agent(t.app);
    const open = await visitor.get(link);
    expect(open.status).toBe(302);
    expect(open.headers.location).toBe(`/s/portal/login?returnTo=${encodeURIComponent(link)}`);
    const anonymous = await postForm(visitor, '/s/portal/login', '/s/portal/confirm-email', { token: tokenOf(link) });
    expect(anonymous.status).toBe(403);
    expect(anonymous.text).toContain('Sign in to confirm the change of your email address.');

    const { agent: other } = await registerGuest(t.app, { email: 'someone-else@example.com' });
    expect((await other.get(link)).status).toBe(403);
    const wrong = await postForm(other, '/s/portal/account', '/s/portal/confirm-email', { token: tokenOf(link) });
    expect(wrong.status).toBe(403);
    expect(wrong.text).toContain('This link is for another account.');
    expect((await UserModel.findOne({ username: 'owner1@example.com' }).lean())!.email).toBe('owner1@example.com');

    // Sign in, then continue: the login page takes the owner back to the link.
    const login = await postForm(visitor, open.headers.location, '/s/portal/login', {
      username: 'owner1@example.com',
      password: GOOD_PASSWORD,
      returnTo: link,
    });
    expect(login.status).toBe(303);
    expect(login.headers.location).toBe(link);
    expect((await visitor.get(link)).text).toContain('Make <strong>owner1-new@example.com</strong>');
    const done = await postForm(visitor, link, '/s/portal/confirm-email', { token: tokenOf(link) });
    expect(done.status).toBe(200);
    // The username followed the confirmed address (it was the old email).
    expect((await UserModel.findOne({ username: 'owner1-new@example.com' }).lean())!.email).toBe(
      'owner1-new@example.com',
    );
  });
});

describe('every outstanding link is cancelled', () => {
  it('when the owner changes the password', async () => {
    const { ownerAgent, emailLink, resetLink } = await pendingTakeover('pw@example.com', 'pw-thief@example.com');
    const res = await postForm(ownerAgent, '/s/portal/account', '/s/portal/account/password', {
      currentPassword: GOOD_PASSWORD,
      newPassword: NEW_PASSWORD,
    });
    expect(res.status).toBe(303);
    await expectDead('pw@example.com', NEW_PASSWORD, emailLink, resetLink);
  });

  it('when the owner ends other sessions', async () => {
    const { ownerAgent, attacker, emailLink, resetLink } = await pendingTakeover(
      'sess@example.com',
      'sess-thief@example.com',
    );
    expect((await postForm(ownerAgent, '/s/portal/account', '/s/portal/account/sessions/end-others', {})).status).toBe(
      303,
    );
    expect((await attacker.get('/s/portal/account')).status).toBe(302);
    await expectDead('sess@example.com', GOOD_PASSWORD, emailLink, resetLink);
  });

  it('when the password is reset with a link', async () => {
    const { emailLink, user } = await pendingTakeover('reset@example.com', 'reset-thief@example.com');
    await sendResetLink(user, { area: 'site', siteSlug: 'portal' });
    const reset = await linkIn('reset@example.com', /Reset/);
    const res = await postForm(request.agent(t.app), reset, '/s/portal/reset', {
      token: tokenOf(reset),
      password: NEW_PASSWORD,
      passwordConfirm: NEW_PASSWORD,
    });
    expect(res.status).toBe(303);
    const signedIn = request.agent(t.app);
    expect((await logIn(signedIn, 'reset@example.com', NEW_PASSWORD, freshIp())).status).toBe(303);
    expect((await signedIn.get(emailLink)).status).toBe(410);
    expect((await UserModel.findOne({ username: 'reset@example.com' }).lean())!.email).toBe('reset@example.com');
  });

  it('when an admin sends a reset link (only the new link works)', async () => {
    const { user, emailLink, resetLink } = await pendingTakeover('admin-reset@example.com', 'ar-thief@example.com');
    const admin = await adminAgent(t.app);
    expect(
      (await postForm(admin, `/admin/users/${user._id}`, `/admin/users/${user._id}/reset-password`, {})).status,
    ).toBe(303);
    const fresh = await linkIn('admin-reset@example.com', /Reset/);
    expect(fresh).not.toBe(resetLink);
    const signedIn = request.agent(t.app);
    expect((await logIn(signedIn, 'admin-reset@example.com', GOOD_PASSWORD, freshIp())).status).toBe(303);
    expect((await signedIn.get(emailLink)).status).toBe(410);
    expect((await request(t.app).get(resetLink)).status).toBe(404); // replaced by the new one
    expect((await request(t.app).get(fresh)).status).toBe(200);
  });

  it('when an admin ends all sessions', async () => {
    const { user, emailLink, resetLink } = await pendingTakeover('admin-end@example.com', 'ae-thief@example.com');
    const admin = await adminAgent(t.app);
    expect(
      (await postForm(admin, `/admin/users/${user._id}`, `/admin/users/${user._id}/sessions/end`, {})).status,
    ).toBe(303);
    await expectDead('admin-end@example.com', GOOD_PASSWORD, emailLink, resetLink);
  });

  it('when an admin resets two-factor', async () => {
    const { user, emailLink, resetLink } = await pendingTakeover('admin-mfa@example.com', 'am-thief@example.com');
    await UserModel.updateOne(
      { _id: user._id },
      {
        $set: {
          mfaEnabled: true,
          mfa: {
            secret: 'JBSWY3DPEHPK3PXP',
            pendingSecret: null,
            enabledAt: new Date(),
            lastStep: 0,
            recoveryCodes: [],
          },
        },
      },
    );
    const admin = await adminAgent(t.app);
    expect(
      (await postForm(admin, `/admin/users/${user._id}`, `/admin/users/${user._id}/two-factor/reset`, {})).status,
    ).toBe(303);
    expect((await UserModel.findById(user._id).lean())!.mfaEnabled).toBe(false);
    await expectDead('admin-mfa@example.com', GOOD_PASSWORD, emailLink, resetLink);
  });
});
