/**
 * Issue 26 item 9: API tokens have scopes and an expiry. Every /api and /scim route, called with a token
 * holding every scope but the one it needs, answers 403 naming that scope and writes nothing; expired
 * tokens are refused (401); scopes and expiry are chosen on the tokens page, shown in its list, and
 * refused beyond the creator's rights or the configured maximum.
 */
import request from 'supertest';
import mongoose from 'mongoose';
import { startTestApp, type TestApp } from '../../helpers/app';
import { adminAgent, makeAdmin, makeStaff } from '../../helpers/admin';
import { csrfFrom } from '../../helpers/forms';
import { OPERATIONS } from '../../../src/api/openapi';
import { API_SCOPES, createApiToken, scopeOfRequest, type ApiScope } from '../../../src/api/api-tokens';
import { loadActor } from '../../../src/access/actor';
import { ApiTokenModel, UserModel } from '../../../src/data/models';

let t: TestApp;
let adminId: mongoose.Types.ObjectId;
beforeAll(async () => {
  t = await startTestApp('api-token-scopes', { env: { API_TOKEN_DEFAULT_DAYS: '30', API_TOKEN_MAX_DAYS: '60' } });
  adminId = (await makeAdmin())!._id;
});
afterAll(() => t.stop());

const ID = '0123456789abcdef01234567';
async function tokenWith(scopes: ApiScope[], days?: number): Promise<string> {
  const actor = (await loadActor(adminId))!;
  return (await createApiToken(`scoped ${scopes.join('+')}`, { actor, via: 'admin' }, { scopes, days })).token;
}
const SCIM_ROUTES: [string, string][] = [
  ['get', '/Users'],
  ['post', '/Users'],
  ['get', '/Users/:id'],
  ['put', '/Users/:id'],
  ['patch', '/Users/:id'],
  ['delete', '/Users/:id'],
  ['get', '/ServiceProviderConfig'],
];

async function writes(): Promise<number[]> {
  const db = mongoose.connection.db!;
  return Promise.all(
    ['users', 'auditevents', 'ingestjobs', 'contacts', 'profiles', 'permissionsets', 'sites', 'licenses'].map((c) =>
      db.collection(c).estimatedDocumentCount(),
    ),
  );
}

describe('every route needs its scope', () => {
  const apiRoutes = OPERATIONS.filter((op) => op.path !== '/v1/openapi.json');

  it.each(apiRoutes.map((op) => [op.method.toUpperCase(), op.path] as const))(
    '%s /api%s without its scope: 403 naming it, nothing written',
    async (method, path) => {
      const needed = scopeOfRequest('api', method, path);
      const token = await tokenWith(API_SCOPES.filter((s) => s !== needed));
      const before = await writes();
      const res = await request(t.app)
        [method.toLowerCase() as 'get'](`/api${path.replace(/:\w+/g, ID)}`)
        .set('Authorization', `Bearer ${token}`)
        .send({});
      expect(res.status).toBe(403);
      expect(res.body.error).toMatchObject({ code: 'forbidden', permission: needed });
      expect(res.body.error.message).toContain(`lacks the scope ${needed}`);
      expect(await writes()).toEqual(before);
    },
  );

  it.each(SCIM_ROUTES)('%s /scim/v2%s without the scim scope: 403 naming it, nothing written', async (method, path) => {
    const token = await tokenWith(['users:read', 'users:write', 'bulk']);
    const before = await writes();
    const res = await request(t.app)
      [method as 'get'](`/scim/v2${path.replace(/:\w+/g, ID)}`)
      .set('Authorization', `Bearer ${token}`)
      .send({});
    expect(res.status).toBe(403);
    expect(res.text).toContain('lacks the scope scim');
    expect(await writes()).toEqual(before);
  });

  it('a token with the scope gets through (read, write, bulk, SCIM)', async () => {
    expect(
      (
        await request(t.app)
          .get('/api/v1/users')
          .set('Authorization', `Bearer ${await tokenWith(['users:read'])}`)
      ).status,
    ).toBe(200);
    expect(
      (
        await request(t.app)
          .post('/api/v1/users')
          .set('Authorization', `Bearer ${await tokenWith(['users:write'])}`)
          .send({ lastName: 'Scoped', email: 'scoped@example.com', sendInvitation: false })
      ).status,
    ).toBe(201);
    expect(
      (
        await request(t.app)
          .post('/api/v1/jobs/ingest')
          .set('Authorization', `Bearer ${await tokenWith(['bulk'])}`)
          .send({ object: 'User', operation: 'insert' })
      ).status,
    ).toBe(201);
    expect(
      (
        await request(t.app)
          .get('/scim/v2/Users')
          .set('Authorization', `Bearer ${await tokenWith(['scim'])}`)
      ).status,
    ).toBe(200);
  });
});

describe('expiry and creation', () => {
  it('refuses an expired token with 401, like a revoked one', async () => {
    const token = await tokenWith([...API_SCOPES], 1);
    await ApiTokenModel.updateOne({ prefix: token.slice(0, 10) }, { $set: { expiresAt: new Date(Date.now() - 1000) } });
    const res = await request(t.app).get('/api/v1/users').set('Authorization', `Bearer ${token}`);
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toContain('invalid_token');
  });

  it('the tokens page offers scopes and an expiry, shows them in the list, and refuses more days than the maximum', async () => {
    const admin = await adminAgent(t.app);
    const page = await admin.get('/admin/api-tokens');
    for (const s of API_SCOPES) expect(page.text).toContain(`<input type="checkbox" name="scopes" value="${s}"`);
    expect(page.text).toContain('value="30"');
    const tooLong = await admin
      .post('/admin/api-tokens')
      .type('form')
      .send({
        _csrf: csrfFrom(page.text),
        _once: /name="_once" value="([^"]+)"/.exec(page.text)![1],
        name: 'Too long',
        scopes: ['users:read'],
        days: '61',
      });
    expect(tooLong.status).toBe(422);
    expect(tooLong.text).toContain('Choose a whole number of days from 1 to 60.');
    const again = await admin.get('/admin/api-tokens');
    const made = await admin
      .post('/admin/api-tokens')
      .type('form')
      .send({
        _csrf: csrfFrom(again.text),
        _once: /name="_once" value="([^"]+)"/.exec(again.text)![1],
        name: 'Reader',
        scopes: ['users:read', 'bulk'],
        days: '10',
      });
    expect(made.status).toBe(201);
    expect(made.text).toMatch(/<td data-label="Name">Reader<\/td>.*?<td data-label="Scopes">users:read, bulk<\/td>/s);
    const record = (await ApiTokenModel.findOne({ name: 'Reader' }).lean())!;
    expect(record.scopes).toEqual(['users:read', 'bulk']);
    expect(Math.round((record.expiresAt!.getTime() - record.createdAt!.getTime()) / 86_400_000)).toBe(10);
    expect(await ApiTokenModel.countDocuments({ name: 'Too long' })).toBe(0);
  });

  it("refuses scopes beyond the creator's own rights: staff who do not manage users cannot mint a users:read token", async () => {
    const staff = await makeStaff('tokens.only@example.com', ['manageApiTokens']);
    const actor = (await loadActor(staff._id))!;
    await expect(createApiToken('Beyond', { actor, via: 'admin' }, { scopes: ['users:read'] })).rejects.toMatchObject({
      status: 403,
      permission: 'users:read',
    });
    expect(await ApiTokenModel.countDocuments({ name: 'Beyond' })).toBe(0);
    expect(await UserModel.countDocuments({ username: 'tokens.only@example.com' })).toBe(1);
  });
});
