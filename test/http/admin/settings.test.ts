import request from 'supertest';
import { parse } from 'csv-parse/sync';
import mongoose from 'mongoose';
import { startTestApp, type TestApp } from '../../helpers/app';
import { csrfFrom, postForm, registerGuest } from '../../helpers/forms';
import { adminAgent, ADMIN_PASSWORD, makeStaff } from '../../helpers/admin';
import { ApiTokenModel, LicenseModel, SiteModel, UserModel, AuditEventModel } from '../../../src/data/models';
import { issueSetupToken } from '../../../src/users/bootstrap';
import { actorForToken } from '../../../src/api/api-tokens';

let t: TestApp;
let admin: request.Agent;
beforeAll(async () => {
  t = await startTestApp('admin-settings');
});
afterAll(() => t.stop());

const post = (agent: request.Agent, path: string, fields: Record<string, string | string[]>) =>
  postForm(agent, '/admin', path, fields);

describe('first administrator setup link', () => {
  it('creates the first admin once, signed in, and refuses reuse, unknown and expired tokens', async () => {
    const token = await issueSetupToken();
    const agent = request.agent(t.app);
    const page = await agent.get(`/admin/setup?token=${token}`);
    expect(page.status).toBe(200);
    const weak = await agent
      .post('/admin/setup')
      .type('form')
      .send({
        _csrf: csrfFrom(page.text),
        token,
        username: 'first@example.com',
        password: 'password',
        lastName: 'First',
      });
    expect(weak.status).toBe(422);
    const ok = await agent
      .post('/admin/setup')
      .type('form')
      .send({
        _csrf: csrfFrom(weak.text),
        token,
        username: 'first@example.com',
        password: ADMIN_PASSWORD,
        firstName: 'First',
        lastName: 'Admin',
      });
    expect(ok.status).toBe(303);
    expect((await agent.get('/admin')).status).toBe(200);
    expect((await request(t.app).get(`/admin/setup?token=${token}`)).status).toBe(404);
    expect((await request(t.app).get('/admin/setup?token=made-up')).status).toBe(404);
    const expired = await issueSetupToken(new Date(Date.now() - 2 * 3600_000));
    expect((await request(t.app).get(`/admin/setup?token=${expired}`)).status).toBe(404);
    admin = agent;
  });
});

describe('dashboard', () => {
  it('draws server-rendered SVG charts with titles', async () => {
    await registerGuest(t.app, { email: 'dash@example.com' });
    const res = await admin.get('/admin');
    expect(res.status).toBe(200);
    // Registrations and contactless/qualified as charts; seats as rows (test/http/admin/user-page.test.ts).
    expect((res.text.match(/<svg class="chart" role="img"/g) ?? []).length).toBe(2);
    expect(res.text).toContain('<ul class="seat-rows" id="seat-rows">');
    expect(res.text).toContain('<title id="c-reg-t">Registrations per day, last 30 days</title>');
    expect(res.text).toMatch(/Contactless: 1/);
  });
});

describe('sites', () => {
  it('creates a site with self-registration off, then turns it on', async () => {
    const page = await admin.get('/admin/sites');
    expect(page.text).toContain(
      'Publish a self-registration page at /s/portal/register: anyone can create an account with the External Identity User profile',
    );
    const profileId = /<option value="([0-9a-f]{24})" selected>External Identity User</.exec(page.text)![1];
    expect(
      (
        await post(admin, '/admin/sites', {
          name: 'Partners',
          slug: 'partners',
          registrationProfileId: profileId,
          selfRegistrationEnabled: 'on',
        })
      ).status,
    ).toBe(303);
    const site = (await SiteModel.findOne({ slug: 'partners' }).lean())!;
    expect(site.selfRegistrationEnabled).toBe(false);
    expect((await request(t.app).get('/s/partners/register')).status).toBe(404);
    expect(site.members).toEqual({ profiles: [], permissionSets: [] }); // new sites start with no members
    // The registration profile must be a member before self-registration can be turned on.
    const refused = await post(admin, `/admin/sites/${site._id}`, {
      name: 'Partners',
      slug: 'partners',
      registrationProfileId: profileId,
      selfRegistrationEnabled: 'on',
    });
    expect(refused.status).toBe(422);
    expect(refused.text).toMatch(/registration profile \(External Identity[^)]*\) must be a member of the site/);
    expect((await SiteModel.findById(site._id).lean())!.selfRegistrationEnabled).toBe(false);
    expect((await post(admin, `/admin/sites/${site._id}/members`, { profileIds: profileId })).status).toBe(303);
    await post(admin, `/admin/sites/${site._id}`, {
      name: 'Partners',
      slug: 'partners',
      registrationProfileId: profileId,
      selfRegistrationEnabled: 'on',
    });
    expect((await request(t.app).get('/s/partners/register')).status).toBe(200);
    const dup = await post(admin, '/admin/sites', {
      name: 'Again',
      slug: 'partners',
      registrationProfileId: profileId,
    });
    expect(dup.status).toBe(409);
    const bad = await post(admin, '/admin/sites', {
      name: 'Bad',
      slug: 'Not A Slug!',
      registrationProfileId: profileId,
    });
    expect(bad.status).toBe(422);
  });
});

describe('licenses', () => {
  it('edits total seats, never below the seats in use', async () => {
    const ei = (await LicenseModel.findOne({ name: 'External Identity' }).lean())!;
    expect((await post(admin, `/admin/licenses/${ei._id}`, { totalSeats: String(ei.usedSeats + 10) })).status).toBe(
      303,
    );
    const below = await post(admin, `/admin/licenses/${ei._id}`, { totalSeats: String(Math.max(0, ei.usedSeats - 1)) });
    expect(below.status).toBe(409);
    expect((await post(admin, `/admin/licenses/${ei._id}`, { totalSeats: '-3' })).status).toBe(422);
    expect((await LicenseModel.findById(ei._id).lean())!.totalSeats).toBe(ei.usedSeats + 10);
  });
});

describe('API tokens', () => {
  it('shows a new token once in #new-token, stores only a hash, and revokes', async () => {
    const created = await post(admin, '/admin/api-tokens', {
      name: 'CRM sync',
      scopes: ['users:read', 'users:write', 'bulk', 'scim'],
      days: '90',
    });
    expect(created.status).toBe(201);
    const token = /id="new-token">([^<]+)</.exec(created.text)![1];
    expect(JSON.stringify(await mongoose.connection.db!.collection('sessions').find().toArray())).not.toContain(token);
    expect(token).toMatch(/^ipt_/);
    expect((await admin.get('/admin/api-tokens')).text).not.toContain(token);
    const stored = (await ApiTokenModel.findOne({ name: 'CRM sync' }).select('+hash').lean())!;
    expect(stored.hash).not.toContain(token);
    expect(stored.lastUsedAt).toBeNull();
    // Within the token's expiry (90 days by default): an hour from now.
    const t0 = new Date(Date.now() + 3_600_000);
    expect(await actorForToken(token, t0)).not.toBeNull();
    expect((await ApiTokenModel.findById(stored._id).lean())!.lastUsedAt).toEqual(t0);
    // Within a minute the time is not rewritten; after it, it is.
    await actorForToken(token, new Date(t0.getTime() + 30_000));
    expect((await ApiTokenModel.findById(stored._id).lean())!.lastUsedAt).toEqual(t0);
    const t1 = new Date(t0.getTime() + 61_000);
    await actorForToken(token, t1);
    expect((await ApiTokenModel.findById(stored._id).lean())!.lastUsedAt).toEqual(t1);
    await post(admin, `/admin/api-tokens/${stored._id}/revoke`, {});
    expect(await actorForToken(token)).toBeNull();
  });

  it('needs the Manage API Tokens permission', async () => {
    await makeStaff('no-tokens@example.com', ['manageInternalUsers']);
    const staff = await adminAgent(t.app, 'no-tokens@example.com');
    const res = await staff.get('/admin/api-tokens');
    expect(res.status).toBe(403);
    expect(res.text).toMatch(/Manage API Tokens/);
  });
});

describe('audit trail', () => {
  it('lists events with filters and exports CSV with formula injection neutralised', async () => {
    await registerGuest(t.app, {
      firstName: '=HYPERLINK("http://evil")',
      lastName: '+cmd',
      email: 'formula@example.com',
    });
    const user = (await UserModel.findOne({ username: 'formula@example.com' }).lean())!;
    await post(admin, `/admin/users/${user._id}/edit`, {
      firstName: '=1+1',
      lastName: '@SUM(A1)',
      email: 'formula@example.com',
      communityNickname: '-nick',
      alias: 'f',
    });
    const page = await admin.get('/admin/audit?action=user.edited');
    const list = /<ol class="audit-list"[\s\S]*<\/ol>/.exec(page.text)![0];
    expect(list).toContain('data-action="user.edited"');
    expect(list).not.toContain('data-action="user.registered"');
    const csv = await admin.get('/admin/audit.csv?action=user.edited');
    expect(csv.headers['content-type']).toMatch(/text\/csv/);
    expect(csv.headers['content-disposition']).toMatch(/attachment; filename="?audit-trail.csv"?/);
    const lines = csv.text.trim().split('\n');
    expect(lines[0]).toBe('time,action,actor,onBehalfOf,target,targetId,before,after,ip,via');
    expect(lines).toHaveLength(2);
    expect(await AuditEventModel.countDocuments({ action: 'user.edited' })).toBe(1);
  });

  it('exports cells that start with = + - @ prefixed by a quote, so a spreadsheet shows them as text', async () => {
    // Token names land raw in the target column: a cell a spreadsheet would run as a formula.
    const names = ['=HYPERLINK("http://evil.example","x")', '+cmd|calc', '-2+3', '@SUM(A1)', 'plain name'];
    for (const name of names)
      await post(admin, '/admin/api-tokens', {
        name,
        scopes: ['users:read', 'users:write', 'bulk', 'scim'],
        days: '90',
      });
    const csv = await admin.get('/admin/audit.csv?action=api_token.created');
    const rows = parse(csv.text, { columns: true }) as Record<string, string>[];
    expect(
      rows
        .map((r) => r.target)
        .filter((v) => v !== 'CRM sync')
        .sort(),
    ).toEqual(["'+cmd|calc", "'-2+3", '\'=HYPERLINK("http://evil.example","x")', "'@SUM(A1)", 'plain name'].sort());
  });
});
