/**
 * A sign-in during a deletion's grace period cancels the deletion at once, whatever the method: the
 * password alone, the password and a code, a recovery code or a passkey as the second step, a passkey
 * alone. Each ends in the one place every completed sign-in passes (src/signin/areas.ts), which the
 * deletion rules listen to: the request is gone from the database, the cancellation is audited, and the
 * next page says so once.
 */
import request from 'supertest';
import type { Types } from 'mongoose';
import { startTestApp, type TestApp } from '../../helpers/app';
import { GOOD_PASSWORD, csrfFrom, logIn, postForm, registerGuest } from '../../helpers/forms';
import { enrolThroughPages, totp } from '../../helpers/totp';
import { adminAgent, makeAdmin } from '../../helpers/admin';
import { createPasskey, signWithPasskey, type SoftPasskey } from '../../helpers/webauthn';
import { AuditEventModel, UserModel } from '../../../src/data/models';
import { DeletionRequestModel } from '../../../src/privacy/deletion-request.model';

let t: TestApp;
const ORIGIN = 'http://localhost:3000';
beforeAll(async () => {
  t = await startTestApp('privacy-deletion-cancel', { env: { TRUST_PROXY: '1' } });
});
afterAll(() => t.stop());

const NOTICE = 'You signed in, so your account will not be deleted.';
let ipN = 0;
const nextIp = () => `10.8.0.${++ipN}`;

async function optionsFrom(agent: request.Agent, page: string, url: string, ip: string) {
  const token = csrfFrom((await agent.get(page)).text);
  return agent
    .post(url)
    .set('X-CSRF-Token', token)
    .set('X-Forwarded-For', ip)
    .set('Accept', 'application/json')
    .send({});
}

async function addPasskey(agent: request.Agent): Promise<SoftPasskey> {
  const page = '/s/portal/account/passkeys';
  const options = await optionsFrom(agent, page, `${page}/options`, nextIp());
  const { passkey, response } = createPasskey(options.body, ORIGIN);
  expect((await postForm(agent, page, page, { name: 'Laptop', response })).status).toBe(303);
  return passkey;
}

/** The person asks for their deletion (signed out everywhere by it); returns their id. */
async function askDeletion(agent: request.Agent, email: string) {
  const user = (await UserModel.findOne({ username: email }).lean())!;
  const res = await postForm(agent, '/s/portal/account', '/s/portal/account/delete', { deletePassword: GOOD_PASSWORD });
  expect(res.status).toBe(202);
  expect(await DeletionRequestModel.exists({ _id: user._id })).not.toBeNull();
  return user._id;
}

/** Cancelled: the request gone, one audit event by the person, the notice on the next page and only there. */
async function expectCancelled(agent: request.Agent, signedIn: request.Response, userId: Types.ObjectId, ip: string) {
  expect(signedIn.status).toBe(303);
  expect(await DeletionRequestModel.exists({ _id: userId })).toBeNull();
  const audits = await AuditEventModel.find({ action: 'user.deletion_cancelled', 'target.id': userId }).lean();
  expect(audits).toHaveLength(1);
  expect(audits[0]).toMatchObject({ via: 'site', ip });
  expect(String(audits[0].actor!.id)).toBe(String(userId));
  const next = await agent.get(signedIn.headers.location);
  expect(next.status).toBe(200);
  expect(next.text).toContain(NOTICE);
  expect((await agent.get('/s/portal/account')).text).not.toContain(NOTICE);
}

it('the password alone', async () => {
  const email = 'by-password@example.com';
  const { agent } = await registerGuest(t.app, { email });
  const id = await askDeletion(agent, email);
  const visitor = request.agent(t.app);
  const ip = nextIp();
  await expectCancelled(visitor, await logIn(visitor, email, GOOD_PASSWORD, ip), id, ip);
});

it('the password and a code from the authenticator app', async () => {
  const email = 'by-totp@example.com';
  const { agent } = await registerGuest(t.app, { email });
  const { secret } = await enrolThroughPages(agent);
  const id = await askDeletion(agent, email);
  const visitor = request.agent(t.app);
  const ip = nextIp();
  expect((await logIn(visitor, email, GOOD_PASSWORD, ip)).headers.location).toBe('/s/portal/login/code');
  // Still pending while only the password is through.
  expect(await DeletionRequestModel.exists({ _id: id })).not.toBeNull();
  const res = await postForm(visitor, '/s/portal/login/code', '/s/portal/login/code', { code: totp(secret, 1) }, ip);
  await expectCancelled(visitor, res, id, ip);
});

it('the password and a recovery code', async () => {
  const email = 'by-recovery@example.com';
  const { agent } = await registerGuest(t.app, { email });
  const { codes } = await enrolThroughPages(agent);
  const id = await askDeletion(agent, email);
  const visitor = request.agent(t.app);
  const ip = nextIp();
  await logIn(visitor, email, GOOD_PASSWORD, ip);
  const res = await postForm(visitor, '/s/portal/login/code', '/s/portal/login/code', { code: codes[0] }, ip);
  await expectCancelled(visitor, res, id, ip);
});

it('the password and a passkey as the second step', async () => {
  const email = 'by-passkey-second@example.com';
  const { agent } = await registerGuest(t.app, { email });
  await enrolThroughPages(agent);
  const passkey = await addPasskey(agent);
  const id = await askDeletion(agent, email);
  const visitor = request.agent(t.app);
  const ip = nextIp();
  await logIn(visitor, email, GOOD_PASSWORD, ip);
  const options = await optionsFrom(visitor, '/s/portal/login/code', '/s/portal/login/code/passkey/options', ip);
  const res = await postForm(
    visitor,
    '/s/portal/login/code',
    '/s/portal/login/code/passkey',
    { response: signWithPasskey(passkey, options.body, ORIGIN) },
    ip,
  );
  await expectCancelled(visitor, res, id, ip);
});

it('a passkey alone', async () => {
  const email = 'by-passkey@example.com';
  const { agent } = await registerGuest(t.app, { email });
  const passkey = await addPasskey(agent);
  const id = await askDeletion(agent, email);
  const visitor = request.agent(t.app);
  const ip = nextIp();
  const options = await optionsFrom(visitor, '/s/portal/login', '/s/portal/login/passkey/options', ip);
  const res = await postForm(
    visitor,
    '/s/portal/login',
    '/s/portal/login/passkey',
    { response: signWithPasskey(passkey, options.body, ORIGIN) },
    ip,
  );
  await expectCancelled(visitor, res, id, ip);
});

it("an administrator's Login As does not cancel it: that is not the person coming back", async () => {
  const email = 'not-by-admin@example.com';
  const { agent } = await registerGuest(t.app, { email });
  const id = await askDeletion(agent, email);
  await makeAdmin('login-as-admin@example.com');
  const admin = await adminAgent(t.app, 'login-as-admin@example.com');
  // Login As is for users with a contact (never contactless ones).
  const contact = { lastName: 'Leaving', accountName: 'Leaving Co' };
  expect((await postForm(admin, '/admin', `/admin/users/${String(id)}/contact`, contact)).status).toBe(303);
  const res = await postForm(admin, '/admin', `/admin/users/${String(id)}/login-as`, {});
  expect(res.status).toBe(303);
  expect(await DeletionRequestModel.exists({ _id: id })).not.toBeNull();
  expect(await AuditEventModel.countDocuments({ action: 'user.deletion_cancelled', 'target.id': id })).toBe(0);
});
