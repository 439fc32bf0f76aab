/**
 * Data export (src/privacy/export.ts): the person from the account page, an administrator from the user
 * page, a token through GET /api/v1/users/{id}/export. The same JSON each time: profile, sign-in history,
 * sessions, consents, the audit of changes; never a secret; every export audited; others refused.
 */
import request from 'supertest';
import { startTestApp, type TestApp } from '../../helpers/app';
import { csrfFrom, logIn, postForm, registerGuest } from '../../helpers/forms';
import { adminAgent, makeAdmin } from '../../helpers/admin';
import { adminToken, staffToken } from '../api/tokens';
import { AuditEventModel, UserModel } from '../../../src/data/models';
import { EXPORT_FORMAT } from '../../../src/privacy';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp('privacy-export', { env: { TRUST_PROXY: '1' } });
  await makeAdmin();
});
afterAll(() => t.stop());

async function signedInGuest(email: string) {
  const { agent } = await registerGuest(t.app, { email });
  // A failed sign-in from elsewhere and a profile change: both must show in the export.
  await logIn(request.agent(t.app), email, 'not-the-password-1', '203.0.113.5');
  await postForm(agent, '/s/portal/account', '/s/portal/account', {
    firstName: 'Augusta',
    lastName: 'Lovelace',
    communityNickname: 'augusta',
    localeSidKey: 'en_GB',
    languageLocaleKey: 'en_US',
    timeZoneSidKey: 'Europe/London',
  });
  return agent;
}

const parse = (res: request.Response) =>
  JSON.parse(
    typeof res.body === 'object' && !Buffer.isBuffer(res.body) && Object.keys(res.body).length
      ? JSON.stringify(res.body)
      : res.text,
  );

it('the person downloads their data from the account page: a JSON attachment with profile, history, sessions, consents and the audit of changes, no secret, and the export audited', async () => {
  const agent = await signedInGuest('ada@example.com');
  const page = await agent.get('/s/portal/account');
  expect(page.text).toContain('Download your data');
  const res = await agent
    .post('/s/portal/account/export')
    .type('form')
    .send({ _csrf: csrfFrom(page.text) })
    .buffer(true)
    .parse((r, cb) => {
      let body = '';
      r.on('data', (c: Buffer) => (body += c.toString()));
      r.on('end', () => cb(null, body));
    });
  expect(res.status).toBe(200);
  expect(res.headers['content-type']).toMatch(/application\/json/);
  expect(res.headers['content-disposition']).toMatch(
    /^attachment; filename="?ada_example\.com-data-\d{4}-\d{2}-\d{2}\.json"?$/,
  );
  expect(res.headers['cache-control']).toBe('no-store');
  const text = res.body as string;
  const data = JSON.parse(text);
  const user = (await UserModel.findOne({ username: 'ada@example.com' }).select('+passwordHash').lean())!;
  expect(data.format).toBe(EXPORT_FORMAT);
  expect(data.profile).toMatchObject({
    id: String(user._id),
    username: 'ada@example.com',
    email: 'ada@example.com',
    firstName: 'Augusta',
    communityNickname: 'augusta',
    timeZone: 'Europe/London',
    license: 'External Identity',
    site: { slug: 'portal' },
    hasContact: false,
  });
  expect(data.signInHistory.map((e: { outcome: string }) => e.outcome).sort()).toEqual(['failure', 'success']);
  expect(data.signInHistory.find((e: { outcome: string }) => e.outcome === 'failure').ip).toBe('203.0.113.5');
  expect(data.sessions).toHaveLength(1);
  expect(data.sessions[0]).toMatchObject({ area: 'site', keptSignedIn: false, loginAs: false });
  expect(data.consents).toEqual([]);
  expect(data.communityRequests).toEqual([]);
  const actions = data.auditOfChanges.map((e: { action: string }) => e.action);
  expect(actions).toEqual(expect.arrayContaining(['user.registered', 'user.profile_updated']));
  expect(data.auditOfChanges.find((e: { action: string }) => e.action === 'user.profile_updated').after).toMatchObject({
    firstName: 'Augusta',
  });
  // Nothing secret: no hash, no second-factor material, no link token.
  expect(text).not.toContain(user.passwordHash!);
  expect(text).not.toMatch(/passwordHash|recoveryCodes|secret|"token"/);
  expect(
    await AuditEventModel.countDocuments({
      action: 'user.data_exported',
      'target.id': user._id,
      'actor.id': user._id,
      via: 'site',
    }),
  ).toBe(1);
});

it('an administrator exports a user from the admin area, and the API does the same with a token; both audited as theirs', async () => {
  await signedInGuest('grace@example.com');
  const user = (await UserModel.findOne({ username: 'grace@example.com' }).lean())!;
  const admin = await adminAgent(t.app);
  const page = await admin.get(`/admin/users/${user._id}`);
  expect(page.text).toContain('Download their data (JSON)');
  const res = await admin
    .post(`/admin/users/${user._id}/export`)
    .type('form')
    .send({ _csrf: csrfFrom(page.text) });
  expect(res.status).toBe(200);
  const fromAdmin = parse(res);
  expect(fromAdmin.profile.username).toBe('grace@example.com');
  expect(fromAdmin.signInHistory.length).toBeGreaterThanOrEqual(2);
  expect(
    await AuditEventModel.countDocuments({
      action: 'user.data_exported',
      'target.id': user._id,
      'actor.username': 'admin@example.com',
      via: 'admin',
    }),
  ).toBe(1);

  const { token } = await adminToken();
  const api = await request(t.app).get(`/api/v1/users/${user._id}/export`).set('Authorization', `Bearer ${token}`);
  expect(api.status).toBe(200);
  expect(api.body.format).toBe(EXPORT_FORMAT);
  expect(api.body.profile.email).toBe('grace@example.com');
  expect(api.body.sessions).toHaveLength(1);
  expect(
    await AuditEventModel.countDocuments({
      action: 'user.data_exported',
      'target.id': user._id,
      'actor.username': 'api-admin@example.com',
      via: 'api',
    }),
  ).toBe(1);
});

it('refuses whoever may not view the user: a token without the permission (403, nothing audited), an unknown id (404), a guest (sign-in first)', async () => {
  const user = (await UserModel.findOne({ username: 'grace@example.com' }).lean())!;
  const before = await AuditEventModel.countDocuments({ action: 'user.data_exported' });
  const { token } = await staffToken('no-rights@example.com', []);
  const refused = await request(t.app).get(`/api/v1/users/${user._id}/export`).set('Authorization', `Bearer ${token}`);
  expect(refused.status).toBe(403);
  expect(refused.body.error.code).toBe('forbidden');
  const { token: admin } = await adminToken('api-admin2@example.com');
  const unknown = await request(t.app)
    .get('/api/v1/users/665f0c0c0c0c0c0c0c0c0c0c/export')
    .set('Authorization', `Bearer ${admin}`);
  expect(unknown.status).toBe(404);
  expect(await AuditEventModel.countDocuments({ action: 'user.data_exported' })).toBe(before);
  const guest = request.agent(t.app);
  const page = await guest.get('/s/portal/login');
  const res = await guest
    .post('/s/portal/account/export')
    .type('form')
    .send({ _csrf: csrfFrom(page.text) });
  expect(res.status).toBe(302);
  expect(res.headers.location).toMatch(/\/s\/portal\/login\?returnTo=/);
});
