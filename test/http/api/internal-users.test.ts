/**
 * The rules found broken: an internal user never gets a contact (API, bulk, SCIM), SCIM never touches
 * internal users, and the admin list shows Contactless only for external users without a contact.
 */
import request from 'supertest';
import { Types } from 'mongoose';
import { startTestApp, type TestApp } from '../../helpers/app';
import { adminAgent, makeAdmin } from '../../helpers/admin';
import { adminToken } from './tokens';
import { AccountModel, ContactModel, ProfileModel, UserModel } from '../../../src/data/models';
import { createUsersInBulk } from '../../../src/ingest/bulk-import';
import { loadActor } from '../../../src/access/actor';

let t: TestApp;
let token: string;
let adminId: Types.ObjectId;
let contactId: string;
let staffProfileId: string;
beforeAll(async () => {
  t = await startTestApp('internal-users');
  ({ token, userId: adminId } = await adminToken());
  await makeAdmin();
  const account = await AccountModel.create({ name: 'Acme' });
  contactId = String((await ContactModel.create({ lastName: 'Free', account: account._id }))._id);
  staffProfileId = String((await ProfileModel.findOne({ name: 'Standard User' }).lean())!._id);
});
afterAll(() => t.stop());
const api = () => ({ post: (p: string) => request(t.app).post(p).set('Authorization', `Bearer ${token}`) });

it('the API refuses an internal user with a contact, and creates nothing', async () => {
  const res = await api()
    .post('/api/v1/users')
    .send({ lastName: 'Staff', email: 'staff-contact@example.com', profileId: staffProfileId, contactId });
  expect(res.status).toBe(409);
  expect(res.body.error.code).toBe('internal_user');
  expect(await UserModel.exists({ username: 'staff-contact@example.com' })).toBeNull();
});

it('a bulk row for an internal user with a contact fails with its reason; the others are created', async () => {
  const actor = (await loadActor(adminId))!;
  const ei = String((await ProfileModel.findOne({ name: 'External Identity User' }).lean())!._id);
  const results = await createUsersInBulk(
    [
      {
        userId: new Types.ObjectId(),
        input: { lastName: 'Bulk', email: 'bulk-staff@example.com', profileId: staffProfileId, contactId },
      },
      { userId: new Types.ObjectId(), input: { lastName: 'Bulk', email: 'bulk-guest@example.com', profileId: ei } },
    ],
    { actor, via: 'bulk' },
  );
  expect(results[0]).toMatchObject({ ok: false, code: 'internal_user' });
  expect(results[1]).toMatchObject({ ok: true });
  expect(await UserModel.exists({ username: 'bulk-staff@example.com' })).toBeNull();
});

it('SCIM never provisions an internal user, and leaves no contact behind', async () => {
  const contacts = await ContactModel.countDocuments();
  const res = await request(t.app)
    .post('/scim/v2/Users')
    .set('Authorization', `Bearer ${token}`)
    .set('Content-Type', 'application/scim+json')
    .send({
      schemas: ['urn:ietf:params:scim:schemas:core:2.0:User', 'urn:ietf:params:scim:schemas:extension:portal:2.0:User'],
      userName: 'scim-staff@example.com',
      name: { familyName: 'Staff' },
      emails: [{ value: 'scim-staff@example.com' }],
      'urn:ietf:params:scim:schemas:extension:portal:2.0:User': { accountName: 'Acme', profileId: staffProfileId },
    });
  expect(res.status).toBe(400);
  expect(res.body.detail).toMatch(/internal users are managed in the admin area/);
  expect(await UserModel.exists({ username: 'scim-staff@example.com' })).toBeNull();
  expect(await ContactModel.countDocuments()).toBe(contacts);
  // And an existing internal user is invisible to SCIM.
  expect((await request(t.app).get(`/scim/v2/Users/${adminId}`).set('Authorization', `Bearer ${token}`)).status).toBe(
    404,
  );
});

it('the admin list marks Contactless only external users without a contact', async () => {
  const agent = await adminAgent(t.app);
  const list = await agent.get('/admin/users?q=admin%40example.com');
  const row =
    /<tr>\s*<td data-label="Name"><a href="\/admin\/users\/[0-9a-f]+">Ada Admin<\/a><\/td>[\s\S]*?<\/tr>/.exec(
      list.text,
    )![0];
  expect(row).toContain('Internal');
  expect(row).not.toContain('Contactless');
  const guests = await agent.get('/admin/users?q=bulk-guest');
  expect(guests.text).toContain('badge-contactless');
  const adminPage = await agent.get(`/admin/users/${adminId}`);
  expect(adminPage.text).not.toContain('badge-contactless');
  expect(adminPage.text).toContain('Internal users (staff) never have a contact.');
});
