/**
 * Login As lets an admin see and help, never take the account over: while signed in as the user, the
 * admin can't set up or turn off two-factor sign-in (and so never sees a secret or the recovery codes),
 * nor change the password or the email. Each is refused with a message saying why, and nothing is written.
 */
import request from 'supertest';
import { startTestApp, type TestApp } from '../../helpers/app';
import { adminAgent, makeAdmin } from '../../helpers/admin';
import { csrfFrom, GOOD_PASSWORD, postForm, registerGuest } from '../../helpers/forms';
import { MailMessageModel, UserModel, type User } from '../../../src/data/models';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp('lifecycle-login-as-limits');
  await makeAdmin();
});
afterAll(() => t.stop());

const REFUSED = /not during Login As/;

/** A registrant with a contact, and an admin agent signed in as them through Login As. */
async function loggedInAs(email: string): Promise<{ admin: request.Agent; user: User & { _id: unknown } }> {
  await registerGuest(t.app, { email });
  const user = (await UserModel.findOne({ username: email }).lean())!;
  const admin = await adminAgent(t.app);
  expect(
    (
      await postForm(admin, '/admin', `/admin/users/${user._id}/contact`, {
        lastName: 'Helped',
        accountName: 'Help Co',
      })
    ).status,
  ).toBe(303);
  const start = await postForm(admin, '/admin', `/admin/users/${user._id}/login-as`, {});
  expect(start.headers.location).toBe('/s/portal/');
  expect((await admin.get('/s/portal/')).text).toContain('id="login-as-banner"');
  return { admin, user: (await UserModel.findById(user._id).lean()) as unknown as User & { _id: unknown } };
}

const stored = async (id: unknown) => (await UserModel.findById(id).select('+passwordHash +mfa').lean())!;

it('refuses two-factor setup: no secret, no QR code, nothing stored', async () => {
  const { admin, user } = await loggedInAs('helped-2fa@example.com');
  const res = await postForm(admin, '/s/portal/account/two-factor', '/s/portal/account/two-factor/setup', {});
  expect(res.status).toBe(403);
  expect(res.text).toMatch(REFUSED);
  expect(res.text).not.toMatch(/otpauth:|data:image/);
  const after = await stored(user._id);
  expect(after.mfaEnabled).toBe(false);
  expect(after.mfa?.pendingSecret ?? null).toBeNull();
  expect(after.mfa?.secret ?? null).toBeNull();
  const enable = await postForm(admin, '/s/portal/account/two-factor', '/s/portal/account/two-factor/enable', {
    code: '123456',
  });
  expect(enable.status).toBe(403);
  expect(enable.text).toMatch(REFUSED);
});

it('refuses turning two-factor off for a user who has it, keeping it on', async () => {
  const { admin, user } = await loggedInAs('helped-2fa-off@example.com');
  await UserModel.updateOne({ _id: user._id }, { $set: { mfaEnabled: true } });
  const res = await postForm(admin, '/s/portal/account/two-factor', '/s/portal/account/two-factor/disable', {
    password: GOOD_PASSWORD,
  });
  expect(res.status).toBe(403);
  expect(res.text).toMatch(REFUSED);
  expect((await stored(user._id)).mfaEnabled).toBe(true);
});

it('refuses a password change, keeping the password', async () => {
  const { admin, user } = await loggedInAs('helped-password@example.com');
  const before = (await stored(user._id)).passwordHash;
  const res = await postForm(admin, '/s/portal/account', '/s/portal/account/password', {
    currentPassword: GOOD_PASSWORD,
    newPassword: 'another-long-passphrase-42',
  });
  expect(res.status).toBe(403);
  expect(res.text).toMatch(REFUSED);
  expect((await stored(user._id)).passwordHash).toBe(before);
});

it('refuses an email change, mailing nothing and keeping the address', async () => {
  const { admin, user } = await loggedInAs('helped-email@example.com');
  const mails = await MailMessageModel.countDocuments();
  const page = await admin.get('/s/portal/account');
  const res = await admin
    .post('/s/portal/account/email')
    .type('form')
    .send({ _csrf: csrfFrom(page.text), newEmail: 'attacker@example.com', password: GOOD_PASSWORD });
  expect(res.status).toBe(403);
  expect(res.text).toMatch(REFUSED);
  expect((await stored(user._id)).email).toBe('helped-email@example.com');
  expect(await MailMessageModel.countDocuments()).toBe(mails);
});
