import { startTestApp, type TestApp } from '../../helpers/app';
import { adminAgent, makeAdmin, makeStaff } from '../../helpers/admin';
import { postForm } from '../../helpers/forms';
import { AuditEventModel, IdentityProviderModel, SiteModel } from '../../../src/data/models';
import { openSecret } from '../../../src/federation/secret-box';

let t: TestApp;
let siteId: string;
const SECRET = 'very-secret-client-secret-0123456789';
const page = () => `/admin/sites/${siteId}/identity-providers`;
const fields = {
  name: 'Example ID',
  issuer: 'https://id.example.com/',
  clientId: 'portal-client',
  clientSecret: SECRET,
  scopes: 'openid email profile',
  enabled: 'on',
};

beforeAll(async () => {
  t = await startTestApp('idp-admin');
  await makeAdmin();
  await makeStaff('viewer@example.com', ['viewAuditTrail']);
  siteId = String((await SiteModel.findOne({ slug: 'portal' }).lean())!._id);
});
afterAll(() => t.stop());
beforeEach(() => IdentityProviderModel.deleteMany({}));

describe('external identity providers on the Sites page', () => {
  it('adds a provider with its secret stored encrypted, never shown again, and audited', async () => {
    const admin = await adminAgent(t.app);
    const sites = await admin.get('/admin/sites');
    expect(sites.text).toContain(`href="${page()}"`);
    const res = await postForm(admin, page(), page(), fields);
    expect(res.status).toBe(303);
    const stored = await IdentityProviderModel.findOne().select('+clientSecret').lean();
    expect(stored).toMatchObject({
      name: 'Example ID',
      issuer: 'https://id.example.com',
      clientId: 'portal-client',
      scopes: 'openid email profile',
      enabled: true,
    });
    expect(stored!.clientSecret).not.toContain(SECRET);
    expect(openSecret(stored!.clientSecret)).toBe(SECRET);
    const shown = await admin.get(page());
    expect(shown.text).toContain('Example ID');
    expect(shown.text).toContain('http://localhost:3000/s/portal/sso/callback');
    expect(shown.text).not.toContain(SECRET);
    const audit = await AuditEventModel.findOne({ action: 'identity_provider.created' }).lean();
    expect(audit!.after).toMatchObject({ name: 'Example ID', clientSecret: 'set' });
    expect(JSON.stringify(audit)).not.toContain(SECRET);
  });

  it('keeps the secret when an edit leaves it blank, and replaces it when one is typed', async () => {
    const admin = await adminAgent(t.app);
    await postForm(admin, page(), page(), fields);
    const id = String((await IdentityProviderModel.findOne().lean())!._id);
    await postForm(admin, page(), `${page()}/${id}`, {
      ...fields,
      name: 'Renamed',
      clientSecret: '',
      enabled: '',
    } as Record<string, string>);
    let stored = await IdentityProviderModel.findById(id).select('+clientSecret').lean();
    expect(stored).toMatchObject({ name: 'Renamed', enabled: false });
    expect(openSecret(stored!.clientSecret)).toBe(SECRET);
    await postForm(admin, page(), `${page()}/${id}`, { ...fields, clientSecret: 'another-secret' });
    stored = await IdentityProviderModel.findById(id).select('+clientSecret').lean();
    expect(openSecret(stored!.clientSecret)).toBe('another-secret');
    expect(
      await AuditEventModel.countDocuments({ action: 'identity_provider.updated', 'target.id': stored!._id }),
    ).toBe(2);
  });

  it('refuses a plain-http issuer (other than loopback) and a scope list without openid, every field at once, writing nothing', async () => {
    const admin = await adminAgent(t.app);
    const res = await postForm(admin, page(), page(), {
      ...fields,
      issuer: 'http://id.example.com',
      scopes: 'email',
      _form: 'idp-new',
    });
    expect(res.status).toBe(422);
    expect(res.text).toMatch(/id="idp-new-issuer-error">Enter the provider&#39;s issuer URL/);
    expect(res.text).toMatch(/id="idp-new-scopes-error">List the scopes/);
    expect(res.text).not.toContain(SECRET);
    expect(await IdentityProviderModel.countDocuments()).toBe(0);
  });

  it('removes a provider (audited)', async () => {
    const admin = await adminAgent(t.app);
    await postForm(admin, page(), page(), fields);
    const id = String((await IdentityProviderModel.findOne().lean())!._id);
    const res = await postForm(admin, page(), `${page()}/${id}/remove`, {});
    expect(res.status).toBe(303);
    expect(await IdentityProviderModel.countDocuments()).toBe(0);
    expect(await AuditEventModel.countDocuments({ action: 'identity_provider.removed' })).toBe(1);
  });

  it('refuses staff without Manage Sites: no page, nothing written', async () => {
    const staff = await adminAgent(t.app, 'viewer@example.com');
    const res = await staff.get(page());
    expect(res.status).toBe(403);
    const sent = await staff
      .post(page())
      .type('form')
      .send({ ...fields, _csrf: /name="_csrf" value="([^"]+)"/.exec((await staff.get('/admin')).text)?.[1] ?? '' });
    expect(sent.status).toBe(403);
    expect(await IdentityProviderModel.countDocuments()).toBe(0);
  });
});
