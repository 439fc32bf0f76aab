/**
 * Manage Internal Users is not a full administrator (issue 20, item 1): nobody grants a permission they
 * do not hold, nobody acts on a user with more rights, and changing a user's profile or permission sets
 * needs Manage Profiles and Permission Sets. The same rule holds for the admin pages, the API and bulk
 * ingest; every refusal is a 403 naming what is missing, and nothing is written.
 */
import request from 'supertest';
import { Types } from 'mongoose';
import { startTestApp, type TestApp } from '../../helpers/app';
import { adminAgent, makeAdmin, makeStaff } from '../../helpers/admin';
import { postForm } from '../../helpers/forms';
import { staffToken } from '../api/tokens';
import {
  ActionTokenModel,
  AuditEventModel,
  DelegatedAdminGroupModel,
  MailMessageModel,
  PermissionSetModel,
  ProfileModel,
  UserModel,
  type Permission,
} from '../../../src/data/models';
import { createUsersInBulk } from '../../../src/ingest/bulk-import';
import { loadActor } from '../../../src/access/actor';

let t: TestApp;
let rootId: Types.ObjectId;
let sysAdminProfileId: string;
const ALL_BUT_OUTBOX: Permission[] = [
  'manageInternalUsers',
  'manageCustomerUsers',
  'manageExternalUsers',
  'loginAs',
  'manageSites',
  'manageLicenses',
  'manageApiTokens',
  'viewAuditTrail',
  'manageProfiles',
];

beforeAll(async () => {
  t = await startTestApp('escalation');
  rootId = (await makeAdmin('root@example.com'))!._id;
  sysAdminProfileId = String((await ProfileModel.findOne({ name: 'System Administrator' }).lean())!._id);
});
afterAll(() => t.stop());

/** Everything a takeover could change: the user, their links and mails, the audit trail. */
async function snapshot(userId: Types.ObjectId) {
  const user = await UserModel.findById(userId).select('+passwordHash').lean();
  return JSON.stringify({
    user,
    tokens: await ActionTokenModel.countDocuments(),
    mails: await MailMessageModel.countDocuments(),
    events: await AuditEventModel.countDocuments(),
    users: await UserModel.countDocuments(),
    profiles: await ProfileModel.find().lean(),
    sets: await PermissionSetModel.find().lean(),
  });
}

describe('an actor with Manage Internal Users only', () => {
  let token: string;
  let selfId: Types.ObjectId;
  beforeAll(
    async () => ({ token, userId: selfId } = await staffToken('miu-only@example.com', ['manageInternalUsers'])),
  );
  const api = (method: 'post' | 'patch' | 'delete', path: string) =>
    request(t.app)[method](`/api/v1${path}`).set('Authorization', `Bearer ${token}`);

  it('cannot move itself to System Administrator (API): 403 naming Manage Profiles, nothing written', async () => {
    const before = await snapshot(selfId);
    const res = await api('post', `/users/${selfId}/profile`).send({ profileId: sysAdminProfileId });
    expect(res.status).toBe(403);
    expect(res.body.error.permission).toBe('manageProfiles');
    expect(await snapshot(selfId)).toBe(before);
  });

  it('cannot create a System Administrator with a password of its choice (API): 403 naming a permission it lacks, nothing written', async () => {
    const before = await snapshot(selfId);
    const res = await api('post', '/users').send({
      lastName: 'Evil',
      email: 'evil@example.com',
      profileId: sysAdminProfileId,
      password: 'violet-harbor-tractor-91',
    });
    expect(res.status).toBe(403);
    expect(res.body.error.message).toContain('System Administrator');
    expect(res.body.error.message).toContain('nobody grants a permission they do not hold');
    expect(['manageCustomerUsers', 'manageProfiles', 'loginAs']).toContain(res.body.error.permission);
    expect(await UserModel.exists({ username: 'evil@example.com' })).toBeNull();
    expect(await snapshot(selfId)).toBe(before);
  });

  it.each([
    ['change the email of', 'patch', '', { email: 'attacker@example.com' }],
    ['send a reset link to / invite', 'post', '/invitation', {}],
    ['end the sessions of', 'delete', '/sessions', undefined],
    ['deactivate', 'post', '/deactivate', {}],
  ] as const)(
    'cannot %s root (API): 403 naming what it lacks, nothing written',
    async (_what, method, suffix, body) => {
      const before = await snapshot(rootId);
      const req = api(method, `/users/${rootId}${suffix}`);
      const res = body === undefined ? await req : await req.send(body);
      expect(res.status).toBe(403);
      expect(res.body.error.message).toContain('root@example.com holds permissions you do not');
      expect(await snapshot(rootId)).toBe(before);
    },
  );

  it('cannot edit root, reset their two-factor, send them a reset link or deactivate them in the admin area', async () => {
    await makeStaff('miu-page@example.com', ['manageInternalUsers']);
    const agent = await adminAgent(t.app, 'miu-page@example.com');
    const page = `/admin/users/${rootId}`;
    const before = await snapshot(rootId);
    for (const [action, fields] of [
      ['edit', { firstName: 'Owned', lastName: 'Root', email: 'attacker@example.com' }],
      ['two-factor/reset', {}],
      ['reset-password', {}],
      ['deactivate', {}],
      ['sessions/end', {}],
      ['verification', {}],
    ] as [string, Record<string, string>][]) {
      const res = await postForm(agent, '/admin', `${page}/${action}`, fields);
      expect([action, res.status]).toEqual([action, 403]);
      expect(res.text).toContain('holds permissions you do not');
    }
    expect(await snapshot(rootId)).toBe(before);
  });

  it("root's user page offers it no edit or dangerous action; a lesser user's page does", async () => {
    const agent = await adminAgent(t.app, 'miu-page@example.com');
    const rootPage = await agent.get(`/admin/users/${rootId}`);
    expect(rootPage.status).toBe(200);
    expect(rootPage.text).not.toContain(`/admin/users/${rootId}/edit"`);
    expect(rootPage.text).not.toContain(`/admin/users/${rootId}/sessions/end`);
    const lesser = await makeStaff('lesser@example.com', []);
    const lesserPage = await agent.get(`/admin/users/${lesser._id}`);
    expect(lesserPage.text).toContain(`/admin/users/${lesser._id}/edit"`);
    expect(lesserPage.text).toContain(`/admin/users/${lesser._id}/sessions/end`);
  });
});

describe('an actor holding everything but View Mail Outbox', () => {
  let token: string;
  let selfId: Types.ObjectId;
  beforeAll(async () => ({ token, userId: selfId } = await staffToken('almost@example.com', ALL_BUT_OUTBOX)));
  const api = (method: 'post' | 'patch' | 'delete', path: string) =>
    request(t.app)[method](`/api/v1${path}`).set('Authorization', `Bearer ${token}`);

  it('cannot give itself the System Administrator profile or a set carrying View Mail Outbox: 403 naming viewOutbox', async () => {
    const set = await PermissionSetModel.create({ name: 'Outbox readers', permissions: { viewOutbox: true } });
    const before = await snapshot(selfId);
    const profile = await api('post', `/users/${selfId}/profile`).send({ profileId: sysAdminProfileId });
    expect(profile.status).toBe(403);
    expect(profile.body.error.permission).toBe('viewOutbox');
    const assigned = await api('post', `/users/${selfId}/permission-sets`).send({ permissionSetId: String(set._id) });
    expect(assigned.status).toBe(403);
    expect(assigned.body.error.permission).toBe('viewOutbox');
    expect(await snapshot(selfId)).toBe(before);
  });

  it('cannot add View Mail Outbox to its own profile, nor create or clone one carrying it', async () => {
    const own = await ProfileModel.findById((await UserModel.findById(selfId).lean())!.profile).lean();
    const before = await snapshot(selfId);
    const edit = await api('patch', `/profiles/${own!._id}`).send({
      version: own!.version,
      permissions: [...ALL_BUT_OUTBOX, 'viewOutbox'],
    });
    expect(edit.status).toBe(403);
    expect(edit.body.error.permission).toBe('viewOutbox');
    const internalLicense = String(own!.license);
    const created = await api('post', '/profiles').send({
      name: 'Mine',
      licenseId: internalLicense,
      permissions: ['viewOutbox'],
    });
    expect(created.status).toBe(403);
    const cloned = await api('post', `/profiles/${sysAdminProfileId}/clone`).send({ name: 'My admin' });
    expect(cloned.status).toBe(403);
    const createdSet = await api('post', '/permission-sets').send({ name: 'Mine', permissions: ['viewOutbox'] });
    expect(createdSet.status).toBe(403);
    expect(await snapshot(selfId)).toBe(before);
  });

  it('cannot strip the System Administrator profile that root holds (a change to root)', async () => {
    const sysAdmin = await ProfileModel.findById(sysAdminProfileId).lean();
    const before = await snapshot(rootId);
    const res = await api('patch', `/profiles/${sysAdminProfileId}`).send({
      version: sysAdmin!.version,
      permissions: ['manageInternalUsers', 'manageProfiles'],
    });
    expect(res.status).toBe(403);
    expect(res.body.error.message).toContain('held by root@example.com');
    expect(await snapshot(rootId)).toBe(before);
  });

  it('may still do what it holds: edit a peer with the same rights, and give a profile within its own rights', async () => {
    const peer = await staffToken('peer@example.com', ALL_BUT_OUTBOX);
    const res = await api('patch', `/users/${peer.userId}`).send({ firstName: 'Pat' });
    expect(res.status).toBe(200);
    expect((await UserModel.findById(peer.userId).lean())!.firstName).toBe('Pat');
    const standard = await ProfileModel.findOne({ name: 'Standard User' }).lean();
    const moved = await api('post', `/users/${peer.userId}/profile`).send({ profileId: String(standard!._id) });
    expect(moved.status).toBe(200);
    expect(String((await UserModel.findById(peer.userId).lean())!.profile)).toBe(String(standard!._id));
  });
});

it('bulk ingest refuses a row giving a profile the actor does not fully hold; the other rows are created', async () => {
  const { userId } = await staffToken('bulk-miu@example.com', [
    'manageInternalUsers',
    'manageCustomerUsers',
    'manageExternalUsers',
  ]);
  const actor = (await loadActor(userId))!;
  const ei = String((await ProfileModel.findOne({ name: 'External Identity User' }).lean())!._id);
  const results = await createUsersInBulk(
    [
      {
        userId: new Types.ObjectId(),
        input: { lastName: 'Bulk', email: 'bulk-root@example.com', profileId: sysAdminProfileId },
      },
      { userId: new Types.ObjectId(), input: { lastName: 'Bulk', email: 'bulk-guest2@example.com', profileId: ei } },
    ],
    { actor, via: 'bulk' },
  );
  expect(results[0]).toMatchObject({ ok: false, code: 'forbidden' });
  expect(results[1]).toMatchObject({ ok: true });
  expect(await UserModel.exists({ username: 'bulk-root@example.com' })).toBeNull();
});

it('Manage Internal Users alone cannot make anyone a delegated admin (group membership conveys customer and partner rights)', async () => {
  await makeStaff('miu-groups@example.com', ['manageInternalUsers']);
  const agent = await adminAgent(t.app, 'miu-groups@example.com');
  const accomplice = await makeStaff('accomplice@example.com', []);
  const group = await DelegatedAdminGroupModel.create({ name: 'Resellers' });
  const res = await postForm(agent, '/admin/delegated-groups', `/admin/delegated-groups/${group._id}/members`, {
    userId: String(accomplice._id),
  });
  expect(res.status).toBe(403);
  expect(res.text).toContain('Manage Customer Users');
  expect((await DelegatedAdminGroupModel.findById(group._id).lean())!.members).toHaveLength(0);
});
