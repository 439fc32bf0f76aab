/**
 * Connected apps through the REST API and the admin pages: created with a secret shown once and stored
 * hashed, URIs checked, edits, a new secret, deletion revoking what was issued, every change audited;
 * and the CSP's form-action opened to the registered apps' origins only.
 */
import crypto from 'node:crypto';
import request from 'supertest';
import { startTestApp, type TestApp } from '../../helpers/app';
import { adminToken } from '../api/tokens';
import { adminAgent, makeAdmin } from '../../helpers/admin';
import { csrfFrom } from '../../helpers/forms';
import { AuditEventModel, ConnectedAppModel, OidcRecordModel, SiteModel } from '../../../src/data/models';

let t: TestApp;
let token: string;
let siteId: string;
beforeAll(async () => {
  t = await startTestApp('oidc_apps');
  token = (await adminToken()).token;
  siteId = String((await SiteModel.findOne({ slug: 'portal' }).lean())!._id);
});
afterAll(() => t.stop());

const api = () => ({
  get: (p: string) => request(t.app).get(`/api/v1${p}`).set('Authorization', `Bearer ${token}`),
  post: (p: string, body: unknown) =>
    request(t.app)
      .post(`/api/v1${p}`)
      .set('Authorization', `Bearer ${token}`)
      .send(body as object),
  patch: (p: string, body: unknown) =>
    request(t.app)
      .patch(`/api/v1${p}`)
      .set('Authorization', `Bearer ${token}`)
      .send(body as object),
  delete: (p: string) => request(t.app).delete(`/api/v1${p}`).set('Authorization', `Bearer ${token}`),
});
const sha256 = (s: string) => crypto.createHash('sha256').update(s).digest('hex');
const newApp = (over: Record<string, unknown> = {}) => ({
  name: 'Orders',
  siteId,
  redirectUris: ['https://orders.example.com/callback'],
  scopes: ['email'],
  firstParty: true,
  type: 'confidential',
  ...over,
});

describe('REST API', () => {
  it('creates a confidential app: the secret once in the answer, only its hash stored, openid always allowed', async () => {
    const res = await api().post('/apps', newApp()).expect(201);
    expect(res.body.clientSecret).toMatch(/^[\w-]{43}$/);
    expect(res.body.scopes).toEqual(['openid', 'email']);
    const stored = await ConnectedAppModel.findById(res.body.id).lean();
    expect(stored!.secretHash).toBe(sha256(res.body.clientSecret));
    expect(JSON.stringify(stored)).not.toContain(res.body.clientSecret);
    const read = await api().get(`/apps/${res.body.id}`).expect(200);
    expect(read.body).not.toHaveProperty('clientSecret');
    expect(read.body.clientId).toBe(res.body.clientId);
    expect(await AuditEventModel.countDocuments({ action: 'connected_app.created', 'target.id': stored!._id })).toBe(1);
  });

  it('a public app has no secret', async () => {
    const res = await api()
      .post('/apps', newApp({ name: 'Mobile', type: 'public' }))
      .expect(201);
    expect(res.body).not.toHaveProperty('clientSecret');
    expect((await ConnectedAppModel.findById(res.body.id).lean())!.secretHash).toBeNull();
    expect((await api().post(`/apps/${res.body.id}/secret`, {}).expect(400)).body.error.fields).toHaveProperty('type');
  });

  it.each([
    ['plain http off loopback', 'http://orders.example.com/cb'],
    ['a fragment', 'https://orders.example.com/cb#x'],
    ['a relative address', '/cb'],
    ['a javascript: address', 'javascript:alert(1)'],
  ])('refuses a redirect URI with %s (400 naming the field), writing nothing', async (_what, uri) => {
    const before = await ConnectedAppModel.countDocuments();
    const res = await api()
      .post('/apps', newApp({ redirectUris: [uri] }))
      .expect(400);
    expect(res.body.error.fields).toHaveProperty('redirectUris');
    expect(await ConnectedAppModel.countDocuments()).toBe(before);
  });

  it('refuses an unknown scope and an unknown field', async () => {
    expect(
      (
        await api()
          .post('/apps', newApp({ scopes: ['admin'] }))
          .expect(400)
      ).body.error.fields,
    ).toHaveProperty('scopes');
    expect(
      (
        await api()
          .post('/apps', newApp({ secretHash: 'x' }))
          .expect(400)
      ).body.error.fields,
    ).toHaveProperty('secretHash');
  });

  it('edits, gives a new secret (the old hash replaced) and deletes with every grant revoked', async () => {
    const created = (
      await api()
        .post('/apps', newApp({ name: 'Short-lived' }))
        .expect(201)
    ).body;
    const patched = await api()
      .patch(`/apps/${created.id}`, {
        name: 'Renamed',
        siteId,
        redirectUris: ['https://renamed.example.com/cb'],
        scopes: ['profile'],
        firstParty: false,
      })
      .expect(200);
    expect(patched.body).toMatchObject({
      name: 'Renamed',
      firstParty: false,
      type: 'confidential',
      scopes: ['openid', 'profile'],
    });
    const rotated = await api().post(`/apps/${created.id}/secret`, {}).expect(200);
    expect(rotated.body.clientSecret).not.toBe(created.clientSecret);
    expect((await ConnectedAppModel.findById(created.id).lean())!.secretHash).toBe(sha256(rotated.body.clientSecret));
    await OidcRecordModel.create({
      _id: 'Grant:g-app',
      kind: 'Grant',
      clientId: created.clientId,
      payload: { clientId: created.clientId },
    });
    await OidcRecordModel.create({
      _id: 'RefreshToken:r-app',
      kind: 'RefreshToken',
      grantId: 'g-app',
      clientId: created.clientId,
      payload: {},
    });
    await api().delete(`/apps/${created.id}`).expect(204);
    expect(await ConnectedAppModel.countDocuments({ _id: created.id })).toBe(0);
    expect(await OidcRecordModel.countDocuments({ clientId: created.clientId })).toBe(0);
    const actions = (await AuditEventModel.find({ 'target.id': created.id }).sort({ at: 1 }).lean()).map(
      (e) => e.action,
    );
    expect(actions).toEqual([
      'connected_app.created',
      'connected_app.updated',
      'connected_app.secret_rotated',
      'connected_app.deleted',
    ]);
  });
});

describe('admin pages', () => {
  it('creates an app from the form, shows its secret once, lists it', async () => {
    await makeAdmin();
    const agent = await adminAgent(t.app);
    const page = await agent.get('/admin/apps').expect(200);
    const nonce = /name="_once" value="([^"]+)"/.exec(page.text)![1];
    const res = await agent
      .post('/admin/apps')
      .type('form')
      .send({
        _csrf: csrfFrom(page.text),
        _once: nonce,
        name: 'Helpdesk',
        siteId,
        redirectUris: 'https://help.example.com/cb\nhttps://help.example.com/cb2',
        postLogoutRedirectUris: '',
        scopes: ['email', 'portal'],
        firstParty: 'yes',
        type: 'confidential',
      })
      .expect(201);
    const secret = /id="new-token">([^<]+)</.exec(res.text)![1];
    const stored = await ConnectedAppModel.findOne({ name: 'Helpdesk' }).lean();
    expect(stored!.secretHash).toBe(sha256(secret));
    expect(stored!.redirectUris).toEqual(['https://help.example.com/cb', 'https://help.example.com/cb2']);
    const list = await agent.get('/admin/apps').expect(200);
    expect(list.text).toContain(stored!.clientId);
    expect(list.text).not.toContain(secret);
  });

  it('shows the form again with the problem, writing nothing, for a bad address', async () => {
    const agent = await adminAgent(t.app);
    const page = await agent.get('/admin/apps');
    const before = await ConnectedAppModel.countDocuments();
    const res = await agent
      .post('/admin/apps')
      .type('form')
      .send({
        _csrf: csrfFrom(page.text),
        _once: /name="_once" value="([^"]+)"/.exec(page.text)![1],
        name: 'Bad',
        siteId,
        redirectUris: 'http://evil.example/cb',
        scopes: 'email',
        type: 'public',
      })
      .expect(422);
    expect(res.text).toContain('Use https (http only for localhost).');
    expect(await ConnectedAppModel.countDocuments()).toBe(before);
  });
});

it("the CSP form-action names the registered apps' origins, so a sign-in can end at the app", async () => {
  const res = await request(t.app).get('/s/portal/login').expect(200);
  const formAction = /form-action ([^;]+)/.exec(res.headers['content-security-policy'])![1];
  expect(formAction.split(' ')).toEqual(
    expect.arrayContaining(["'self'", 'https://orders.example.com', 'https://help.example.com']),
  );
  expect(formAction).not.toContain('renamed.example.com');
});
