/**
 * The request sequences Microsoft documents for Entra ID provisioning ("Develop and plan provisioning
 * for a SCIM endpoint", "Known issues ... SCIM 2.0 protocol compliance", with and without the
 * aadOptscim062020 flag) and Okta for its SCIM 2.0 integration ("SCIM 2.0 protocol reference", the
 * spec tests of "Test your SCIM API"), replayed step by step against the real app.
 */
import crypto from 'node:crypto';
import request from 'supertest';
import { startTestApp, type TestApp } from '../../helpers/app';
import { adminToken } from '../api/tokens';
import { AccountModel, ContactModel, UserModel } from '../../../src/data/models';
import { SCIM } from '../../../src/scim/schemas';

const PUBLIC_URL = 'https://portal.example.com';
let t: TestApp;
let token: string;
beforeAll(async () => {
  t = await startTestApp('api-scim-vendors', { env: { PUBLIC_URL } });
  token = (await adminToken()).token;
});
afterAll(() => t.stop());

type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';
const scim = (method: Method, path: string, body?: unknown) => {
  const r = request(t.app)[method](`/scim/v2${path}`).set('Authorization', `Bearer ${token}`);
  return body === undefined ? r : r.set('Content-Type', 'application/scim+json').send(JSON.stringify(body));
};
const json = (res: { text: string }) => JSON.parse(res.text);
const q = (filter: string) => `/Users?filter=${encodeURIComponent(filter)}`;
const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
const ENTERPRISE = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';

describe('Microsoft Entra ID', () => {
  it('accepts the documented sequence: probe, create, get, filters, both update shapes, disable, enable, rename, delete', async () => {
    // Test Connection: a filter for a user that does not exist.
    const probe = await scim('get', q(`userName eq "${crypto.randomUUID()}"`));
    expect([probe.status, json(probe)]).toEqual([
      200,
      { schemas: [SCIM.list], totalResults: 0, startIndex: 1, itemsPerPage: 0, Resources: [] },
    ]);

    // Create: Entra's body, with the portal extension mapped from companyName.
    const externalId = crypto.randomUUID();
    const userName = `Test_User_${externalId.slice(0, 8)}@Contoso.onmicrosoft.com`;
    const created = await scim('post', '/Users', {
      schemas: [SCIM.core, ENTERPRISE, SCIM.extension],
      externalId,
      userName,
      active: true,
      emails: [{ primary: true, type: 'work', value: `Test_User_${externalId.slice(0, 8)}@contoso.com` }],
      meta: { resourceType: 'User' },
      name: { formatted: 'givenName familyName', familyName: 'familyName', givenName: 'givenName' },
      roles: [],
      title: 'Engineer',
      phoneNumbers: [{ type: 'work', value: '+1 555 0100' }],
      [ENTERPRISE]: { employeeNumber: '100009', department: 'Sales' },
      [SCIM.extension]: { accountName: 'Contoso' },
    });
    expect(created.status).toBe(201);
    const user = json(created);
    expect(user).toMatchObject({
      userName,
      externalId,
      active: true,
      name: { givenName: 'givenName', familyName: 'familyName' },
      emails: [{ value: `test_user_${externalId.slice(0, 8)}@contoso.com`, primary: true }],
    });
    expect(created.headers.location).toBe(`${PUBLIC_URL}/scim/v2/Users/${user.id}`);
    const contact = (await ContactModel.findById(user[SCIM.extension].contactId).lean())!;
    expect(contact).toMatchObject({ title: 'Engineer', phone: '+1 555 0100', lastName: 'familyName' });
    expect((await AccountModel.findById(contact.account).lean())!.name).toBe('Contoso');

    // Get, and the lookups by userName (any case) and externalId.
    expect(json(await scim('get', `/Users/${user.id}`))).toEqual(user);
    expect(
      json(await scim('get', q(`userName eq "${userName.toUpperCase()}"`))).Resources.map((r: { id: string }) => r.id),
    ).toEqual([user.id]);
    expect(
      json(await scim('get', q(`externalId eq "${externalId}"`))).Resources.map((r: { id: string }) => r.id),
    ).toEqual([user.id]);
    expect(json(await scim('get', q(`emails[type eq "work"].value eq "${user.emails[0].value}"`))).totalResults).toBe(
      1,
    );
    expect(json(await scim('get', q('userName eq "non-existent user"'))).totalResults).toBe(0);

    // Update without aadOptscim062020: capitalised ops, one path each, attributes the portal does not keep mixed in.
    const legacy = await scim('patch', `/Users/${user.id}`, {
      schemas: [PATCH_OP],
      Operations: [
        { op: 'Replace', path: 'emails[type eq "work"].value', value: 'updatedEmail@contoso.com' },
        { op: 'Replace', path: 'name.familyName', value: 'updatedFamilyName' },
        { op: 'Add', path: 'title', value: 'Lead' },
        { op: 'Replace', path: 'displayName', value: 'Display' },
        { op: 'Add', path: 'phoneNumbers[type eq "mobile"].value', value: '+1 555 0199' },
        { op: 'Replace', path: `${ENTERPRISE}:department`, value: 'Marketing' },
        { op: 'Remove', path: `${ENTERPRISE}:manager`, value: [{ value: 'someone' }] },
        { op: 'Add', path: 'addresses[type eq "work"].locality', value: 'Redmond' },
        { op: 'Replace', path: `${SCIM.extension}:accountName`, value: 'Contoso Ltd' },
      ],
    });
    expect(legacy.status).toBe(200);
    expect(json(legacy)).toMatchObject({
      name: { familyName: 'updatedFamilyName', givenName: 'givenName' },
      emails: [{ value: 'updatedemail@contoso.com' }],
    });

    // Update with aadOptscim062020: one path-less replace with dotted, filtered and URN-prefixed keys.
    const flagged = await scim('patch', `/Users/${user.id}`, {
      schemas: [PATCH_OP],
      Operations: [
        {
          op: 'replace',
          value: {
            displayName: 'Pvlo',
            'emails[type eq "work"].value': 'TestBcwqnm@contoso.com',
            'name.givenName': 'Gtfd',
            'name.familyName': 'Pkqf',
            externalId,
            [`${ENTERPRISE}:employeeNumber`]: 'Eqpj',
          },
        },
      ],
    });
    expect(flagged.status).toBe(200);
    expect(json(flagged)).toMatchObject({
      externalId,
      name: { givenName: 'Gtfd', familyName: 'Pkqf' },
      emails: [{ value: 'testbcwqnm@contoso.com' }],
    });

    // Disable (string "False" without the flag, a boolean with it), then enable with "True".
    const sessions = (await UserModel.findById(user.id).lean())!.sessionEpoch;
    const disabled = await scim('patch', `/Users/${user.id}`, {
      schemas: [PATCH_OP],
      Operations: [{ op: 'Replace', path: 'active', value: 'False' }],
    });
    expect(json(disabled).active).toBe(false);
    expect((await UserModel.findById(user.id).lean())!.sessionEpoch).toBe(sessions + 1);
    const again = await scim('patch', `/Users/${user.id}`, {
      schemas: [PATCH_OP],
      Operations: [{ op: 'replace', path: 'active', value: false }],
    });
    expect(json(again).active).toBe(false);
    const enabled = await scim('patch', `/Users/${user.id}`, {
      schemas: [PATCH_OP],
      Operations: [{ op: 'Replace', path: 'active', value: 'True' }],
    });
    expect(json(enabled).active).toBe(true);

    // Rename: kept as sent, found in any case.
    const renamed = `Renamed_${externalId.slice(0, 8)}@Contoso.onmicrosoft.com`;
    const rename = await scim('patch', `/Users/${user.id}`, {
      schemas: [PATCH_OP],
      Operations: [{ op: 'Replace', path: 'userName', value: renamed }],
    });
    expect([rename.status, json(rename).userName]).toEqual([200, renamed]);
    expect((await UserModel.findById(user.id).lean())!.username).toBe(renamed.toLowerCase());
    expect(json(await scim('get', q(`userName eq "${renamed.toLowerCase()}"`))).Resources[0].userName).toBe(renamed);

    // Delete: deactivated, sessions ended, gone from SCIM, the record kept.
    const epoch = (await UserModel.findById(user.id).lean())!.sessionEpoch;
    expect((await scim('delete', `/Users/${user.id}`)).status).toBe(204);
    const gone = await scim('get', `/Users/${user.id}`);
    expect([gone.status, json(gone).schemas]).toEqual([404, [SCIM.error]]);
    expect(json(await scim('get', q(`externalId eq "${externalId}"`))).totalResults).toBe(0);
    expect(json(await scim('get', '/Users?count=200')).Resources.map((r: { id: string }) => r.id)).not.toContain(
      user.id,
    );
    expect(
      (
        await scim('patch', `/Users/${user.id}`, {
          schemas: [PATCH_OP],
          Operations: [{ op: 'replace', path: 'active', value: true }],
        })
      ).status,
    ).toBe(404);
    expect(await UserModel.findById(user.id).lean()).toMatchObject({
      isActive: false,
      sessionEpoch: epoch + 1,
      deprovisionedAt: expect.any(Date),
    });
  });
});

describe('Okta', () => {
  it('passes the spec tests in order, then create, PUT round trip, deactivate by PATCH and by PUT, and pagination without gaps', async () => {
    const okta = (n: string, extra: Record<string, unknown> = {}) => ({
      schemas: [SCIM.core, SCIM.extension],
      userName: `${n}@atko.com`,
      name: { givenName: 'Test', familyName: n },
      emails: [{ primary: true, value: `${n}@atko.com`, type: 'work' }],
      displayName: `Test ${n}`,
      locale: 'en-US',
      externalId: `00u${crypto.randomBytes(8).toString('hex')}`,
      groups: [],
      active: true,
      [SCIM.extension]: { accountName: 'Atko' },
      ...extra,
    });
    expect((await scim('post', '/Users', okta('existing.user'))).status).toBe(201);

    // Spec tests, in Okta's order.
    const first = await scim('get', '/Users?count=1&startIndex=1');
    expect(first.status).toBe(200);
    expect(json(first)).toMatchObject({ schemas: [SCIM.list], startIndex: 1, itemsPerPage: 1 });
    const one = json(first).Resources[0];
    expect(json(await scim('get', `/Users/${one.id}`))).toMatchObject({ id: one.id, userName: one.userName });
    expect(json(await scim('get', q('userName eq "invalid-user-x@atko.com"')))).toMatchObject({
      totalResults: 0,
      Resources: [],
    });
    const missing = await scim('get', `/Users/${crypto.randomUUID()}`);
    expect([missing.status, json(missing).status]).toEqual([404, '404']);
    const random = `Random.User.${crypto.randomBytes(4).toString('hex')}`;
    expect(json(await scim('get', q(`userName eq "${random}@atko.com"`))).totalResults).toBe(0);
    const createdRes = await scim('post', '/Users', okta(random));
    expect(createdRes.status).toBe(201);
    const created = json(createdRes);
    expect(created).toMatchObject({
      userName: `${random}@atko.com`,
      locale: 'en-US',
      active: true,
      name: { givenName: 'Test', familyName: random },
    });
    expect(json(await scim('get', `/Users/${created.id}`))).toEqual(created);
    const dupe = await scim('post', '/Users', okta(random));
    expect([dupe.status, json(dupe).scimType]).toEqual([409, 'uniqueness']);
    const upper = json(await scim('get', q(`userName eq "${random.toUpperCase()}@ATKO.COM"`)));
    expect(upper.Resources.map((r: { id: string }) => r.id)).toEqual([created.id]);
    const groups = await scim('get', '/Groups');
    expect([groups.status, json(groups)]).toEqual([
      200,
      { schemas: [SCIM.list], totalResults: 0, startIndex: 1, itemsPerPage: 0, Resources: [] },
    ]);

    // PUT round trip: what GET returned, changed, goes back whole (id, meta, read-only fields and all).
    const current = json(await scim('get', `/Users/${created.id}`));
    const put = await scim('put', `/Users/${created.id}`, {
      ...current,
      name: { ...current.name, givenName: 'Another' },
      groups: [],
    });
    expect(put.status).toBe(200);
    expect(json(put)).toMatchObject({
      ...current,
      name: { givenName: 'Another', familyName: random, formatted: `Another ${random}` },
      displayName: `Another ${random}`,
      meta: expect.any(Object),
    });

    // Deactivate by PATCH (Okta's path-less replace), reactivate and deactivate by PUT.
    const patched = await scim('patch', `/Users/${created.id}`, {
      schemas: [PATCH_OP],
      Operations: [{ op: 'replace', value: { active: false } }],
    });
    expect(json(patched).active).toBe(false);
    expect(json(await scim('put', `/Users/${created.id}`, { ...json(patched), active: true })).active).toBe(true);
    const byPut = await scim('put', `/Users/${created.id}`, { ...current, active: false });
    expect(json(byPut).active).toBe(false);
    expect((await UserModel.findById(created.id).lean())!.isActive).toBe(false);

    // Pagination over a few pages: every user once, in order.
    for (let i = 0; i < 5; i++) expect((await scim('post', '/Users', okta(`page.user.${i}`))).status).toBe(201);
    const all = json(await scim('get', '/Users?count=200'));
    expect(all.totalResults).toBeGreaterThanOrEqual(7);
    const seen: string[] = [];
    for (let start = 1; start <= all.totalResults; start += 3) {
      const page = json(await scim('get', `/Users?startIndex=${start}&count=3`));
      expect(page).toMatchObject({ startIndex: start, totalResults: all.totalResults });
      seen.push(...page.Resources.map((r: { id: string }) => r.id));
    }
    expect(seen).toEqual(all.Resources.map((r: { id: string }) => r.id));
    // Every user shares the one Atko account (an account name is reused, not duplicated).
    expect(await AccountModel.countDocuments({ name: 'Atko' })).toBe(1);
  });
});
