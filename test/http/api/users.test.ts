import request from 'supertest';
import { startTestApp, type TestApp } from '../../helpers/app';
import { adminToken, staffToken } from './tokens';
import {
  ApiTokenModel,
  AuditEventModel,
  ContactModel,
  LicenseModel,
  ProfileModel,
  UserModel,
} from '../../../src/data/models';
import { loadActor } from '../../../src/access/actor';
import { revokeApiToken } from '../../../src/api/api-tokens';

let t: TestApp;
let token: string;
let adminId: string;
beforeAll(async () => {
  t = await startTestApp('api-users');
  const a = await adminToken();
  token = a.token;
  adminId = String(a.userId);
});
afterAll(() => t.stop());

const api = () => ({
  get: (p: string, tk = token) => request(t.app).get(`/api/v1${p}`).set('Authorization', `Bearer ${tk}`),
  post: (p: string, body?: unknown, tk = token) =>
    request(t.app)
      .post(`/api/v1${p}`)
      .set('Authorization', `Bearer ${tk}`)
      .send(body as object),
  patch: (p: string, body?: unknown, tk = token) =>
    request(t.app)
      .patch(`/api/v1${p}`)
      .set('Authorization', `Bearer ${tk}`)
      .send(body as object),
});
const profileId = async (name: string) => String((await ProfileModel.findOne({ name }).lean())!._id);

let n = 0;
async function newUser(extra: Record<string, unknown> = {}) {
  n++;
  const res = await api().post('/users', {
    firstName: 'Zoë',
    lastName: `O'Brien${n}`,
    email: `zoe${n}@example.com`,
    ...extra,
  });
  if (res.status !== 201) throw new Error(`create answered ${res.status} ${JSON.stringify(res.body)}`);
  return res.body as { id: string; username: string };
}

describe('bearer tokens', () => {
  it('refuses requests without a token, with WWW-Authenticate', async () => {
    const res = await request(t.app).get('/api/v1/users');
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toBe('Bearer realm="identity-portal"');
    expect(res.body.error.code).toBe('unauthorized');
  });

  it('refuses unknown, malformed and revoked tokens, and tokens of deactivated admins', async () => {
    const revoked = await adminToken('revoked-admin@example.com');
    const actor = (await loadActor(revoked.userId))!;
    const record = await ApiTokenModel.findOne({ createdBy: revoked.userId }).lean();
    expect((await api().get('/users', revoked.token)).status).toBe(200);
    await revokeApiToken(String(record!._id), { actor, via: 'admin' });
    const leaver = await adminToken('leaving-admin@example.com');
    await UserModel.updateOne({ _id: leaver.userId }, { $set: { isActive: false } });
    for (const header of [
      'Bearer ipt_nope',
      'Bearer',
      'Basic dXNlcjpwYXNz',
      `Bearer ${token} extra`,
      `Bearer ${revoked.token}`,
      `Bearer ${leaver.token}`,
    ]) {
      const res = await request(t.app).get('/api/v1/users').set('Authorization', header);
      expect(res.status).toBe(401);
      expect(res.headers['www-authenticate']).toContain('error="invalid_token"');
    }
  });
});

describe('POST /api/v1/users', () => {
  it('creates a contactless External Identity user with derived alias and nickname; no secrets in the answer', async () => {
    const res = await api().post('/users', {
      firstName: 'Zoë',
      lastName: "O'Brien",
      email: 'Zoe.OBrien@Example.com',
      localeSidKey: 'fr_FR',
      timeZoneSidKey: 'Europe/Paris',
      languageLocaleKey: 'fr',
      emailEncodingKey: 'UTF-8',
      password: 'violet-harbor-tractor-91',
    });
    expect(res.status).toBe(201);
    expect(res.headers.location).toBe(`/api/v1/users/${res.body.id}`);
    expect(res.body).toMatchObject({
      username: 'zoe.obrien@example.com',
      email: 'zoe.obrien@example.com',
      alias: 'zobrien',
      communityNickname: 'Zoe.OBrien',
      userType: 'customer',
      contactId: null,
      isActive: true,
      localeSidKey: 'fr_FR',
      timeZoneSidKey: 'Europe/Paris',
      profile: { name: 'External Identity User' },
      license: { name: 'External Identity' },
      siteId: null,
      lastLoginAt: null,
    });
    expect(Object.keys(res.body).sort()).toEqual([
      'alias',
      'communityNickname',
      'contactId',
      'createdAt',
      'email',
      'emailEncodingKey',
      'emailVerified',
      'emailVerifiedAt',
      'firstName',
      'id',
      'isActive',
      'languageLocaleKey',
      'lastLoginAt',
      'lastName',
      'license',
      'localeSidKey',
      'profile',
      'siteId',
      'timeZoneSidKey',
      'userType',
      'username',
    ]);
    expect(JSON.stringify(res.body)).not.toMatch(/argon|passwordHash|sessionEpoch/);
    const audit = await AuditEventModel.findOne({ 'target.id': res.body.id, action: 'user.created' }).lean();
    expect(audit?.via).toBe('api');
  });

  it('creates with the Salesforce example fields and an explicit profile', async () => {
    const res = await api().post('/users', {
      firstName: 'Sam',
      lastName: 'Smith',
      email: 'sam@example.com',
      alias: 'ssmith',
      username: 'sam.smith@example.com',
      communityNickname: 'sammy',
      localeSidKey: 'en_US',
      timeZoneSidKey: 'GMT',
      profileId: await profileId('External Identity Partner User'),
      languageLocaleKey: 'en_US',
      emailEncodingKey: 'UTF-8',
    });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({
      username: 'sam.smith@example.com',
      alias: 'ssmith',
      communityNickname: 'sammy',
      userType: 'partner',
    });
  });

  it('answers 400 naming each invalid, missing or unknown field, and writes nothing', async () => {
    const before = await UserModel.countDocuments();
    const res = await api().post('/users', {
      lastName: { $ne: null },
      firstName: ['a'],
      passwordHash: 'x',
      license: 'y',
      userType: 'internal',
      sessionEpoch: 3,
    });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('validation_failed');
    expect(Object.keys(res.body.error.fields).sort()).toEqual([
      'email',
      'firstName',
      'lastName',
      'license',
      'passwordHash',
      'sessionEpoch',
      'userType',
    ]);
    const bad = await api().post('/users', {
      lastName: 'X',
      email: 'not-an-email',
      timeZoneSidKey: 'Mars/Olympus',
      localeSidKey: 'english',
      password: 'short',
    });
    expect(bad.status).toBe(400);
    expect(Object.keys(bad.body.error.fields).sort()).toEqual([
      'email',
      'localeSidKey',
      'password',
      'timeZoneSidKey',
      'username',
    ]);
    const badId = await api().post('/users', { lastName: 'X', email: 'x@example.com', profileId: 'nope' });
    expect(badId.status).toBe(400);
    expect(badId.body.error.fields.profileId).toBeDefined();
    const unknownProfile = await api().post('/users', {
      lastName: 'X',
      email: 'x@example.com',
      profileId: '0123456789abcdef01234567',
    });
    expect(unknownProfile.status).toBe(400);
    expect(unknownProfile.body.error.fields.profileId).toBe('No profile has this id.');
    expect(await UserModel.countDocuments()).toBe(before);
  });

  it('answers 400 for malformed JSON, 400 for a non-object body and 413 for an oversized one', async () => {
    const malformed = await request(t.app)
      .post('/api/v1/users')
      .set('Authorization', `Bearer ${token}`)
      .type('json')
      .send('{"lastName":');
    expect(malformed.status).toBe(400);
    expect(malformed.body.error.code).toBe('malformed_json');
    const array = await api().post('/users', [1, 2]);
    expect(array.status).toBe(400);
    const big = await api().post('/users', { lastName: 'x'.repeat(1_100_000), email: 'big@example.com' });
    expect(big.status).toBe(413);
    expect(big.body.error.code).toBe('payload_too_large');
  });

  it('answers 409 for a taken username or nickname, and for a profile that needs a contact', async () => {
    const u = await newUser();
    const dupe = await api().post('/users', { lastName: 'Again', email: u.username });
    expect(dupe.status).toBe(409);
    expect(dupe.body.error.code).toBe('username_taken');
    await api().post('/users', { lastName: 'Nick', email: 'nick1@example.com', communityNickname: 'TakenNick' });
    const nick = await api().post('/users', {
      lastName: 'Nick',
      email: 'nick2@example.com',
      communityNickname: 'takennick',
    });
    expect(nick.status).toBe(409);
    expect(nick.body.error.code).toBe('nickname_taken');
    const community = await api().post('/users', {
      lastName: 'C',
      email: 'c@example.com',
      profileId: await profileId('Customer Community User'),
    });
    expect(community.status).toBe(409);
    expect(community.body.error.code).toBe('contact_required');
  });

  it('answers 409 no_seats_left when the license is full, and takes no seat on refusal', async () => {
    const ei = (await LicenseModel.findOne({ name: 'External Identity' }).lean())!;
    await LicenseModel.updateOne({ _id: ei._id }, { $set: { totalSeats: ei.usedSeats } });
    const res = await api().post('/users', { lastName: 'Full', email: 'full@example.com' });
    expect(res.status).toBe(409);
    expect(res.body.error.code).toBe('no_seats_left');
    await LicenseModel.updateOne({ _id: ei._id }, { $set: { totalSeats: 1_000_000 } });
    expect((await LicenseModel.findById(ei._id).lean())!.usedSeats).toBe(ei.usedSeats);
  });

  it('refuses staff without the permissions, naming the missing one', async () => {
    const { token: weak } = await staffToken('weak@example.com', ['manageInternalUsers']);
    const res = await api().post('/users', { lastName: 'X', email: 'x2@example.com' }, weak);
    expect(res.status).toBe(403);
    expect(res.body.error.permission).toBe('manageCustomerUsers');
    expect(res.body.error.message).toContain('Manage Customer Users');
  });
});

describe('GET /api/v1/users', () => {
  it('filters and pages with nextCursor', async () => {
    for (let i = 0; i < 5; i++) await newUser({ lastName: `Pager${i}` });
    const first = await api().get('/users?q=Pager&limit=2');
    expect(first.status).toBe(200);
    expect(first.body.records).toHaveLength(2);
    expect(first.body.nextCursor).toEqual(expect.any(String));
    const seen = new Set(first.body.records.map((r: { id: string }) => r.id));
    let cursor = first.body.nextCursor;
    while (cursor) {
      const page = await api().get(`/users?q=Pager&limit=2&cursor=${encodeURIComponent(cursor)}`);
      for (const r of page.body.records) seen.add(r.id);
      cursor = page.body.nextCursor;
    }
    expect(seen.size).toBe(5);
    const byUsername = await api().get(`/users?username=${encodeURIComponent('ZOE1@example.com')}`);
    expect(byUsername.body.records.map((r: { username: string }) => r.username)).toEqual(['zoe1@example.com']);
    const contactless = await api().get(
      `/users?contactless=true&active=true&profile=${await profileId('External Identity User')}&limit=200`,
    );
    expect(contactless.body.records.every((r: { contactId: null }) => r.contactId === null)).toBe(true);
    const internal = await api().get(
      `/users?contactless=true&license=${(await LicenseModel.findOne({ name: 'Salesforce' }).lean())!._id}`,
    );
    expect(internal.body.records.map((r: { id: string }) => r.id)).toContain(adminId);
    const email = await api().get('/users?email=zoe2@example.com');
    expect(email.body.records).toHaveLength(1);
  });

  it('answers 400 for bad filters, repeated parameters, unknown ones and forged cursors', async () => {
    for (const qs of [
      'contactless=maybe',
      'license=nope',
      'limit=0',
      'limit=abc',
      'username=a&username=b',
      'q[$ne]=x',
      'sort=name',
      'cursor=forged',
    ]) {
      const res = await api().get(`/users?${qs}`);
      expect([qs, res.status]).toEqual([qs, 400]);
    }
  });
});

describe('GET and PATCH /api/v1/users/:id', () => {
  it('reads a user; unknown or malformed ids are 404', async () => {
    const u = await newUser();
    expect((await api().get(`/users/${u.id}`)).body.id).toBe(u.id);
    expect((await api().get('/users/0123456789abcdef01234567')).status).toBe(404);
    expect((await api().get('/users/not-an-id')).status).toBe(404);
    expect((await api().get('/users/%7B%22%24ne%22%3A1%7D')).status).toBe(404);
  });

  it('changes the given fields only, validates them, and refuses read-only ones', async () => {
    const u = await newUser();
    const res = await api().patch(`/users/${u.id}`, { firstName: 'Zed', timeZoneSidKey: 'America/New_York' });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      firstName: 'Zed',
      timeZoneSidKey: 'America/New_York',
      lastName: expect.stringContaining("O'Brien"),
    });
    // username became writable (issue 26); userType stays read-only.
    const bad = await api().patch(`/users/${u.id}`, {
      email: 'nope',
      userType: 'internal',
      profile: 'x',
      passwordHash: 'x',
    });
    expect(bad.status).toBe(400);
    expect(Object.keys(bad.body.error.fields).sort()).toEqual(['passwordHash', 'profile', 'userType']);
    const invalid = await api().patch(`/users/${u.id}`, { email: 'nope' });
    expect(invalid.status).toBe(400);
    expect(invalid.body.error.fields.email).toBeDefined();
    const off = await api().patch(`/users/${u.id}`, { isActive: false });
    expect(off.body.isActive).toBe(false);
    const self = await api().patch(`/users/${adminId}`, { isActive: false, firstName: 'Changed' });
    expect(self.status).toBe(409);
    expect((await UserModel.findById(adminId).lean())!.firstName).toBe('Ada');
    expect((await api().patch('/users/0123456789abcdef01234567', { firstName: 'x' })).status).toBe(404);
  });
});

describe('qualification', () => {
  it('adds a contact with a new account, upgrades (taking a seat), downgrades (freeing it)', async () => {
    const u = await newUser();
    const community = await profileId('Customer Community User');
    const early = await api().post(`/users/${u.id}/upgrade`, { profileId: community });
    expect(early.status).toBe(409);
    expect(early.body.error.code).toBe('contact_required');

    const withContact = await api().post(`/users/${u.id}/contact`, {
      firstName: 'Zoë',
      lastName: "O'Brien",
      email: 'zoe@acme.example',
      accountName: 'Acme, Inc.',
    });
    expect(withContact.status).toBe(200);
    expect(withContact.body.contactId).toEqual(expect.any(String));
    const contact = await api().get(`/contacts/${withContact.body.contactId}`);
    expect(contact.body).toMatchObject({ lastName: "O'Brien", account: { name: 'Acme, Inc.' }, userId: u.id });

    const seatsBefore = (await LicenseModel.findOne({ name: 'Customer Community' }).lean())!.usedSeats;
    const up = await api().post(`/users/${u.id}/upgrade`, { profileId: community });
    expect(up.status).toBe(200);
    expect(up.body).toMatchObject({
      profile: { name: 'Customer Community User' },
      license: { name: 'Customer Community' },
    });
    expect((await LicenseModel.findOne({ name: 'Customer Community' }).lean())!.usedSeats).toBe(seatsBefore + 1);

    const down = await api().post(`/users/${u.id}/downgrade`, {});
    expect(down.status).toBe(200);
    expect(down.body).toMatchObject({ contactId: null, license: { name: 'External Identity' } });
    expect((await LicenseModel.findOne({ name: 'Customer Community' }).lean())!.usedSeats).toBe(seatsBefore);
    expect(await ContactModel.exists({ _id: withContact.body.contactId })).toBeTruthy();
  });

  it('associates an existing contact, refuses a taken one, and validates the body', async () => {
    const a = await newUser();
    const b = await newUser();
    const made = await api().post(`/users/${a.id}/contact`, { lastName: 'Shared', accountName: 'Shared Co' });
    const contactId = made.body.contactId;
    await api().post(`/users/${a.id}/downgrade`, {}); // a lets go of the link; the contact stays
    const ok = await api().post(`/users/${b.id}/contact`, { contactId });
    expect(ok.status).toBe(200);
    expect(ok.body.contactId).toBe(contactId);
    const taken = await api().post(`/users/${a.id}/contact`, { contactId });
    expect(taken.status).toBe(409);
    expect(taken.body.error.code).toBe('contact_taken');
    const both = await api().post(`/users/${a.id}/contact`, { contactId, lastName: 'X' });
    expect(both.status).toBe(400);
    const none = await api().post(`/users/${a.id}/contact`, { accountName: 'No Name Co' });
    expect(none.status).toBe(400);
    expect(none.body.error.fields.lastName).toBeDefined();
    const noAccount = await api().post(`/users/${a.id}/contact`, { lastName: 'X' });
    expect(noAccount.status).toBe(400);
    expect(noAccount.body.error.fields.accountId).toBeDefined();
    expect((await api().post(`/users/${a.id}/contact`, { contactId: '0123456789abcdef01234567' })).status).toBe(400);
    expect(
      (await api().post('/users/0123456789abcdef01234567/contact', { lastName: 'X', accountName: 'Y' })).status,
    ).toBe(404);
  });

  it('answers 409 when no community seat is left', async () => {
    const u = await newUser();
    await api().post(`/users/${u.id}/contact`, { lastName: 'Seat', accountName: 'Seat Co' });
    const plus = (await LicenseModel.findOne({ name: 'Customer Community Plus' }).lean())!;
    await LicenseModel.updateOne({ _id: plus._id }, { $set: { totalSeats: plus.usedSeats } });
    const res = await api().post(`/users/${u.id}/upgrade`, {
      profileId: await profileId('Customer Community Plus User'),
    });
    expect(res.status).toBe(409);
    expect(res.body.error.code).toBe('no_seats_left');
    expect(
      (await api().post(`/users/${u.id}/upgrade`, { profileId: await profileId('External Identity User') })).status,
    ).toBe(400);
    expect((await api().post(`/users/${u.id}/upgrade`, {})).status).toBe(400);
  });

  it('activates and deactivates', async () => {
    const u = await newUser();
    expect((await api().post(`/users/${u.id}/deactivate`)).body.isActive).toBe(false);
    expect((await api().post(`/users/${u.id}/activate`)).body.isActive).toBe(true);
    expect((await api().post(`/users/${u.id}/activate`, { extra: 1 })).status).toBe(400);
    expect((await api().post(`/users/${adminId}/deactivate`)).status).toBe(409);
  });

  it('refuses qualification to staff who may not change licenses', async () => {
    const u = await newUser();
    const { token: viewer } = await staffToken('viewer@example.com', ['manageInternalUsers']);
    const res = await api().post(`/users/${u.id}/contact`, { lastName: 'X', accountName: 'Y' }, viewer);
    // A user outside the caller's scope is answered like an unknown id: the type is not revealed.
    expect(res.status).toBe(404);
    expect(res.body).toEqual({ error: { code: 'not_found', message: 'No user has this id.' } });
    expect((await UserModel.findById(u.id).lean())!.contact).toBeNull();
    expect((await api().get(`/users/${u.id}`, viewer)).body).toEqual({
      error: { code: 'not_found', message: 'No user has this id.' },
    });
  });
});
