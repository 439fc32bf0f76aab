import request from 'supertest';
import { startTestApp, type TestApp } from '../../helpers/app';
import { adminToken, staffToken } from '../api/tokens';
import { AccountModel, ContactModel, LicenseModel, UserModel } from '../../../src/data/models';
import { SCIM } from '../../../src/scim/schemas';

let t: TestApp;
let token: string;
beforeAll(async () => {
  t = await startTestApp('api-scim');
  token = (await adminToken()).token;
});
afterAll(() => t.stop());

const scim = (method: 'get' | 'post' | 'put' | 'patch' | 'delete', path: string, body?: unknown, tk = token) => {
  const r = request(t.app)[method](`/scim/v2${path}`).set('Authorization', `Bearer ${tk}`);
  return body === undefined ? r : r.set('Content-Type', 'application/scim+json').send(JSON.stringify(body));
};
const PATCH_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
let n = 0;
const newScimUser = (ext: Record<string, unknown> | undefined, extra: Record<string, unknown> = {}) => {
  n++;
  return {
    schemas: [SCIM.core, ...(ext ? [SCIM.extension] : [])],
    userName: `scim${n}@example.com`,
    name: { givenName: 'Sky', familyName: `Walker${n}` },
    emails: [{ value: `scim${n}@example.com`, type: 'work', primary: true }],
    active: true,
    ...(ext ? { [SCIM.extension]: ext } : {}),
    ...extra,
  };
};
async function contactlessUser() {
  n++;
  const res = await request(t.app)
    .post('/api/v1/users')
    .set('Authorization', `Bearer ${token}`)
    .send({ firstName: 'Rey', lastName: `Contactless${n}`, email: `rest${n}@example.com` });
  return res.body.id as string;
}

describe('discovery', () => {
  it('serves ServiceProviderConfig, ResourceTypes and Schemas as application/scim+json', async () => {
    const spc = await scim('get', '/ServiceProviderConfig');
    expect(spc.status).toBe(200);
    expect(spc.headers['content-type']).toMatch(/^application\/scim\+json/);
    expect(JSON.parse(spc.text)).toMatchObject({
      patch: { supported: true },
      filter: { supported: true, maxResults: 200 },
      bulk: { supported: false },
    });
    const types = JSON.parse((await scim('get', '/ResourceTypes')).text);
    expect(types.Resources[0]).toMatchObject({
      id: 'User',
      endpoint: '/Users',
      schema: SCIM.core,
      schemaExtensions: [{ schema: SCIM.extension, required: false }],
    });
    expect(JSON.parse((await scim('get', '/ResourceTypes/User')).text).id).toBe('User');
    const schemas = JSON.parse((await scim('get', '/Schemas')).text);
    expect(schemas.Resources.map((s: { id: string }) => s.id)).toEqual([SCIM.core, SCIM.extension]);
    expect(JSON.parse((await scim('get', `/Schemas/${SCIM.core}`)).text).name).toBe('User');
    const missing = await scim('get', '/Schemas/urn:nope');
    expect(missing.status).toBe(404);
    expect(JSON.parse(missing.text)).toMatchObject({ schemas: [SCIM.error], status: '404' });
  });

  it('needs a bearer token, answering in the SCIM error schema', async () => {
    const res = await request(t.app).get('/scim/v2/Users');
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toContain('Bearer');
    expect(JSON.parse(res.text)).toMatchObject({ schemas: [SCIM.error], status: '401' });
  });
});

describe('creating users', () => {
  it('refuses a contactless create: 400 invalidValue, saying a contact is required, and writes nothing', async () => {
    const before = await UserModel.countDocuments();
    const res = await scim('post', '/Users', newScimUser(undefined));
    expect(res.status).toBe(400);
    const body = JSON.parse(res.text);
    expect(body).toMatchObject({ schemas: [SCIM.error], status: '400', scimType: 'invalidValue' });
    expect(body.detail).toMatch(/contact is required/);
    expect(
      (await scim('post', '/Users', newScimUser({ profileId: String((await LicenseModel.findOne().lean())!._id) })))
        .status,
    ).toBe(400);
    expect(await UserModel.countDocuments()).toBe(before);
  });

  it('creates a user with a new contact in a new account (Customer Community, taking a seat)', async () => {
    const seats = (await LicenseModel.findOne({ name: 'Customer Community' }).lean())!.usedSeats;
    const res = await scim(
      'post',
      '/Users',
      newScimUser(
        { accountName: 'Rebel Alliance', contact: { title: 'Pilot' } },
        { locale: 'fr-FR', timezone: 'Europe/Paris' },
      ),
    );
    expect(res.status).toBe(201);
    const body = JSON.parse(res.text);
    expect(res.headers.location).toBe(body.meta.location);
    expect(body).toMatchObject({
      userName: `scim${n}@example.com`,
      active: true,
      locale: 'fr-FR',
      timezone: 'Europe/Paris',
      userType: 'customer',
    });
    expect(body[SCIM.extension]).toMatchObject({
      profileName: 'Customer Community User',
      licenseName: 'Customer Community',
      contactId: expect.any(String),
    });
    const contact = (await ContactModel.findById(body[SCIM.extension].contactId).lean())!;
    expect(contact).toMatchObject({ lastName: `Walker${n}`, title: 'Pilot', email: `scim${n}@example.com` });
    expect((await AccountModel.findById(contact.account).lean())!.name).toBe('Rebel Alliance');
    expect((await LicenseModel.findOne({ name: 'Customer Community' }).lean())!.usedSeats).toBe(seats + 1);
  });

  it('creates a user with an existing contact, and answers 409 uniqueness for a taken userName (no orphan contact)', async () => {
    const first = JSON.parse((await scim('post', '/Users', newScimUser({ accountName: 'Acme' }))).text);
    const contacts = await ContactModel.countDocuments();
    const accounts = await AccountModel.countDocuments();
    const dupe = await scim('post', '/Users', { ...newScimUser({ accountName: 'Other' }), userName: first.userName });
    expect(dupe.status).toBe(409);
    expect(JSON.parse(dupe.text)).toMatchObject({ scimType: 'uniqueness', status: '409' });
    expect(await ContactModel.countDocuments()).toBe(contacts);
    expect(await AccountModel.countDocuments()).toBe(accounts);

    const free = await ContactModel.create({ lastName: 'Free', account: (await AccountModel.findOne().lean())!._id });
    const withContact = await scim('post', '/Users', newScimUser({ contactId: String(free._id) }));
    expect(withContact.status).toBe(201);
    expect(JSON.parse(withContact.text)[SCIM.extension].contactId).toBe(String(free._id));
    const taken = await scim('post', '/Users', newScimUser({ contactId: String(free._id) }));
    expect(taken.status).toBe(409);
    expect(JSON.parse(taken.text).scimType).toBe('uniqueness');
  });

  it('answers 400 for invalid values and malformed JSON, and 403 naming the permission', async () => {
    const bad = await scim(
      'post',
      '/Users',
      newScimUser({ accountName: 'X' }, { userName: 'not-an-email', emails: [{ value: 'also-bad' }] }),
    );
    expect(bad.status).toBe(400);
    expect(JSON.parse(bad.text)).toMatchObject({ scimType: 'invalidValue' });
    const typed = await scim('post', '/Users', { ...newScimUser({ accountName: 'X' }), userName: { $ne: null } });
    expect(typed.status).toBe(400);
    const noSchema = await scim('post', '/Users', { ...newScimUser({ accountName: 'X' }), schemas: [] });
    expect(noSchema.status).toBe(400);
    const malformed = await request(t.app)
      .post('/scim/v2/Users')
      .set('Authorization', `Bearer ${token}`)
      .set('Content-Type', 'application/scim+json')
      .send('{"userName":');
    expect(malformed.status).toBe(400);
    expect(JSON.parse(malformed.text)).toMatchObject({ scimType: 'invalidSyntax' });
    const { token: weak } = await staffToken('scim-weak@example.com', ['manageInternalUsers']);
    const refused = await scim('post', '/Users', newScimUser({ accountName: 'Denied Co' }), weak);
    expect(refused.status).toBe(403);
    expect(JSON.parse(refused.text).detail).toContain('Manage Customer Users');
    expect(await AccountModel.exists({ name: 'Denied Co' })).toBeNull();
  });
});

describe('reading, filtering and paging', () => {
  it('lists with filter userName eq, startIndex and count; contactless users created elsewhere are readable', async () => {
    const id = await contactlessUser();
    const one = await scim('get', `/Users/${id}`);
    expect(one.status).toBe(200);
    const user = JSON.parse(one.text);
    expect(user).toMatchObject({
      id,
      active: true,
      [SCIM.extension]: { contactId: null, licenseName: 'External Identity' },
    });
    const found = JSON.parse(
      (await scim('get', `/Users?filter=${encodeURIComponent(`userName eq "${user.userName.toUpperCase()}"`)}`)).text,
    );
    expect(found).toMatchObject({ schemas: [SCIM.list], totalResults: 1, startIndex: 1, itemsPerPage: 1 });
    expect(found.Resources[0].id).toBe(id);
    const none = JSON.parse(
      (await scim('get', `/Users?filter=${encodeURIComponent('userName eq "nobody@example.com"')}`)).text,
    );
    expect(none).toMatchObject({ totalResults: 0, Resources: [] });
    const byEmail = JSON.parse(
      (
        await scim(
          'get',
          `/Users?filter=${encodeURIComponent(`emails.value eq "${user.emails[0].value}" and active eq true`)}`,
        )
      ).text,
    );
    expect(byEmail.totalResults).toBe(1);

    const all = JSON.parse((await scim('get', '/Users?count=200')).text);
    const paged: string[] = [];
    for (let start = 1; start <= all.totalResults; start += 2) {
      const page = JSON.parse((await scim('get', `/Users?startIndex=${start}&count=2`)).text);
      expect(page.startIndex).toBe(start);
      paged.push(...page.Resources.map((r: { id: string }) => r.id));
    }
    expect(paged).toEqual(all.Resources.map((r: { id: string }) => r.id));
    expect(JSON.parse((await scim('get', '/Users?count=0')).text)).toMatchObject({
      totalResults: all.totalResults,
      itemsPerPage: 0,
    });
  });

  it('answers invalidFilter for unsupported filters, 400 for bad paging and 404 for unknown ids', async () => {
    for (const f of [
      'title eq "x"',
      'userName eq',
      '(userName eq "a"',
      'userName regex "a"',
      'emails[type eq "work"',
      'active eq "maybe"',
    ]) {
      const res = await scim('get', `/Users?filter=${encodeURIComponent(f)}`);
      expect([f, res.status, JSON.parse(res.text).scimType]).toEqual([f, 400, 'invalidFilter']);
    }
    expect((await scim('get', '/Users?startIndex=abc')).status).toBe(400);
    expect((await scim('get', '/Users?filter=a&filter=b')).status).toBe(400);
    expect((await scim('get', '/Users/0123456789abcdef01234567')).status).toBe(404);
    expect((await scim('get', '/Users/nope')).status).toBe(404);
  });
});

describe('updating and deleting', () => {
  it('PATCHes active, name and emails of a contactless user created elsewhere', async () => {
    const id = await contactlessUser();
    const res = await scim('patch', `/Users/${id}`, {
      schemas: [PATCH_SCHEMA],
      Operations: [
        { op: 'replace', path: 'name.givenName', value: 'Ben' },
        { op: 'Replace', path: 'emails', value: [{ value: 'ben.kenobi@example.com', primary: true }] },
        { op: 'replace', value: { active: false, 'name.familyName': 'Kenobi' } },
      ],
    });
    expect(res.status).toBe(200);
    expect(JSON.parse(res.text)).toMatchObject({
      active: false,
      name: { givenName: 'Ben', familyName: 'Kenobi' },
      emails: [{ value: 'ben.kenobi@example.com' }],
    });
    const again = await scim('patch', `/Users/${id}`, {
      schemas: [PATCH_SCHEMA],
      Operations: [{ op: 'replace', path: 'active', value: 'True' }],
    });
    expect(JSON.parse(again.text).active).toBe(true);
    expect((await UserModel.findById(id).lean())!.contact).toBeNull();
  });

  it('refuses bad PATCH operations without writing', async () => {
    const id = await contactlessUser();
    const cases: [unknown[], string][] = [
      [[{ op: 'replace', path: 'userName', value: 'not-an-email' }], 'invalidValue'],
      [[{ op: 'replace', path: 'title[', value: 'x' }], 'invalidPath'],
      [[{ op: 'remove', path: 'name.familyName' }], 'mutability'],
      [[{ op: 'replace', path: 'active', value: 'perhaps' }], 'invalidValue'],
      [[{ op: 'move', path: 'active', value: true }], 'invalidSyntax'],
      [
        [
          { op: 'replace', path: 'name.givenName', value: 'Ok' },
          { op: 'replace', path: 'emails', value: [{ value: 'bad' }] },
        ],
        'invalidValue',
      ],
    ];
    for (const [ops, scimType] of cases) {
      const res = await scim('patch', `/Users/${id}`, { schemas: [PATCH_SCHEMA], Operations: ops });
      expect([ops, res.status, JSON.parse(res.text).scimType]).toEqual([ops, 400, scimType]);
    }
    expect((await UserModel.findById(id).lean())!.firstName).toBe('Rey');
    expect((await scim('patch', `/Users/${id}`, { Operations: [] })).status).toBe(400);
  });

  it('replaces with PUT (profileId immutable) and deactivates with DELETE', async () => {
    const id = await contactlessUser();
    const current = JSON.parse((await scim('get', `/Users/${id}`)).text);
    const put = await scim('put', `/Users/${id}`, {
      schemas: [SCIM.core],
      userName: current.userName,
      name: { givenName: 'Finn', familyName: 'Storm' },
      emails: current.emails,
      active: true,
      timezone: 'Asia/Tokyo',
    });
    expect(put.status).toBe(200);
    expect(JSON.parse(put.text)).toMatchObject({
      name: { givenName: 'Finn', familyName: 'Storm' },
      timezone: 'Asia/Tokyo',
    });
    // A replace: optional attributes left out go back to their defaults; nickName and active stay.
    const replaced = await scim('put', `/Users/${id}`, {
      schemas: [SCIM.core],
      userName: current.userName,
      name: { familyName: 'Storm' },
      emails: [{ value: 'finn@example.com' }],
    });
    expect(replaced.status).toBe(200);
    expect(JSON.parse(replaced.text)).toMatchObject({
      name: { givenName: '', familyName: 'Storm' },
      emails: [{ value: 'finn@example.com' }],
      timezone: 'GMT',
      locale: 'en-US',
      preferredLanguage: 'en-US',
      nickName: current.nickName,
      active: true,
    });
    expect(await UserModel.findById(id).lean()).toMatchObject({
      firstName: '',
      timeZoneSidKey: 'GMT',
      email: 'finn@example.com',
    });
    // The required attributes must be there.
    const partial = await scim('put', `/Users/${id}`, {
      schemas: [SCIM.core],
      userName: current.userName,
      name: { givenName: 'Only' },
    });
    expect([partial.status, JSON.parse(partial.text).scimType, JSON.parse(partial.text).detail]).toEqual([
      400,
      'invalidValue',
      'PUT replaces the whole user: name.familyName and emails are required.',
    ]);
    expect((await UserModel.findById(id).lean())!.firstName).toBe('');
    const unchangedName = await scim('put', `/Users/${id}`, {
      schemas: [SCIM.core],
      userName: current.userName,
      [SCIM.extension]: { profileId: '0123456789abcdef01234567' },
      name: { familyName: 'Storm' },
      emails: [{ value: 'finn@example.com' }],
    });
    expect([unchangedName.status, JSON.parse(unchangedName.text).scimType]).toEqual([400, 'mutability']);
    const del = await scim('delete', `/Users/${id}`);
    expect(del.status).toBe(204);
    expect((await UserModel.findById(id).lean())!.isActive).toBe(false);
    expect((await scim('delete', '/Users/0123456789abcdef01234567')).status).toBe(404);
  });
});
