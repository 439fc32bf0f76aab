/**
 * Issue 26 item 1: admins (user page) and the API (PATCH) change a username, through the access module's
 * checks, audited; the user then signs in with the new username or their email. A taken username is 409
 * and changes nothing; someone without the right to edit the user changes nothing either.
 */
import request from 'supertest';
import { startTestApp, type TestApp } from '../../helpers/app';
import { adminAgent, makeAdmin, makeStaff } from '../../helpers/admin';
import { GOOD_PASSWORD, logIn, postForm, registerGuest } from '../../helpers/forms';
import { adminToken, staffToken } from '../api/tokens';
import { AuditEventModel, UserModel } from '../../../src/data/models';

let t: TestApp;
let token: string;
beforeAll(async () => {
  t = await startTestApp('admin-username-change', { env: { TRUST_PROXY: '1' } });
  await makeAdmin();
  token = (await adminToken()).token;
  await registerGuest(t.app, { email: 'rename@example.com' });
  await registerGuest(t.app, { email: 'holder@example.com' });
});
afterAll(() => t.stop());

const idOf = async (username: string) => String((await UserModel.findOne({ username }).lean())!._id);

it('an admin renames a user on the user page; audited; the user signs in with the new username and with their email', async () => {
  const admin = await adminAgent(t.app);
  const id = await idOf('rename@example.com');
  const page = await admin.get(`/admin/users/${id}`);
  expect(page.text).toContain('<label for="edit-username">Username</label>');
  const res = await postForm(admin, `/admin/users/${id}`, `/admin/users/${id}/edit`, {
    username: 'Renamed@Example.com',
    firstName: 'Ada',
    lastName: 'Lovelace',
    email: 'rename@example.com',
    communityNickname: 'rename',
    alias: 'alovelac',
  });
  expect(res.status).toBe(303);
  expect((await UserModel.findById(id).lean())!.username).toBe('renamed@example.com');
  expect(await AuditEventModel.findOne({ action: 'user.edited', 'target.id': id }).lean()).toMatchObject({
    before: { username: 'rename@example.com' },
    after: { username: 'Renamed@Example.com' },
  });
  expect((await logIn(request.agent(t.app), 'renamed@example.com', GOOD_PASSWORD, '10.9.0.1')).status).toBe(303);
  expect((await logIn(request.agent(t.app), 'rename@example.com', GOOD_PASSWORD, '10.9.0.1')).status).toBe(303);
});

it('the API renames with PATCH; a taken username is 409 username_taken and changes nothing', async () => {
  const id = await idOf('renamed@example.com');
  const taken = await request(t.app)
    .patch(`/api/v1/users/${id}`)
    .set('Authorization', `Bearer ${token}`)
    .send({ username: 'holder@example.com' });
  expect(taken.status).toBe(409);
  expect(taken.body.error.code).toBe('username_taken');
  expect((await UserModel.findById(id).lean())!.username).toBe('renamed@example.com');
  const ok = await request(t.app)
    .patch(`/api/v1/users/${id}`)
    .set('Authorization', `Bearer ${token}`)
    .send({ username: 'api.renamed@example.com' });
  expect(ok.status).toBe(200);
  expect(ok.body.username).toBe('api.renamed@example.com');
  const bad = await request(t.app)
    .patch(`/api/v1/users/${id}`)
    .set('Authorization', `Bearer ${token}`)
    .send({ username: 'not an address' });
  expect(bad.status).toBe(400);
  expect(Object.keys(bad.body.error.fields)).toEqual(['username']);
});

it('someone without the right to edit the user cannot rename them, on the page or by the API', async () => {
  const id = await idOf('api.renamed@example.com');
  const { token: weak } = await staffToken('nobody.api@example.com', []);
  const api = await request(t.app)
    .patch(`/api/v1/users/${id}`)
    .set('Authorization', `Bearer ${weak}`)
    .send({ username: 'stolen@example.com' });
  expect(api.status).toBe(403);
  await makeStaff('nobody.page@example.com', []);
  const page = await adminAgent(t.app, 'nobody.page@example.com');
  const res = await postForm(page, '/admin', `/admin/users/${id}/edit`, { username: 'stolen@example.com' });
  expect(res.status).toBe(403);
  expect((await UserModel.findById(id).lean())!.username).toBe('api.renamed@example.com');
  expect(await UserModel.exists({ username: 'stolen@example.com' })).toBeNull();
});
