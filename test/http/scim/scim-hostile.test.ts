/**
 * SCIM under hostile or unusual input: filters (every operator, bad escapes, raw tabs, regex text,
 * nesting), PATCH paths, deeply nested bodies, a forged Host, users outside the caller's scope and
 * internal users, uniqueness, discovery methods, Groups, passwords.
 */
import request from 'supertest';
import { startTestApp, type TestApp } from '../../helpers/app';
import { adminToken, staffToken } from '../api/tokens';
import { AuditEventModel, UserModel } from '../../../src/data/models';
import { SCIM } from '../../../src/scim/schemas';

const PUBLIC_URL = 'https://portal.example.com';
let t: TestApp;
let token: string;
let adminId: string;
beforeAll(async () => {
  t = await startTestApp('api-scim-hostile', { env: { PUBLIC_URL } });
  const admin = await adminToken();
  token = admin.token;
  adminId = String(admin.userId);
});
afterAll(() => t.stop());

type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';
const scim = (method: Method, path: string, body?: unknown, tk = token) => {
  const r = request(t.app)[method](`/scim/v2${path}`).set('Authorization', `Bearer ${tk}`);
  return body === undefined ? r : r.set('Content-Type', 'application/scim+json').send(JSON.stringify(body));
};
const json = (res: { text: string }) => JSON.parse(res.text);
const q = (filter: string) => `/Users?filter=${encodeURIComponent(filter)}`;
const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
let n = 0;
const newUser = (extra: Record<string, unknown> = {}) => {
  n++;
  return {
    schemas: [SCIM.core],
    userName: `Hostile${n}@Example.com`,
    name: { givenName: `Given${n}`, familyName: `Family${n}` },
    emails: [{ value: `hostile${n}@example.com`, type: 'work', primary: true }],
    [SCIM.extension]: { accountName: 'Hostile Co' },
    ...extra,
  };
};
async function create(extra: Record<string, unknown> = {}) {
  const res = await scim('post', '/Users', newUser(extra));
  expect(res.status).toBe(201);
  return json(res);
}
const ids = async (filter: string) => {
  const res = await scim('get', q(filter));
  expect([filter, res.status]).toEqual([filter, 200]);
  return json(res)
    .Resources.map((r: { id: string }) => r.id)
    .sort();
};

describe('filters', () => {
  it('supports every operator, and/or/not, parentheses and value paths, on the allow-listed attributes', async () => {
    const a = await create({ externalId: 'ext-A', nickName: 'alpha' });
    const b = await create({ externalId: 'ext-B', active: false });
    const both = [a.id, b.id].sort();
    const scope = `(userName eq "${a.userName}" or userName eq "${b.userName}")`;
    expect(await ids(`userName eq "${a.userName.toLowerCase()}"`)).toEqual([a.id]);
    expect(await ids(`${scope} and userName ne "${a.userName}"`)).toEqual([b.id]);
    expect(await ids(`userName co "${a.userName.slice(2, 9).toUpperCase()}" and ${scope}`)).toEqual([a.id]);
    expect(await ids(`userName sw "hostile" and ${scope}`)).toEqual(both);
    expect(await ids(`emails.value ew "${b.emails[0].value.slice(-14)}"`)).toEqual([b.id]);
    expect(await ids(`externalId pr and ${scope}`)).toEqual(both);
    expect(await ids(`${scope} and userName gt "${a.userName.toLowerCase()}"`)).toEqual([b.id]);
    expect(await ids(`${scope} and userName ge "${a.userName.toLowerCase()}"`)).toEqual(both);
    expect(await ids(`${scope} and userName lt "${b.userName.toLowerCase()}"`)).toEqual([a.id]);
    expect(await ids(`${scope} and userName le "${b.userName.toLowerCase()}"`)).toEqual(both);
    expect(await ids(`${scope} and not (active eq true)`)).toEqual([b.id]);
    expect(await ids(`emails[type eq "work" and value eq "${a.emails[0].value}"]`)).toEqual([a.id]);
    expect(await ids(`emails[type eq "home"].value eq "${a.emails[0].value}"`)).toEqual([]);
    expect(await ids(`nickName eq "ALPHA"`)).toEqual([a.id]);
    expect(await ids(`name.familyName eq "${b.name.familyName.toLowerCase()}"`)).toEqual([b.id]);
    expect(await ids(`externalId eq "ext-B"`)).toEqual([b.id]);
    expect(await ids(`externalId eq "EXT-B"`)).toEqual([]); // caseExact
    expect(await ids(`id eq "${a.id}"`)).toEqual([a.id]);
    expect(await ids(`meta.created ge "2000-01-01T00:00:00Z" and ${scope}`)).toEqual(both);
    expect(await ids(`urn:ietf:params:scim:schemas:core:2.0:User:userName eq "${a.userName}"`)).toEqual([a.id]);
  });

  it("treats regex characters as text, and compares externalId with the calling client's own ids only", async () => {
    await create();
    expect(await ids('userName co ".*"')).toEqual([]);
    expect(await ids('userName sw "^"')).toEqual([]);
    const mine = await create({ externalId: 'shared-ext' });
    const { token: other } = await adminToken('other-scim-admin@example.com');
    const theirs = await scim('post', '/Users', newUser({ externalId: 'shared-ext' }), other);
    expect(theirs.status).toBe(201);
    expect(await ids('externalId eq "shared-ext"')).toEqual([mine.id]);
    expect(
      json(await scim('get', q('externalId eq "shared-ext"'), undefined, other)).Resources.map(
        (r: { id: string }) => r.id,
      ),
    ).toEqual([json(theirs).id]);
    const dupe = await scim('post', '/Users', newUser({ externalId: 'shared-ext' }));
    expect([dupe.status, json(dupe).scimType, json(dupe).detail]).toEqual([
      409,
      'uniqueness',
      'Another user already has this externalId.',
    ]);
  });

  it('answers 400 invalidFilter, never 500, to bad escapes, raw tabs, unknown attributes and operators, and deep nesting', async () => {
    const cases: [string, RegExp][] = [
      ['userName eq "a\\x"', /bad escape/],
      ['userName eq "a\\u12"', /bad escape/],
      ['userName eq "a\tb"', /control character/],
      ['userName\teq "a"', /control character/],
      ['userName eq "a\nb"', /control character/],
      ['password eq "x"', /not supported/],
      ['title eq "x"', /not supported/],
      ['userName regex ".*"', /could not be read/],
      ['userName eq {"$ne":null}', /could not be read/],
      ['userName eq', /could not be read/],
      ['(userName eq "a"', /could not be read/],
      ['active gt true', /true or false/],
      ['userName eq 5', /quoted text/],
      ['meta.created gt "yesterday"', /date and time/],
      ['phoneNumbers[type eq "work"].value eq "1"', /emails only/],
      [`${'(userName eq "a" or (userName eq "b" and '.repeat(10)}userName eq "c"${'))'.repeat(10)}`, /nested/],
      [`${'not '.repeat(30)}userName eq "a"`, /nested/],
      [`userName eq "${'a'.repeat(1001)}"`, /longer than/],
    ];
    for (const [filter, detail] of cases) {
      const res = await scim('get', q(filter));
      const body = json(res);
      expect([filter, res.status, body.scimType, body.schemas]).toEqual([filter, 400, 'invalidFilter', [SCIM.error]]);
      expect([filter, body.detail]).toEqual([filter, expect.stringMatching(detail)]);
    }
  });

  it('ignores unknown query parameters', async () => {
    const res = await scim('get', '/Users?count=1&attributes=userName&sortBy=userName&whatever=1');
    expect([res.status, json(res).itemsPerPage]).toEqual([200, 1]);
  });
});

describe('PATCH paths and bodies', () => {
  it('ignores well-formed paths the portal does not keep, applying the rest, and refuses unparseable ones with invalidPath and no write', async () => {
    const u = await create();
    const ignored = await scim('patch', `/Users/${u.id}`, {
      schemas: [PATCH_OP],
      Operations: [
        { op: 'add', path: 'x509Certificates', value: [{ value: 'abc' }] },
        { op: 'replace', path: 'name.formatted', value: 'Ignored' },
        { op: 'replace', path: 'roles[primary eq true].value', value: 'admin' },
        { op: 'replace', path: 'id', value: '0123456789abcdef01234567' },
        { op: 'replace', path: 'meta.created', value: 'now' },
        { op: 'add', path: 'urn:example:params:scim:schemas:extension:other:2.0:User:level', value: 3 },
        { op: 'replace', path: 'constructor.prototype', value: { polluted: true } },
        { op: 'replace', value: { constructor: { prototype: { polluted: true } }, 'name.givenName': 'Kept' } },
        { op: 'remove', path: 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User' },
      ],
    });
    expect(ignored.status).toBe(200);
    expect(json(ignored)).toMatchObject({
      id: u.id,
      name: { givenName: 'Kept', formatted: `Kept ${u.name.familyName}` },
    });
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();

    const before = await UserModel.findById(u.id).lean();
    for (const path of [
      'emails[type eq "work"',
      'name..givenName',
      'emails[type eq].value',
      '__proto__',
      'name.given name',
      'urn:bad urn:x:y',
      'emails[value eq "a\\x"].value',
      '',
    ]) {
      const res = await scim('patch', `/Users/${u.id}`, {
        schemas: [PATCH_OP],
        Operations: [
          { op: 'replace', path: 'name.givenName', value: 'Changed' },
          { op: 'remove', path },
        ],
      });
      expect([path, res.status, json(res).scimType]).toEqual([path, 400, path === '' ? 'noTarget' : 'invalidPath']);
    }
    expect(await UserModel.findById(u.id).lean()).toEqual(before);
  });

  it('renames by PATCH and PUT: a taken name (any case) is 409 uniqueness, a change of case alone is kept as sent, a non-email is a clear 400', async () => {
    const a = await create();
    const b = await create();
    const taken = await scim('patch', `/Users/${b.id}`, {
      schemas: [PATCH_OP],
      Operations: [{ op: 'replace', path: 'userName', value: a.userName.toUpperCase() }],
    });
    expect([taken.status, json(taken).scimType]).toEqual([409, 'uniqueness']);
    const takenByPut = await scim('put', `/Users/${b.id}`, { ...b, userName: a.userName.toLowerCase() });
    expect([takenByPut.status, json(takenByPut).scimType]).toEqual([409, 'uniqueness']);
    const caseOnly = await scim('put', `/Users/${b.id}`, { ...b, userName: b.userName.toUpperCase() });
    expect([caseOnly.status, json(caseOnly).userName]).toEqual([200, b.userName.toUpperCase()]);
    const notEmail = await scim('patch', `/Users/${b.id}`, {
      schemas: [PATCH_OP],
      Operations: [{ op: 'replace', path: 'userName', value: 'just-a-name' }],
    });
    expect([notEmail.status, json(notEmail).scimType]).toEqual([400, 'invalidValue']);
    expect(json(notEmail).detail).toMatch(/username: A username looks like an email address/);
    expect((await UserModel.findById(b.id).lean())!.username).toBe(b.userName.toLowerCase());
  });

  it('answers 400 with a clear message to a PATCH value nested 60,000 deep (and a deep POST), never a 500', async () => {
    const u = await create();
    const deep = `{"schemas":["${PATCH_OP}"],"Operations":[{"op":"replace","path":"name.givenName","value":${'{"a":'.repeat(60000)}1${'}'.repeat(60000)}}]}`;
    const res = await request(t.app)
      .patch(`/scim/v2/Users/${u.id}`)
      .set('Authorization', `Bearer ${token}`)
      .set('Content-Type', 'application/scim+json')
      .send(deep);
    expect([res.status, json(res).scimType, json(res).detail]).toEqual([
      400,
      'invalidSyntax',
      'The request body is nested more than 32 levels deep; a SCIM resource or PATCH needs only a few.',
    ]);
    const deepPost = `{"schemas":["${SCIM.core}"],"userName":"deep@example.com","x":${'['.repeat(60000)}${']'.repeat(60000)}}`;
    const post = await request(t.app)
      .post('/scim/v2/Users')
      .set('Authorization', `Bearer ${token}`)
      .set('Content-Type', 'application/scim+json')
      .send(deepPost);
    expect([post.status, json(post).scimType]).toEqual([400, 'invalidSyntax']);
    expect(await UserModel.exists({ username: 'deep@example.com' })).toBeNull();
    expect((await UserModel.findById(u.id).lean())!.firstName).toBe(u.name.givenName);
  });

  it('refuses passwords with a 400 that says to turn password sync off, writing nothing', async () => {
    const before = await UserModel.countDocuments();
    const res = await scim('post', '/Users', newUser({ password: 'lantern-copper-wisdom-77' }));
    expect([res.status, json(res).scimType]).toEqual([400, 'invalidValue']);
    expect(json(res).detail).toMatch(/turn password sync off/);
    expect(await UserModel.countDocuments()).toBe(before);
    const u = await create();
    const patch = await scim('patch', `/Users/${u.id}`, {
      schemas: [PATCH_OP],
      Operations: [{ op: 'replace', value: { password: 'lantern-copper-wisdom-77' } }],
    });
    expect([patch.status, json(patch).detail]).toEqual([400, expect.stringMatching(/Sync Password/)]);
  });
});

describe('requests and addresses', () => {
  it('builds Location and meta.location from PUBLIC_URL, whatever the Host header says', async () => {
    const res = await scim('post', '/Users', newUser())
      .set('Host', 'evil.example')
      .set('X-Forwarded-Host', 'evil.example');
    expect(res.status).toBe(201);
    expect(res.headers.location).toBe(`${PUBLIC_URL}/scim/v2/Users/${json(res).id}`);
    const got = json(await scim('get', `/Users/${json(res).id}`).set('Host', 'evil.example'));
    expect(got.meta.location).toBe(`${PUBLIC_URL}/scim/v2/Users/${got.id}`);
    const spc = json(await scim('get', '/ServiceProviderConfig').set('Host', 'evil.example'));
    expect(spc.meta.location).toBe(`${PUBLIC_URL}/scim/v2/ServiceProviderConfig`);
  });

  it('reads a POST without a Content-Type as JSON, and checks uniqueness before the contact rule', async () => {
    const body = newUser();
    const res = await request(t.app)
      .post('/scim/v2/Users')
      .set('Authorization', `Bearer ${token}`)
      .send(Buffer.from(JSON.stringify(body)));
    expect([res.status, json(res).userName]).toEqual([201, body.userName]);
    const contactless = { ...body, [SCIM.extension]: undefined };
    const dupe = await scim('post', '/Users', contactless);
    expect([dupe.status, json(dupe).scimType]).toEqual([409, 'uniqueness']);
  });

  it('answers 405 to changes of discovery documents, an empty list for Groups and 501 to group changes', async () => {
    for (const path of ['/ServiceProviderConfig', '/ResourceTypes', '/Schemas', `/Schemas/${SCIM.core}`]) {
      const res = await scim('post', path, {});
      expect([path, res.status, res.headers.allow, json(res).schemas]).toEqual([path, 405, 'GET', [SCIM.error]]);
    }
    const groups = json(await scim('get', '/Groups?filter=displayName%20eq%20%22x%22&excludedAttributes=members'));
    expect(groups).toEqual({ schemas: [SCIM.list], totalResults: 0, startIndex: 1, itemsPerPage: 0, Resources: [] });
    const push = await scim('post', '/Groups', {
      schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'],
      displayName: 'Sales',
    });
    expect([push.status, json(push).detail]).toEqual([501, expect.stringMatching(/turn group provisioning off/)]);
    expect((await scim('get', '/Groups/abc')).status).toBe(404);
    const spc = json(await scim('get', '/ServiceProviderConfig'));
    expect(spc).toMatchObject({
      patch: { supported: true },
      filter: { supported: true },
      changePassword: { supported: false },
      sort: { supported: false },
      etag: { supported: false },
      bulk: { supported: false },
    });
    const schemas = json(await scim('get', '/Schemas'));
    expect(schemas.Resources.map((s: { id: string }) => s.id)).toEqual([SCIM.core, SCIM.extension]);
    expect(SCIM.extension).toMatch(/^urn:ietf:params:scim:schemas:extension:[A-Za-z]+:2\.0:User$/);
    expect(json(await scim('get', '/ResourceTypes/User')).schemaExtensions).toEqual([
      { schema: SCIM.extension, required: false },
    ]);
  });

  it('reads the extension under its old name too', async () => {
    const res = await scim('post', '/Users', {
      ...newUser(),
      [SCIM.extension]: undefined,
      [SCIM.legacyExtension]: { accountName: 'Legacy Co' },
    });
    expect(res.status).toBe(201);
    expect(json(res)[SCIM.extension].contactId).toEqual(expect.any(String));
  });
});

describe('scope', () => {
  it('answers 404, naming no user type, for users the caller may not see, and never reads, lists or changes internal users', async () => {
    const u = await create();
    const { token: narrow } = await staffToken('scim-narrow@example.com', ['manageInternalUsers']);
    for (const [method, body] of [
      ['get', undefined],
      ['put', { ...u, name: { familyName: 'X' } }],
      ['patch', { schemas: [PATCH_OP], Operations: [{ op: 'replace', path: 'active', value: false }] }],
      ['delete', undefined],
    ] as const) {
      const res = await scim(method, `/Users/${u.id}`, body, narrow);
      expect([method, res.status, json(res).detail]).toEqual([method, 404, 'No user has this id.']);
    }
    expect(json(await scim('get', '/Users?count=200', undefined, narrow)).totalResults).toBe(0);
    expect(await UserModel.findById(u.id).lean()).toMatchObject({
      isActive: true,
      lastName: u.name.familyName,
      deprovisionedAt: null,
    });

    const auditsBefore = await AuditEventModel.countDocuments();
    for (const [method, body] of [
      ['get', undefined],
      [
        'put',
        {
          schemas: [SCIM.core],
          userName: 'api-admin@example.com',
          name: { familyName: 'Hacked' },
          emails: [{ value: 'x@example.com' }],
        },
      ],
      ['patch', { schemas: [PATCH_OP], Operations: [{ op: 'replace', path: 'name.familyName', value: 'Hacked' }] }],
      ['delete', undefined],
    ] as const) {
      const res = await scim(method, `/Users/${adminId}`, body);
      expect([method, res.status, json(res).detail]).toEqual([method, 404, 'No user has this id.']);
    }
    const internalIds = (await UserModel.find({ userType: 'internal' }).select('_id').lean()).map((x) => String(x._id));
    const listed = json(await scim('get', '/Users?count=200')).Resources;
    expect(listed.filter((r: { id: string }) => internalIds.includes(r.id))).toEqual([]);
    expect(listed.every((r: { userType: string }) => r.userType !== 'internal')).toBe(true);
    expect(json(await scim('get', q('userName eq "api-admin@example.com"'))).totalResults).toBe(0);
    expect(await UserModel.findById(adminId).lean()).toMatchObject({ lastName: 'Admin', isActive: true });
    expect(await AuditEventModel.countDocuments()).toBe(auditsBefore);
  });
});
