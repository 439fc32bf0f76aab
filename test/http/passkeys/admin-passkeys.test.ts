/**
 * The admin user page lists a user's passkeys; an admin who may reset the user's password may remove
 * one (audited, the user told by mail); staff who may not manage the user remove nothing.
 */
import request from 'supertest';
import { startTestApp, type TestApp } from '../../helpers/app';
import { adminAgent, makeAdmin, makeStaff } from '../../helpers/admin';
import { csrfFrom, postForm, registerGuest } from '../../helpers/forms';
import { createPasskey } from '../../helpers/webauthn';
import { AuditEventModel, MailMessageModel, PasskeyModel, UserModel } from '../../../src/data/models';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp('http-admin-passkeys');
  await makeAdmin();
  await makeStaff('internal-only@example.com', ['manageInternalUsers']);
});
afterAll(() => t.stop());

const PAGE = '/s/portal/account/passkeys';

async function userWithPasskey(email: string, name: string) {
  const { agent } = await registerGuest(t.app, { email });
  const token = csrfFrom((await agent.get(PAGE)).text);
  const options = await agent.post(`${PAGE}/options`).set('X-CSRF-Token', token).send({});
  const { response } = createPasskey(options.body, 'http://localhost:3000');
  const res = await agent
    .post(PAGE)
    .type('form')
    .send({ _csrf: csrfFrom((await agent.get(PAGE)).text), name, response });
  expect(res.status).toBe(303);
  const user = (await UserModel.findOne({ email }))!;
  return { user, passkey: (await PasskeyModel.findOne({ user: user._id }))! };
}

async function removeAs(agent: request.Agent, userId: string, passkeyId: string) {
  const page = await agent.get(`/admin/users/${userId}`);
  return agent
    .post(`/admin/users/${userId}/passkeys/${passkeyId}/remove`)
    .type('form')
    .send({ _csrf: csrfFrom(page.text) });
}

it("lists the user's passkeys on the user page, and an admin removes one: gone, audited, the user told", async () => {
  const { user, passkey } = await userWithPasskey('admin-pk@example.com', 'Lost phone');
  const admin = await adminAgent(t.app);
  const page = await admin.get(`/admin/users/${user._id}`);
  expect(page.text).toMatch(/<table id="user-passkeys"[\s\S]*Lost phone[\s\S]*aria-label="Remove passkey Lost phone"/);
  const res = await removeAs(admin, String(user._id), String(passkey._id));
  expect(res.status).toBe(303);
  expect(await PasskeyModel.exists({ _id: passkey._id })).toBeNull();
  const audit = await AuditEventModel.findOne({ action: 'user.passkey_removed', 'target.id': user._id }).lean();
  expect(audit?.actor?.username).toBe('admin@example.com');
  expect(
    await MailMessageModel.countDocuments({
      to: 'admin-pk@example.com',
      subject: 'A passkey was removed from your account',
    }),
  ).toBe(1);
  expect((await admin.get(`/admin/users/${user._id}`)).text).toContain('No passkeys.');
});

it('refuses staff who may not manage the user (404: not theirs to see), and removes nothing', async () => {
  const { user, passkey } = await userWithPasskey('admin-pk-kept@example.com', 'Kept');
  const staff = await adminAgent(t.app, 'internal-only@example.com');
  const page = await staff.get('/admin/');
  const res = await staff
    .post(`/admin/users/${user._id}/passkeys/${passkey._id}/remove`)
    .type('form')
    .send({ _csrf: csrfFrom(page.text) });
  // A user the staff member may not manage is one they cannot see: 404, as for every user action.
  expect(res.status).toBe(404);
  expect(await PasskeyModel.exists({ _id: passkey._id })).not.toBeNull();
  expect(await AuditEventModel.countDocuments({ action: 'user.passkey_removed', 'target.id': user._id })).toBe(0);
});

it("answers 404 for a passkey that is not this user's", async () => {
  const a = await userWithPasskey('admin-pk-a@example.com', 'A key');
  const b = await userWithPasskey('admin-pk-b@example.com', 'B key');
  const admin = await adminAgent(t.app);
  const res = await removeAs(admin, String(a.user._id), String(b.passkey._id));
  expect(res.status).toBe(404);
  expect(await PasskeyModel.exists({ _id: b.passkey._id })).not.toBeNull();
});

it("lets an admin in a Login As session neither add nor remove the user's passkeys", async () => {
  const { user, passkey } = await userWithPasskey('admin-pk-loginas@example.com', 'Theirs');
  const admin = await adminAgent(t.app);
  // Login As is for users with a contact (never contactless ones).
  expect(
    (
      await postForm(admin, '/admin', `/admin/users/${user._id}/contact`, {
        lastName: 'Watched',
        accountName: 'Watch Co',
      })
    ).status,
  ).toBe(303);
  expect((await postForm(admin, '/admin', `/admin/users/${user._id}/login-as`, {})).status).toBe(303);
  const token = csrfFrom((await admin.get(PAGE)).text);
  const options = await admin.post(`${PAGE}/options`).set('X-CSRF-Token', token).send({});
  const { response } = createPasskey(options.body, 'http://localhost:3000');
  const add = await admin
    .post(PAGE)
    .type('form')
    .send({ _csrf: csrfFrom((await admin.get(PAGE)).text), name: 'Planted', response });
  expect(add.status).toBe(403);
  const remove = await admin
    .post(`${PAGE}/${passkey._id}/remove`)
    .type('form')
    .send({ _csrf: csrfFrom((await admin.get(PAGE)).text), password: 'whatever-it-is-1' });
  expect(remove.status).toBe(403);
  expect((await PasskeyModel.find({ user: user._id }).lean()).map((p) => p.name)).toEqual(['Theirs']);
});
