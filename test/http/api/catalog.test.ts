import request from 'supertest';
import { startTestApp, type TestApp } from '../../helpers/app';
import { adminToken, staffToken } from './tokens';
import { AccountModel, ContactModel, LicenseModel, DelegatedAdminGroupModel } from '../../../src/data/models';
import { apiRouter } from '../../../src/api';
import { OPERATIONS, openApiPath } from '../../../src/api/openapi';
import type { AppDeps } from '../../../src/http/deps';

let t: TestApp;
let token: string;
beforeAll(async () => {
  t = await startTestApp('api-catalog');
  token = (await adminToken()).token;
});
afterAll(() => t.stop());

const get = (p: string, tk = token) => request(t.app).get(`/api/v1${p}`).set('Authorization', `Bearer ${tk}`);
const patch = (p: string, body: unknown, tk = token) =>
  request(t.app)
    .patch(`/api/v1${p}`)
    .set('Authorization', `Bearer ${tk}`)
    .send(body as object);

describe('profiles, licenses, sites, contacts', () => {
  it('lists profiles with their license and whether it needs a contact', async () => {
    const res = await get('/profiles');
    expect(res.status).toBe(200);
    expect(res.body.records).toContainEqual(
      expect.objectContaining({
        name: 'External Identity User',
        userType: 'customer',
        requiresContact: false,
        license: expect.objectContaining({ name: 'External Identity' }),
      }),
    );
    expect(res.body.records).toContainEqual(
      expect.objectContaining({ name: 'Customer Community User', requiresContact: true }),
    );
  });

  it('lists licenses with seats and changes total seats (never below those in use)', async () => {
    const res = await get('/licenses');
    const community = res.body.records.find((l: { name: string }) => l.name === 'Customer Community');
    expect(community).toMatchObject({ totalSeats: 100, usedSeats: 0, requiresContact: true });
    const changed = await patch(`/licenses/${community.id}`, { totalSeats: 120 });
    expect(changed.status).toBe(200);
    expect(changed.body.totalSeats).toBe(120);
    await LicenseModel.updateOne({ _id: community.id }, { $set: { usedSeats: 5 } });
    const below = await patch(`/licenses/${community.id}`, { totalSeats: 4 });
    expect(below.status).toBe(409);
    expect(below.body.error.code).toBe('seats_in_use');
    for (const body of [
      { totalSeats: -1 },
      { totalSeats: 1.5 },
      { totalSeats: '10' },
      { totalSeats: 10, usedSeats: 0 },
      {},
    ]) {
      expect((await patch(`/licenses/${community.id}`, body)).status).toBe(400);
    }
    expect((await patch('/licenses/0123456789abcdef01234567', { totalSeats: 1 })).status).toBe(404);
    expect((await patch('/licenses/nope', { totalSeats: 1 })).status).toBe(404);
    const { token: noLicenses } = await staffToken('no-licenses@example.com', ['manageInternalUsers']);
    const refused = await patch(`/licenses/${community.id}`, { totalSeats: 200 }, noLicenses);
    expect(refused.status).toBe(403);
    expect(refused.body.error.permission).toBe('manageLicenses');
  });

  it('lists sites', async () => {
    const res = await get('/sites');
    expect(res.body.records).toContainEqual(
      expect.objectContaining({
        slug: 'portal',
        selfRegistrationEnabled: true,
        registrationProfile: expect.objectContaining({ name: 'External Identity User' }),
      }),
    );
  });

  it('reads a contact; delegated admins only within their accounts', async () => {
    const mine = await AccountModel.create({ name: 'Delegated Co' });
    const other = await AccountModel.create({ name: 'Other Co' });
    const inScope = await ContactModel.create({ firstName: 'In', lastName: 'Scope', account: mine._id });
    const outOfScope = await ContactModel.create({ lastName: 'Out', account: other._id });
    const res = await get(`/contacts/${inScope._id}`);
    expect(res.body).toMatchObject({
      id: String(inScope._id),
      firstName: 'In',
      lastName: 'Scope',
      account: { name: 'Delegated Co' },
      userId: null,
    });
    const delegate = await staffToken('delegate@example.com', []);
    await DelegatedAdminGroupModel.create({ name: 'Delegates', members: [delegate.userId], accounts: [mine._id] });
    expect((await get(`/contacts/${inScope._id}`, delegate.token)).status).toBe(200);
    const refused = await get(`/contacts/${outOfScope._id}`, delegate.token);
    expect(refused.status).toBe(403);
    expect((await get('/contacts/0123456789abcdef01234567')).status).toBe(404);
    expect((await get('/contacts/nope')).status).toBe(404);
  });

  it('answers JSON 404 for unknown API paths (after the token check)', async () => {
    const res = await get('/nothing-here');
    expect(res.status).toBe(404);
    expect(res.body.error.code).toBe('not_found');
  });
});

describe('the OpenAPI document', () => {
  it('is served as OpenAPI 3.1 to token holders', async () => {
    expect((await request(t.app).get('/api/v1/openapi.json')).status).toBe(401);
    const res = await get('/openapi.json');
    expect(res.status).toBe(200);
    expect(res.body.openapi).toBe('3.1.0');
    expect(
      res.body.paths['/users'].post.requestBody.content['application/json'].schema.properties.lastName,
    ).toBeDefined();
    expect(res.body.paths['/users'].post.requestBody.content['application/json'].schema.additionalProperties).toBe(
      false,
    );
    expect(res.body.paths['/users'].get.parameters.map((p: { name: string }) => p.name)).toEqual(
      expect.arrayContaining([
        'username',
        'email',
        'contactless',
        'license',
        'profile',
        'site',
        'active',
        'q',
        'cursor',
        'limit',
      ]),
    );
    // Job result files: spreadsheet-safe unless raw=true.
    const results = res.body.paths['/jobs/ingest/{id}/successfulResults'].get;
    expect(results.parameters).toContainEqual(
      expect.objectContaining({ name: 'raw', in: 'query', schema: { type: 'string', enum: ['true', 'false'] } }),
    );
    expect(results.parameters.some((p: { name: string }) => p.name === 'spreadsheetSafe')).toBe(false);
    expect(results.responses['200'].description).toMatch(/spreadsheet-safe by default/);
  });

  it('documents every route the router serves, and routes every documented operation', async () => {
    const router = apiRouter({} as AppDeps);
    const routed = new Set<string>();
    for (const layer of router.stack as { route?: { path: string; methods: Record<string, boolean> } }[]) {
      if (!layer.route) continue;
      for (const [method, on] of Object.entries(layer.route.methods))
        if (on && method !== '_all') routed.add(`${method.toUpperCase()} ${openApiPath(layer.route.path)}`);
    }
    const doc = (await get('/openapi.json')).body as { paths: Record<string, Record<string, unknown>> };
    const documented = new Set(
      Object.entries(doc.paths).flatMap(([p, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${p}`)),
    );
    expect([...routed].sort()).toEqual([...documented].sort());
    expect(documented.size).toBe(OPERATIONS.length);
    expect(routed.size).toBeGreaterThanOrEqual(24);
  });
});
