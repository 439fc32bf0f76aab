/**
 * Sessions and sign-in history: the account page lists where the user is signed in (device, IP, times,
 * this device) and ends one or all others; the history shows successes and failures; admins see both and
 * end every session (page and API); history expires after LOGIN_HISTORY_DAYS through a TTL index.
 */
import request from 'supertest';
import { startTestApp, type TestApp } from '../../helpers/app';
import { adminAgent, makeAdmin } from '../../helpers/admin';
import { csrfFrom, GOOD_PASSWORD, logIn, postForm, registerGuest } from '../../helpers/forms';
import { adminToken, staffToken } from '../api/tokens';
import { rowsOf } from '../../helpers/account-page';
import { AuditEventModel, LoginEventModel, UserModel } from '../../../src/data/models';

const FIREFOX_WINDOWS = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0';
const CHROME_MAC =
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36';
const SAFARI_IPHONE =
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp('lifecycle-sessions', { env: { TRUST_PROXY: '1', LOGIN_HISTORY_DAYS: '7' } });
  await makeAdmin();
});
afterAll(() => t.stop());

async function signedIn(email: string, ua: string, ip: string) {
  const agent = request.agent(t.app).set('User-Agent', ua);
  const res = await logIn(agent, email, GOOD_PASSWORD, ip);
  expect(res.status).toBe(303);
  return agent;
}
const welcomed = async (agent: request.Agent) => (await agent.get('/s/portal/')).text.includes('Welcome, ');

it('lists the sessions with device, IP and times, marks this device, and ends one', async () => {
  await registerGuest(t.app, { email: 'sam@example.com' });
  const laptop = await signedIn('sam@example.com', FIREFOX_WINDOWS, '10.0.0.1');
  const phone = await signedIn('sam@example.com', SAFARI_IPHONE, '10.0.0.2');
  const page = await laptop.get('/s/portal/account');
  expect(page.status).toBe(200);
  const rows = rowsOf(page.text, 'sessions').map((r) => [r.cells[0], r.cells[1], r.className.includes('current')]);
  expect(rows).toEqual(
    expect.arrayContaining([
      ['Firefox on Windows this device', 'Unknown place 10.0.0.1', true],
      ['Safari on iOS', 'Unknown place 10.0.0.2', false],
    ]),
  );
  // Times are relative, with the exact time in the person's zone (GMT here) in the title.
  expect(rowsOf(page.text, 'sessions')[0].html).toMatch(
    /<time datetime="\d{4}-\d\d-\d\dT[^"]+Z" title="\d{1,2} \w{3} \d{4}, \d\d:\d\d UTC">now<\/time>/,
  );

  const phoneRow =
    /<input type="hidden" name="id" value="([^"]+)">\s*<input type="hidden" name="area" value="site">/.exec(page.text)!;
  const res = await laptop
    .post('/s/portal/account/sessions/end')
    .type('form')
    .send({ _csrf: csrfFrom(page.text), id: phoneRow[1], area: 'site' });
  expect(res.status).toBe(303);
  expect(await welcomed(phone)).toBe(false);
  expect(await welcomed(laptop)).toBe(true);
  // Ending it again, or someone else's, is a 404; a strange area a 422.
  const again = await postForm(laptop, '/s/portal/account', '/s/portal/account/sessions/end', {
    id: phoneRow[1],
    area: 'site',
  });
  expect(again.status).toBe(404);
  expect(
    (await postForm(laptop, '/s/portal/account', '/s/portal/account/sessions/end', { id: 'x', area: 'everywhere' }))
      .status,
  ).toBe(422);
});

it("names the country of a public IP from the offline database, in the person's time zone", async () => {
  await registerGuest(t.app, { email: 'abroad@example.com' });
  await UserModel.updateOne({ username: 'abroad@example.com' }, { $set: { timeZoneSidKey: 'Asia/Tokyo' } });
  const agent = await signedIn('abroad@example.com', FIREFOX_WINDOWS, '81.2.69.142');
  const page = (await agent.get('/s/portal/account')).text;
  const row = rowsOf(page, 'sessions').find((r) => r.className.includes('current'))!;
  expect(row.cells[1]).toBe('United Kingdom 81.2.69.142');
  expect(row.html).toMatch(/title="\d{1,2} \w{3} \d{4}, \d\d:\d\d GMT\+9"/);
  expect(rowsOf(page, 'history')[0].cells.slice(1)).toEqual([
    'Signed in (password)',
    'Firefox on Windows',
    'United Kingdom 81.2.69.142',
  ]);
});

it('ends all other sessions and keeps this one', async () => {
  await registerGuest(t.app, { email: 'many@example.com' });
  const a = await signedIn('many@example.com', CHROME_MAC, '10.0.1.1');
  const b = await signedIn('many@example.com', FIREFOX_WINDOWS, '10.0.1.2');
  const c = await signedIn('many@example.com', SAFARI_IPHONE, '10.0.1.3');
  const res = await postForm(a, '/s/portal/account', '/s/portal/account/sessions/end-others', {});
  expect(res.status).toBe(303);
  expect([await welcomed(a), await welcomed(b), await welcomed(c)]).toEqual([true, false, false]);
  expect(rowsOf((await a.get('/s/portal/account')).text, 'sessions')).toHaveLength(1);
  const user = await UserModel.findOne({ username: 'many@example.com' }).lean();
  expect(await AuditEventModel.countDocuments({ action: 'user.other_sessions_ended', 'target.id': user!._id })).toBe(1);
});

it('shows successes and failures in the sign-in history, kept LOGIN_HISTORY_DAYS by a TTL index', async () => {
  await registerGuest(t.app, { email: 'hist@example.com' });
  await logIn(request.agent(t.app).set('User-Agent', CHROME_MAC), 'hist@example.com', 'wrong-password-zz', '10.0.2.1');
  const agent = await signedIn('hist@example.com', FIREFOX_WINDOWS, '10.0.2.2');
  const page = await agent.get('/s/portal/account');
  const history = page.text.slice(page.text.indexOf('id="history"'));
  const rows = rowsOf(history, 'history').map((r) => r.cells.slice(1));
  expect(rows).toEqual(
    expect.arrayContaining([
      ['Signed in (password)', 'Firefox on Windows', 'Unknown place 10.0.2.2'],
      ['Failed', 'Chrome on macOS', 'Unknown place 10.0.2.1'],
    ]),
  );
  const user = await UserModel.findOne({ username: 'hist@example.com' }).lean();
  const events = await LoginEventModel.find({ user: user!._id }).lean();
  for (const e of events) expect(e.expiresAt.getTime() - e.at.getTime()).toBe(7 * 24 * 3_600_000);
  const indexes = await LoginEventModel.collection.indexes();
  expect(indexes.find((i) => i.key.expiresAt === 1)).toMatchObject({ expireAfterSeconds: 0 });
  // An unknown username is recorded the same way (equal work), under no user: nobody's history shows it.
  await logIn(request.agent(t.app), 'ghost@example.com', 'wrong-password-zz', '10.0.2.3');
  expect(await LoginEventModel.find({ ip: '10.0.2.3' }).lean()).toEqual([
    expect.objectContaining({ user: null, username: 'ghost@example.com', outcome: 'failure' }),
  ]);
  expect((await agent.get('/s/portal/account')).text).not.toContain('10.0.2.3');
});

it('lets an admin see the sessions and history and end them all; the API too', async () => {
  await registerGuest(t.app, { email: 'ended@example.com' });
  const x = await signedIn('ended@example.com', CHROME_MAC, '10.0.3.1');
  const user = (await UserModel.findOne({ username: 'ended@example.com' }).lean())!;
  const admin = await adminAgent(t.app);
  const page = await admin.get(`/admin/users/${user._id}`);
  expect(page.text).toMatch(
    /<table id="user-sessions" class="cards">[\s\S]*<td data-label="Device">Chrome on macOS<\/td><td data-label="Where">site<\/td><td data-label="IP">10\.0\.3\.1<\/td>/,
  );
  expect(page.text).toMatch(
    /<table id="login-history" class="cards">[\s\S]*<td data-label="Result">Signed in \(password\)<\/td><td data-label="IP">10\.0\.3\.1<\/td>/,
  );
  expect((await postForm(admin, `/admin/users/${user._id}`, `/admin/users/${user._id}/sessions/end`, {})).status).toBe(
    303,
  );
  expect(await welcomed(x)).toBe(false);
  expect((await admin.get(`/admin/users/${user._id}`)).text).toContain('No active sessions.');
  expect(await AuditEventModel.countDocuments({ action: 'user.sessions_ended', 'target.id': user._id })).toBe(1);

  const y = await signedIn('ended@example.com', CHROME_MAC, '10.0.3.2');
  const { token } = await adminToken();
  const del = await request(t.app).delete(`/api/v1/users/${user._id}/sessions`).set('Authorization', `Bearer ${token}`);
  expect(del.status).toBe(204);
  expect(await welcomed(y)).toBe(false);
  expect(
    (
      await request(t.app)
        .delete('/api/v1/users/0123456789abcdef01234567/sessions')
        .set('Authorization', `Bearer ${token}`)
    ).status,
  ).toBe(404);
  const weak = await staffToken('weak@example.com', ['viewAuditTrail']);
  const z = await signedIn('ended@example.com', CHROME_MAC, '10.0.3.3');
  const refused = await request(t.app)
    .delete(`/api/v1/users/${user._id}/sessions`)
    .set('Authorization', `Bearer ${weak.token}`);
  expect(refused.status).toBe(403);
  expect(await welcomed(z)).toBe(true);
});
