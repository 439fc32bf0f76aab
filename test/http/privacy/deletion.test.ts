/**
 * Account deletion end to end (src/privacy/deletion.ts) with an injected clock: asked for on the account
 * page with the password again, cancelled by signing in inside the grace period, erased by the sweep
 * after it with nothing left in any collection but the pseudonymous audit trail. Admins and the API ask
 * too; staff accounts are refused.
 */
import request from 'supertest';
import mongoose from 'mongoose';
import { startTestApp, type TestApp } from '../../helpers/app';
import { GOOD_PASSWORD, csrfFrom, logIn, postForm, registerGuest } from '../../helpers/forms';
import { adminToken } from '../api/tokens';
import { adminAgent, makeAdmin } from '../../helpers/admin';
import { enrolThroughPages, totp } from '../../helpers/totp';
import {
  ActionTokenModel,
  AuditEventModel,
  LicenseModel,
  JoinRequestModel,
  LoginEventModel,
  MailMessageModel,
  UserModel,
} from '../../../src/data/models';
import { DeletionRequestModel } from '../../../src/privacy/deletion-request.model';
import { leftBehind, pseudonymOf, sweepDueDeletions } from '../../../src/privacy';
import { secretFor } from '../../../src/config';

const DAY = 86_400_000;
let t: TestApp;
let clock = Date.now();
const now = () => new Date(clock);
beforeAll(async () => {
  t = await startTestApp('privacy-deletion', { now, env: { TRUST_PROXY: '1', DELETION_GRACE_DAYS: '14' } });
});
afterAll(() => t.stop());

const settings = () => ({ ...t.config.deletion, pseudonymKey: secretFor(t.config, 'audit-pseudonym') });
const sweep = () => sweepDueDeletions(settings(), { now });

async function askDeletion(agent: request.Agent, password: string) {
  return postForm(agent, '/s/portal/account', '/s/portal/account/delete', { deletePassword: password });
}

it('asks for the password again; a wrong one changes nothing', async () => {
  const { agent } = await registerGuest(t.app, { email: 'wrong@example.com' });
  const res = await askDeletion(agent, 'not-my-password-at-all');
  expect(res.status).toBe(422);
  expect(res.text).toContain('Your current password is not correct.');
  const user = (await UserModel.findOne({ username: 'wrong@example.com' }).lean())!;
  expect(await DeletionRequestModel.exists({ _id: user._id })).toBeNull();
  expect((await agent.get('/s/portal/account')).status).toBe(200);
});

it('a sign-in inside the grace period cancels the deletion and says so; the sweep then spares the user', async () => {
  const { agent } = await registerGuest(t.app, { email: 'changed-mind@example.com' });
  const user = (await UserModel.findOne({ username: 'changed-mind@example.com' }).lean())!;
  const asked = await askDeletion(agent, GOOD_PASSWORD);
  expect(asked.status).toBe(202);
  expect(asked.text).toContain('Your account will be deleted');
  const request0 = (await DeletionRequestModel.findById(user._id).lean())!;
  expect(request0.dueAt.getTime()).toBe(clock + 14 * DAY);
  // Signed out everywhere: the account page asks to sign in.
  expect((await agent.get('/s/portal/account')).status).toBe(302);
  clock += 13 * DAY;
  const back = await logIn(agent, 'changed-mind@example.com', GOOD_PASSWORD);
  // Every sign-in method cancels it in one place (test/http/privacy/deletion-cancel.test.ts); the next page says so.
  expect(back.headers.location).toBe('/s/portal/');
  expect((await agent.get(back.headers.location)).text).toContain(
    'You signed in, so your account will not be deleted.',
  );
  expect(await DeletionRequestModel.exists({ _id: user._id })).toBeNull();
  expect(await AuditEventModel.countDocuments({ action: 'user.deletion_cancelled', 'target.id': user._id })).toBe(1);
  clock += 2 * DAY;
  expect(await sweep()).toBe(0);
  expect(await UserModel.exists({ _id: user._id })).not.toBeNull();
});

it('after the grace period the sweep erases the user and everything naming them, keeping the audit trail under a pseudonym', async () => {
  const email = 'erase-me@example.com';
  const { agent } = await registerGuest(t.app, { email });
  const user = (await UserModel.findOne({ username: email }).lean())!;
  const seatsBefore = (await LicenseModel.findById(user.license).lean())!.usedSeats;
  // Leave traces everywhere: a failed sign-in (history, throttle key), a reset request (mail, token,
  // throttle key), a profile change (audit), a second session.
  await logIn(request.agent(t.app), email, 'wrong-password-here', '198.51.100.3');
  await postForm(request.agent(t.app), '/s/portal/forgot', '/s/portal/forgot', { email }, '198.51.100.4');
  await postForm(agent, '/s/portal/account', '/s/portal/account', {
    firstName: 'Eve',
    lastName: 'Erased',
    communityNickname: 'eve',
    localeSidKey: 'en_US',
    languageLocaleKey: 'en_US',
    timeZoneSidKey: 'GMT',
  });
  await logIn(request.agent(t.app), email, GOOD_PASSWORD);
  // An "ask to become a community member" request, in the person's own words.
  await postForm(agent, '/s/portal/account/community', '/s/portal/account/community/ask', {
    reason: 'Erased wants to join.',
  });
  expect(await JoinRequestModel.countDocuments({ user: user._id })).toBe(1);
  const db = mongoose.connection.db!;
  expect(await LoginEventModel.countDocuments({ user: user._id })).toBeGreaterThan(0);
  expect(await MailMessageModel.countDocuments({ to: email })).toBeGreaterThan(0);
  expect(await ActionTokenModel.countDocuments({ user: user._id })).toBeGreaterThan(0);
  expect(
    await db.collection('login_throttle').countDocuments({ key: { $regex: email.replace('.', '\\.') } }),
  ).toBeGreaterThan(0);
  expect(
    await db.collection('request_throttle').countDocuments({ key: { $regex: email.replace('.', '\\.') } }),
  ).toBeGreaterThan(0);

  const asked = await askDeletion(agent, GOOD_PASSWORD);
  expect(asked.status).toBe(202);
  expect(await db.collection('sessions').countDocuments({ 'session.site.userId': String(user._id) })).toBe(0);
  clock += 14 * DAY - 1000;
  expect(await sweep()).toBe(0);
  clock += 2000;
  expect(await sweep()).toBe(1);

  // Nothing left, collection by collection.
  expect(await UserModel.countDocuments({ $or: [{ _id: user._id }, { username: email }] })).toBe(0);
  expect(await LoginEventModel.countDocuments({ $or: [{ user: user._id }, { username: email }] })).toBe(0);
  expect(await MailMessageModel.countDocuments({ $or: [{ user: user._id }, { to: email }] })).toBe(0);
  expect(await ActionTokenModel.countDocuments({ user: user._id })).toBe(0);
  expect(
    await db.collection('sessions').countDocuments({
      $or: [{ 'session.site.userId': String(user._id) }, { 'session.admin.userId': String(user._id) }],
    }),
  ).toBe(0);
  expect(await db.collection('login_throttle').countDocuments({ key: { $regex: email.replace('.', '\\.') } })).toBe(0);
  expect(await db.collection('request_throttle').countDocuments({ key: { $regex: email.replace('.', '\\.') } })).toBe(
    0,
  );
  expect(await DeletionRequestModel.countDocuments({ _id: user._id })).toBe(0);
  const pseudonym = pseudonymOf(user._id, settings().pseudonymKey);
  expect(
    Object.values(await leftBehind({ id: user._id, username: email, email, pseudonym })).every((n) => n === 0),
  ).toBe(true);
  // Every collection in the database: no document mentions the id, the address or the name typed.
  for (const c of await db.listCollections().toArray()) {
    const docs = await db.collection(c.name).find({}).toArray();
    const text = JSON.stringify(docs);
    expect({
      collection: c.name,
      mentions: text.includes(String(user._id)) || text.includes(email) || text.includes('Erased'),
    }).toEqual({ collection: c.name, mentions: false });
  }
  // The trail is kept: the registration, the change and the deletion, under the pseudonym, values erased.
  const trail = await AuditEventModel.find({ 'target.label': pseudonym }).lean();
  expect(trail.map((e) => e.action)).toEqual(
    expect.arrayContaining(['user.registered', 'user.profile_updated', 'user.deletion_requested', 'user.erased']),
  );
  expect(trail.every((e) => e.target!.id === null)).toBe(true);
  expect(trail.find((e) => e.action === 'user.profile_updated')!.after).toMatchObject({ firstName: '[erased]' });
  // The seat went back with the user.
  expect((await LicenseModel.findById(user.license).lean())!.usedSeats).toBe(seatsBefore - 1);
});

it('an administrator token asks for a deletion through the API (202 with the due date); a staff account is refused with what to do instead', async () => {
  await registerGuest(t.app, { email: 'api-delete@example.com' });
  const user = (await UserModel.findOne({ username: 'api-delete@example.com' }).lean())!;
  const { token, userId: adminId } = await adminToken();
  const res = await request(t.app)
    .post(`/api/v1/users/${user._id}/deletion`)
    .set('Authorization', `Bearer ${token}`)
    .send({});
  expect(res.status).toBe(202);
  expect(new Date(res.body.dueAt).getTime()).toBe(clock + 14 * DAY);
  expect(
    await AuditEventModel.countDocuments({ action: 'user.deletion_requested', 'target.id': user._id, via: 'api' }),
  ).toBe(1);
  const staff = await request(t.app)
    .post(`/api/v1/users/${adminId}/deletion`)
    .set('Authorization', `Bearer ${token}`)
    .send({});
  expect(staff.status).toBe(409);
  expect(staff.body.error.message).toContain('deactivate the user instead');
  expect(await DeletionRequestModel.exists({ _id: adminId })).toBeNull();
});

it('an administrator asks from the user page through a confirmation page (who, what is kept, when); the request is audited as theirs and the user is signed out', async () => {
  await makeAdmin('page-admin@example.com');
  const { agent: guest } = await registerGuest(t.app, { email: 'by-admin@example.com', firstName: 'Bea' });
  const user = (await UserModel.findOne({ username: 'by-admin@example.com' }).lean())!;
  const admin = await adminAgent(t.app, 'page-admin@example.com');
  const page = await admin.get(`/admin/users/${user._id}`);
  expect(page.text).toContain(
    `<a class="button danger" href="/admin/users/${user._id}/deletion">Delete the account</a>`,
  );
  // The confirmation page asks first, writing nothing.
  const confirm = await admin.get(`/admin/users/${user._id}/deletion`);
  expect(confirm.status).toBe(200);
  expect(confirm.text).toContain('<h1>Delete the account of Bea Lovelace?</h1>');
  expect(confirm.text).toContain('<dt>Email</dt><dd>by-admin@example.com</dd>');
  const due = new Date(clock + 14 * DAY).toISOString();
  expect(confirm.text).toContain(`After the grace period of 14 days, on <time datetime="${due}">`);
  expect(confirm.text).toContain('The audit trail of their account, with them named by a pseudonym');
  expect(confirm.text).toContain("Their acceptances of the site's terms (version and date), under the same pseudonym");
  expect(confirm.text).toContain(`<form method="post" action="/admin/users/${user._id}/deletion">`);
  expect(await DeletionRequestModel.exists({ _id: user._id })).toBeNull();
  // Without the page's CSRF token: refused, nothing written.
  const forged = await admin.post(`/admin/users/${user._id}/deletion`).type('form').send({});
  expect(forged.status).toBe(403);
  expect(await DeletionRequestModel.exists({ _id: user._id })).toBeNull();
  const res = await admin
    .post(`/admin/users/${user._id}/deletion`)
    .type('form')
    .send({ _csrf: csrfFrom(confirm.text) });
  expect(res.status).toBe(303);
  expect((await admin.get(res.headers.location)).text).toContain(
    `the account is erased on ${due.slice(0, 10)} unless they sign in before then.`,
  );
  expect((await DeletionRequestModel.findById(user._id).lean())!.via).toBe('admin');
  expect(
    await AuditEventModel.countDocuments({
      action: 'user.deletion_requested',
      'target.id': user._id,
      'actor.username': 'page-admin@example.com',
      via: 'admin',
    }),
  ).toBe(1);
  expect((await guest.get('/s/portal/account')).status).toBe(302);
  // Asked again: the page says it is pending, with the first date.
  clock += DAY;
  const again = await admin.get(`/admin/users/${user._id}/deletion`);
  expect(again.text).toContain(`A deletion is already pending: the account is erased on <time datetime="${due}">`);
});

it('the confirmation page refuses a staff account in words, and an unknown user', async () => {
  await makeAdmin('page-admin2@example.com');
  const staff = (await UserModel.findOne({ username: 'page-admin2@example.com' }).lean())!;
  const admin = await adminAgent(t.app, 'page-admin2@example.com');
  const res = await admin.get(`/admin/users/${staff._id}/deletion`);
  expect(res.status).toBe(409);
  expect(res.text).toContain('Staff accounts are not deleted: deactivate the user instead');
  expect((await admin.get(`/admin/users/${new mongoose.Types.ObjectId()}/deletion`)).status).toBe(404);
});

it('with two-factor on, a current code stands in for the password; a wrong one is refused and changes nothing', async () => {
  const { agent } = await registerGuest(t.app, { email: 'with-code@example.com' });
  const { secret } = await enrolThroughPages(agent);
  const user = (await UserModel.findOne({ username: 'with-code@example.com' }).lean())!;
  const page = await agent.get('/s/portal/account');
  expect(page.text).toContain('Or a two-factor code');
  const wrong = await postForm(agent, '/s/portal/account', '/s/portal/account/delete', { deleteCode: '000000' });
  expect(wrong.status).toBe(422);
  expect(wrong.text).toContain('This code is not correct or was already used.');
  expect(await DeletionRequestModel.exists({ _id: user._id })).toBeNull();
  const nothing = await postForm(agent, '/s/portal/account', '/s/portal/account/delete', {});
  expect(nothing.text).toContain(
    'Enter your password, or a code from your authenticator app or a recovery code, to confirm.',
  );
  const ok = await postForm(agent, '/s/portal/account', '/s/portal/account/delete', { deleteCode: totp(secret, 1) });
  expect(ok.status).toBe(202);
  expect(await DeletionRequestModel.exists({ _id: user._id })).not.toBeNull();
});
