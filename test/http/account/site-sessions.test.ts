/** Session lifetime: idle and absolute limits, and the events that end every session of a user. */
import mongoose from 'mongoose';
import request from 'supertest';
import { startTestApp, type TestApp } from '../../helpers/app';
import { csrfFrom, GOOD_PASSWORD, logIn, registerGuest } from '../../helpers/forms';
import { UserModel } from '../../../src/data/models';
import { setUserActive } from '../../../src/qualification/qualification';
import { systemContext } from '../../../src/access/actor';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp('site-sessions');
});
afterAll(() => t.stop());

const sessions = () => mongoose.connection.db!.collection('sessions');
const signedIn = async (agent: request.Agent) => (await agent.get('/s/portal/')).text.includes('Welcome, ');

it('keeps sessions in MongoDB with an idle expiry of SESSION_IDLE_MINUTES', async () => {
  await registerGuest(t.app, { email: 'idle@example.com' });
  const doc = await sessions().findOne({ 'session.site': { $exists: true } });
  expect(doc).toBeTruthy();
  const minutesLeft = (doc!.expires.getTime() - Date.now()) / 60_000;
  expect(minutesLeft).toBeGreaterThan(29);
  expect(minutesLeft).toBeLessThanOrEqual(30);
  const indexes = await sessions().listIndexes().toArray();
  expect(indexes.some((i) => i.key.expires === 1 && i.expireAfterSeconds === 0)).toBe(true);
});

it('ends a session that has been idle past its expiry', async () => {
  const { agent } = await registerGuest(t.app, { email: 'idle2@example.com' });
  expect(await signedIn(agent)).toBe(true);
  await sessions().updateMany({}, { $set: { expires: new Date(Date.now() - 1000) } });
  expect(await signedIn(agent)).toBe(false);
});

it('ends a session past its absolute lifetime even while active', async () => {
  const { agent } = await registerGuest(t.app, { email: 'absolute@example.com' });
  expect(await signedIn(agent)).toBe(true);
  const thirteenHours = 13 * 3600 * 1000;
  await sessions().updateMany(
    { 'session.site': { $exists: true } },
    { $inc: { 'session.site.signedInAt': -thirteenHours } },
  );
  expect(await signedIn(agent)).toBe(false);
});

it('ends the other sessions when the password changes, keeping the current one', async () => {
  const { agent: first } = await registerGuest(t.app, { email: 'change@example.com' });
  const second = request.agent(t.app);
  expect((await logIn(second, 'change@example.com', GOOD_PASSWORD)).status).toBe(303);
  const account = await first.get('/s/portal/account');
  const res = await first
    .post('/s/portal/account/password')
    .type('form')
    .send({ _csrf: csrfFrom(account.text), currentPassword: GOOD_PASSWORD, newPassword: 'copper-meadow-lantern-58' });
  expect(res.status).toBe(303);
  expect(await signedIn(first)).toBe(true);
  expect(await signedIn(second)).toBe(false);
  expect((await logIn(request.agent(t.app), 'change@example.com', 'copper-meadow-lantern-58')).status).toBe(303);
});

it('refuses a password change without the right current password', async () => {
  const { agent } = await registerGuest(t.app, { email: 'wrongcurrent@example.com' });
  const account = await agent.get('/s/portal/account');
  const res = await agent
    .post('/s/portal/account/password')
    .type('form')
    .send({
      _csrf: csrfFrom(account.text),
      currentPassword: 'not-my-password',
      newPassword: 'copper-meadow-lantern-58',
    });
  expect(res.status).toBe(422);
  expect(res.text).toMatch(/current password is not correct/);
});

it('lets the user edit their details, refusing a nickname someone else has', async () => {
  const { agent } = await registerGuest(t.app, { email: 'editor@example.com' });
  await registerGuest(t.app, { email: 'taken@example.com' });
  let page = await agent.get('/s/portal/account');
  const fields = {
    firstName: 'Edith',
    lastName: 'Editor',
    communityNickname: 'edith',
    localeSidKey: 'de_DE',
    languageLocaleKey: 'ja_JP',
    timeZoneSidKey: 'Europe/Berlin',
  };
  const ok = await agent
    .post('/s/portal/account')
    .type('form')
    .send({ _csrf: csrfFrom(page.text), ...fields });
  expect(ok.status).toBe(303);
  expect(await UserModel.findOne({ username: 'editor@example.com' }).lean()).toMatchObject(fields);
  page = await agent.get('/s/portal/account');
  const clash = await agent
    .post('/s/portal/account')
    .type('form')
    .send({ _csrf: csrfFrom(page.text), ...fields, communityNickname: 'TAKEN' });
  expect(clash.status).toBe(409);
  const bad = await agent
    .post('/s/portal/account')
    .type('form')
    .send({ _csrf: csrfFrom(page.text), ...fields, timeZoneSidKey: 'Nowhere/Land', localeSidKey: 'english' });
  expect(bad.status).toBe(422);
  // The person's language is now Japanese (ja_JP above): the refusal is said in Japanese.
  expect(bad.text).toMatch(/IANA タイムゾーン/);
  expect(bad.text).not.toMatch(/IANA time zone/);
});

it('ends every session of a user who is deactivated, and refuses their sign-in', async () => {
  const { agent } = await registerGuest(t.app, { email: 'deactivated@example.com' });
  const user = await UserModel.findOne({ username: 'deactivated@example.com' });
  await setUserActive(user!._id, false, systemContext);
  expect(await signedIn(agent)).toBe(false);
  expect((await logIn(request.agent(t.app), 'deactivated@example.com', GOOD_PASSWORD)).status).toBe(401);
});
