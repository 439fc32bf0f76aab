/**
 * Who a user is, across channels: an email changed by an admin, the REST API or SCIM is a new, unverified
 * address; each SCIM client (API token) keeps its own externalId (RFC 7643 §3.1: "issued by the
 * provisioning client"), so a second client never overwrites the first; a user SCIM deleted and an admin
 * reactivated is visible to SCIM again. The SCIM steps are the vendors' documented requests (Entra ID,
 * Okta), as in scim-vendors.test.ts.
 */
import crypto from 'node:crypto';
import request from 'supertest';
import { startTestApp, type TestApp } from '../../helpers/app';
import { adminAgent, makeAdmin } from '../../helpers/admin';
import { postForm } from '../../helpers/forms';
import { adminToken } from '../api/tokens';
import mongoose, { type Types } from 'mongoose';
import { UserModel } from '../../../src/data/models';
import { runMigrations } from '../../../src/data/migrations';
import { SCIM } from '../../../src/scim/schemas';

let t: TestApp;
let tokenA: string;
let tokenB: string;
let clientA: Types.ObjectId;
beforeAll(async () => {
  t = await startTestApp('api-scim-identity', { env: { PUBLIC_URL: 'https://portal.example.com' } });
  ({ token: tokenA, userId: clientA } = await adminToken('scim-a@example.com'));
  // A second provisioning client: another token (Okta beside Entra ID), even of another admin.
  tokenB = (await adminToken('scim-b@example.com')).token;
  await makeAdmin();
});
afterAll(() => t.stop());

type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';
const scimAs = (token: string) => (method: Method, path: string, body?: unknown) => {
  const r = request(t.app)[method](`/scim/v2${path}`).set('Authorization', `Bearer ${token}`);
  return body === undefined ? r : r.set('Content-Type', 'application/scim+json').send(JSON.stringify(body));
};
const json = (res: { text: string }) => JSON.parse(res.text);
const q = (filter: string) => `/Users?filter=${encodeURIComponent(filter)}`;
const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';

/** Okta's create body ("SCIM 2.0 protocol reference", Create the user). */
async function oktaCreate(token: string, externalId: string, local = crypto.randomUUID().slice(0, 8)) {
  const res = await scimAs(token)('post', '/Users', {
    schemas: [SCIM.core, SCIM.extension],
    userName: `${local}@atko.com`,
    externalId,
    name: { givenName: 'Test', familyName: 'User' },
    emails: [{ primary: true, value: `${local}@atko.com`, type: 'work' }],
    displayName: 'Test User',
    locale: 'en-US',
    groups: [],
    active: true,
    [SCIM.extension]: { accountName: 'Atko' },
  });
  expect(res.status).toBe(201);
  return json(res) as { id: string; userName: string };
}

const verify = (id: string) =>
  UserModel.updateOne({ _id: id }, { $set: { emailVerifiedAt: new Date('2026-01-01T00:00:00Z') } });
const verifiedAt = async (id: string) => (await UserModel.findById(id).lean())!.emailVerifiedAt;

describe('a changed email is unverified', () => {
  it('SCIM: Entra ID replacing the work email clears emailVerifiedAt; the same address again keeps it', async () => {
    const user = await oktaCreate(tokenA, crypto.randomUUID());
    await verify(user.id);
    const same = await scimAs(tokenA)('patch', `/Users/${user.id}`, {
      schemas: [PATCH_OP],
      Operations: [{ op: 'Replace', path: 'emails[type eq "work"].value', value: user.userName.toUpperCase() }],
    });
    expect(same.status).toBe(200);
    expect(await verifiedAt(user.id)).toEqual(new Date('2026-01-01T00:00:00Z'));
    const moved = await scimAs(tokenA)('patch', `/Users/${user.id}`, {
      schemas: [PATCH_OP],
      Operations: [{ op: 'Replace', path: 'emails[type eq "work"].value', value: 'moved-scim@atko.com' }],
    });
    expect(moved.status).toBe(200);
    expect(await UserModel.findById(user.id).lean()).toMatchObject({
      email: 'moved-scim@atko.com',
      emailVerifiedAt: null,
    });
  });

  it('REST API: PATCH /api/v1/users/{id} with a new email answers emailVerified false', async () => {
    const user = await oktaCreate(tokenA, crypto.randomUUID());
    await verify(user.id);
    const res = await request(t.app)
      .patch(`/api/v1/users/${user.id}`)
      .set('Authorization', `Bearer ${tokenA}`)
      .send({ email: 'moved-api@example.com' });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ email: 'moved-api@example.com', emailVerified: false, emailVerifiedAt: null });
    expect(await verifiedAt(user.id)).toBeNull();
  });

  it('admin area: Edit details with a new email leaves the address unverified', async () => {
    const user = await oktaCreate(tokenA, crypto.randomUUID());
    await verify(user.id);
    const agent = await adminAgent(t.app);
    const stored = (await UserModel.findById(user.id).lean())!;
    const res = await postForm(agent, `/admin/users/${user.id}`, `/admin/users/${user.id}/edit`, {
      firstName: stored.firstName ?? '',
      lastName: stored.lastName,
      email: 'moved-admin@example.com',
      communityNickname: stored.communityNickname,
      alias: stored.alias,
    });
    expect(res.status).toBe(303);
    expect(await UserModel.findById(user.id).lean()).toMatchObject({
      email: 'moved-admin@example.com',
      emailVerifiedAt: null,
    });
  });
});

describe('externalId per SCIM client', () => {
  it("a second client setting its externalId leaves the first client's in place: A still finds the user and creates no duplicate", async () => {
    const idA = `a-${crypto.randomUUID()}`;
    const idB = `b-${crypto.randomUUID()}`;
    const user = await oktaCreate(tokenA, idA);
    // Client B links the same person (Entra ID's sequence: find by userName, then PATCH its externalId).
    const found = json(await scimAs(tokenB)('get', q(`userName eq "${user.userName}"`)));
    expect(found.totalResults).toBe(1);
    expect(found.Resources[0].externalId).toBeUndefined();
    const linked = await scimAs(tokenB)('patch', `/Users/${user.id}`, {
      schemas: [PATCH_OP],
      Operations: [{ op: 'Add', path: 'externalId', value: idB }],
    });
    expect([linked.status, json(linked).externalId]).toEqual([200, idB]);
    // A's next sync: the filter by its own externalId still finds the user, with A's id shown to A.
    const syncA = json(await scimAs(tokenA)('get', q(`externalId eq "${idA}"`)));
    expect(syncA.totalResults).toBe(1);
    expect(syncA.Resources[0]).toMatchObject({ id: user.id, externalId: idA });
    expect(json(await scimAs(tokenA)('get', `/Users/${user.id}`)).externalId).toBe(idA);
    expect(json(await scimAs(tokenB)('get', `/Users/${user.id}`)).externalId).toBe(idB);
    expect(json(await scimAs(tokenA)('get', q(`externalId eq "${idB}"`))).totalResults).toBe(0);
    // A re-creating with its externalId is a conflict, not a second user.
    const again = await scimAs(tokenA)('post', '/Users', {
      schemas: [SCIM.core, SCIM.extension],
      userName: `dup-${crypto.randomUUID().slice(0, 6)}@atko.com`,
      externalId: idA,
      name: { givenName: 'T', familyName: 'U' },
      emails: [{ primary: true, value: 'dup@atko.com' }],
      active: true,
      [SCIM.extension]: { accountName: 'Atko' },
    });
    expect(again.status).toBe(409);
    expect(await UserModel.countDocuments({ lastName: 'User', email: user.userName })).toBe(1);
    // B replacing its own id again, and removing it, leaves A's untouched.
    await scimAs(tokenB)('patch', `/Users/${user.id}`, {
      schemas: [PATCH_OP],
      Operations: [{ op: 'Remove', path: 'externalId' }],
    });
    expect(json(await scimAs(tokenA)('get', `/Users/${user.id}`)).externalId).toBe(idA);
    expect(json(await scimAs(tokenB)('get', `/Users/${user.id}`)).externalId).toBeUndefined();
  });

  it("an installation from before moves its single externalId to its client's entry at start", async () => {
    const ext = `old-${crypto.randomUUID()}`;
    const user = await oktaCreate(tokenA, `tmp-${crypto.randomUUID()}`);
    // The shape an older portal wrote: one externalId and its owner on the user.
    await UserModel.collection.updateOne(
      { _id: new mongoose.Types.ObjectId(user.id) },
      { $unset: { scimExternalIds: '' }, $set: { externalId: ext, externalIdOwner: clientA } },
    );
    await mongoose.connection
      .collection('migrations')
      .deleteOne({ _id: '2026-12-scim-external-ids-per-client' as never });
    expect(await runMigrations()).toContain('2026-12-scim-external-ids-per-client');
    const raw = (await UserModel.collection.findOne({ _id: new mongoose.Types.ObjectId(user.id) }))!;
    expect(raw.externalId).toBeUndefined();
    expect(raw.scimExternalIds).toEqual([{ owner: clientA, value: ext }]);
    expect(
      json(await scimAs(tokenA)('get', q(`externalId eq "${ext}"`))).Resources.map((r: { id: string }) => r.id),
    ).toEqual([user.id]);
    expect(json(await scimAs(tokenB)('get', `/Users/${user.id}`)).externalId).toBeUndefined();
  });

  it('two clients may use the same externalId value for different users', async () => {
    const shared = `shared-${crypto.randomUUID()}`;
    const a = await oktaCreate(tokenA, shared);
    const b = await oktaCreate(tokenB, shared);
    expect(
      json(await scimAs(tokenA)('get', q(`externalId eq "${shared}"`))).Resources.map((r: { id: string }) => r.id),
    ).toEqual([a.id]);
    expect(
      json(await scimAs(tokenB)('get', q(`externalId eq "${shared}"`))).Resources.map((r: { id: string }) => r.id),
    ).toEqual([b.id]);
  });
});

describe('reactivation after a SCIM DELETE', () => {
  it('a user deleted by SCIM and activated again in the admin area is visible to SCIM again', async () => {
    const externalId = crypto.randomUUID();
    const user = await oktaCreate(tokenA, externalId);
    expect((await scimAs(tokenA)('delete', `/Users/${user.id}`)).status).toBe(204);
    expect((await scimAs(tokenA)('get', `/Users/${user.id}`)).status).toBe(404);
    const agent = await adminAgent(t.app);
    const res = await postForm(agent, `/admin/users/${user.id}`, `/admin/users/${user.id}/activate`, {});
    expect(res.status).toBe(303);
    expect(await UserModel.findById(user.id).lean()).toMatchObject({ isActive: true, deprovisionedAt: null });
    const back = await scimAs(tokenA)('get', `/Users/${user.id}`);
    expect([back.status, json(back).active]).toEqual([200, true]);
    expect(json(await scimAs(tokenA)('get', q(`externalId eq "${externalId}"`))).totalResults).toBe(1);
  });
});
