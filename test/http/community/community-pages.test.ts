/**
 * Community pages over HTTP: admins holding Manage Licenses or Manage Profiles author them (others get
 * 403 and nothing is written), unsafe links and an empty audience are refused with nothing written,
 * every change is audited; a signed-in person sees in the Community area the pages whose audience they
 * are in, text escaped; a page not theirs is a 403 that does not say its title, another site's page or
 * no page a 404; the upgrade (admin page, API and a bulk run from the queue) mails the person in their
 * language and shows the notice, with the pages it opened, once (an admin logged in as them does not use
 * it up); the API authors pages with the same rules.
 */
import request from 'supertest';
import type { Types } from 'mongoose';
import { startTestApp, type TestApp } from '../../helpers/app';
import { adminAgent, makeAdmin, makeStaff } from '../../helpers/admin';
import { csrfFrom, postForm, registerGuest } from '../../helpers/forms';
import { adminToken } from '../api/tokens';
import { deliverToOutbox, mailTo } from '../../helpers/mail';
import { AuditEventModel, CommunityPageModel, ProfileModel, SiteModel, UserModel } from '../../../src/data/models';
import { systemContext } from '../../../src/access/actor';
import { addContactAndAssociate } from '../../../src/qualification/qualification';
import { processAvailableBulkJobs } from '../../../src/qualification/bulk-action-worker';

let t: TestApp;
let admin: request.Agent;
let adminId: Types.ObjectId;
let portal: Types.ObjectId;
let customerLicense: Types.ObjectId;
let customerProfile: Types.ObjectId;
beforeAll(async () => {
  t = await startTestApp('community-pages');
  adminId = (await makeAdmin())!._id;
  admin = await adminAgent(t.app);
  portal = (await SiteModel.findOne({ slug: 'portal' }).lean())!._id;
  customerProfile = (await ProfileModel.findOne({ name: 'Customer Community User' }).lean())!._id;
  customerLicense = (await ProfileModel.findById(customerProfile).lean())!.license;
});
afterAll(() => t.stop());

async function createPage(agent: request.Agent, fields: Record<string, string | string[]>) {
  const form = await agent.get(`/admin/community?site=${portal}`);
  return agent
    .post('/admin/community')
    .type('form')
    .send({ _csrf: csrfFrom(form.text), siteId: String(portal), ...fields });
}

describe('authoring', () => {
  it('creates a page with its text, links and audience, audited, and lists it', async () => {
    const res = await createPage(admin, {
      title: 'Partner handbook',
      text: '## Start here\n\nRead <script>alert(1)</script> first.\n\n- one\n- two',
      links: 'Docs | https://docs.example.com/start\nStatus | http://status.example.com',
      licenseIds: String(customerLicense),
    });
    expect(res.status).toBe(303);
    const page = (await CommunityPageModel.findOne({ title: 'Partner handbook' }).lean())!;
    expect(page.links).toEqual([
      { label: 'Docs', url: 'https://docs.example.com/start' },
      { label: 'Status', url: 'http://status.example.com' },
    ]);
    expect(page.audience!.licenses.map(String)).toEqual([String(customerLicense)]);
    const audit = await AuditEventModel.findOne({ action: 'community_page.created', 'target.id': page._id }).lean();
    expect(audit?.actor?.id).toEqual(adminId);
    const list = await admin.get(`/admin/community?site=${portal}`);
    expect(list.text).toContain('Partner handbook');
    expect(list.text).toContain('Customer Community');
  });

  it('refuses a javascript: link and an empty audience, saying why, and writes nothing', async () => {
    const before = await CommunityPageModel.countDocuments();
    const bad = await createPage(admin, {
      title: 'Bad links',
      text: '',
      links: 'Click | javascript:alert(1)',
      licenseIds: String(customerLicense),
    });
    expect(bad.status).toBe(422);
    expect(bad.text).toContain('Each link needs an address starting with https:// or http://.');
    const noAudience = await createPage(admin, { title: 'For nobody', text: 'x', links: '' });
    expect(noAudience.status).toBe(422);
    expect(noAudience.text).toContain('Choose at least one license or profile');
    const forged = await createPage(admin, { title: 'Forged', text: 'x', licenseIds: { $ne: 'x' } as never });
    expect(forged.status).toBe(422);
    expect(await CommunityPageModel.countDocuments()).toBe(before);
  });

  it('refuses an admin without Manage Licenses or Manage Profiles, and lets one with Manage Profiles in', async () => {
    await makeStaff('no-licenses@example.com', ['manageInternalUsers', 'manageSites']);
    const staff = await adminAgent(t.app, 'no-licenses@example.com');
    expect((await staff.get('/admin/community')).status).toBe(403);
    const token = csrfFrom((await staff.get('/admin/dashboard')).text);
    const before = await CommunityPageModel.countDocuments();
    const post = await staff
      .post('/admin/community')
      .type('form')
      .send({ _csrf: token, siteId: String(portal), title: 'Sneaky', licenseIds: String(customerLicense) });
    expect(post.status).toBe(403);
    expect(await CommunityPageModel.countDocuments()).toBe(before);

    await makeStaff('profiles-admin@example.com', ['manageProfiles']);
    const profiles = await adminAgent(t.app, 'profiles-admin@example.com');
    expect((await profiles.get('/admin/community')).status).toBe(200);
  });

  it('edits and removes a page, each audited', async () => {
    await createPage(admin, { title: 'Draft', text: 'v1', profileIds: String(customerProfile) });
    const page = (await CommunityPageModel.findOne({ title: 'Draft' }).lean())!;
    const edit = await admin.get(`/admin/community/${page._id}`);
    expect(edit.text).toContain('v1');
    const saved = await admin
      .post(`/admin/community/${page._id}`)
      .type('form')
      .send({ _csrf: csrfFrom(edit.text), title: 'Draft 2', text: 'v2', profileIds: String(customerProfile) });
    expect(saved.status).toBe(303);
    expect((await CommunityPageModel.findById(page._id).lean())!.text).toBe('v2');
    const removed = await admin
      .post(`/admin/community/${page._id}/delete`)
      .type('form')
      .send({ _csrf: csrfFrom(edit.text) });
    expect(removed.status).toBe(303);
    expect(await CommunityPageModel.exists({ _id: page._id })).toBeNull();
    const actions = (await AuditEventModel.find({ 'target.id': page._id }).sort({ at: 1 }).lean()).map((e) => e.action);
    expect(actions).toEqual(['community_page.created', 'community_page.updated', 'community_page.deleted']);
  });
});

describe('the Community area and the upgrade notice', () => {
  let handbook: Types.ObjectId;
  let otherSitePage: Types.ObjectId;
  beforeAll(async () => {
    handbook = (await CommunityPageModel.findOne({ title: 'Partner handbook' }).lean())!._id;
    const members = await SiteModel.create({
      name: 'Elsewhere',
      slug: 'elsewhere',
      selfRegistrationEnabled: false,
      registrationProfile: customerProfile,
      members: { profiles: [customerProfile], permissionSets: [] },
    });
    otherSitePage = (
      await CommunityPageModel.create({
        site: members._id,
        title: 'Elsewhere only',
        audience: { licenses: [customerLicense], profiles: [] },
      })
    )._id;
  });

  const upgradeViaAdminPage = async (userId: Types.ObjectId) => {
    const page = await admin.get(`/admin/users/${userId}`);
    return admin
      .post(`/admin/users/${userId}/upgrade`)
      .type('form')
      .send({ _csrf: csrfFrom(page.text), profileId: String(customerProfile) });
  };

  it('keeps a page closed to a contactless person without its title, and answers 404 for no page or another site', async () => {
    const { agent } = await registerGuest(t.app, { firstName: 'Cleo', email: 'cleo@example.com' });
    const area = await agent.get('/s/portal/account/community');
    expect(area.status).toBe(200);
    expect(area.text).toContain('id="community-none"');
    expect(area.text).not.toContain('Partner handbook');
    const closed = await agent.get(`/s/portal/account/community/${handbook}`);
    expect(closed.status).toBe(403);
    expect(closed.text).not.toContain('Partner handbook');
    expect(closed.text).not.toContain('docs.example.com');
    expect(closed.text).toContain('id="ask-to-join"');
    expect((await agent.get(`/s/portal/account/community/${otherSitePage}`)).status).toBe(404);
    expect((await agent.get('/s/portal/account/community/000000000000000000000000')).status).toBe(404);
    expect((await agent.get('/s/portal/account/community/not-an-id')).status).toBe(404);
    const visitor = await request(t.app).get(`/s/portal/account/community/${handbook}`);
    expect(visitor.status).toBe(302);
    expect(visitor.headers.location).toMatch(/^\/s\/portal\/login\?returnTo=/);
  });

  it('an upgrade on the admin page mails the person and shows the notice, with the pages it opened, once', async () => {
    const { agent } = await registerGuest(t.app, { firstName: 'Dora', email: 'dora@example.com' });
    const user = (await UserModel.findOne({ username: 'dora@example.com' }).lean())!;
    await addContactAndAssociate(user._id, { lastName: 'Dora', accountName: 'Dora Inc' }, systemContext);
    expect((await upgradeViaAdminPage(user._id)).status).toBe(303);

    await deliverToOutbox();
    const mails = (await mailTo('dora@example.com')).filter((m) => m.template === 'upgrade-notice');
    expect(mails.map((m) => m.state)).toEqual(['sent']);
    expect(mails).toHaveLength(1);
    expect(mails[0].subject).toBe('You are now a member: Customer Community');
    expect(mails[0].text).toContain('- Partner handbook');
    expect(mails[0].text).toContain('/s/portal/account/community');

    const first = await agent.get('/s/portal/account');
    expect(first.text).toContain('id="upgrade-notice"');
    expect(first.text).toContain('Your account was upgraded to Customer Community User (Customer Community).');
    expect(first.text).toContain(`href="/s/portal/account/community/${handbook}"`);
    const second = await agent.get('/s/portal/account');
    expect(second.text).not.toContain('id="upgrade-notice"');

    const area = await agent.get('/s/portal/account/community');
    expect(area.text).toContain('Partner handbook');
    const page = await agent.get(`/s/portal/account/community/${handbook}`);
    expect(page.status).toBe(200);
    expect(page.text).toContain('<h2>Start here</h2>');
    expect(page.text).toContain('Read &lt;script&gt;alert(1)&lt;/script&gt; first.');
    expect(page.text).not.toContain('<script>alert(1)');
    expect(page.text).toContain('<li>one</li>');
    expect(page.text).toContain('href="https://docs.example.com/start"');
  });

  it("an upgrade through the API mails in the person's language and shows the notice once", async () => {
    const { agent } = await registerGuest(t.app, { firstName: 'Emi', email: 'emi@example.com' });
    const user = (await UserModel.findOne({ username: 'emi@example.com' }).lean())!;
    await UserModel.updateOne({ _id: user._id }, { $set: { languageLocaleKey: 'ja_JP' } });
    await addContactAndAssociate(user._id, { lastName: 'Emi', accountName: 'Emi KK' }, systemContext);
    const { token } = await adminToken();
    const res = await request(t.app)
      .post(`/api/v1/users/${user._id}/upgrade`)
      .set('Authorization', `Bearer ${token}`)
      .send({ profileId: String(customerProfile) });
    expect(res.status).toBe(200);
    await deliverToOutbox();
    const mails = (await mailTo('emi@example.com')).filter((m) => m.template === 'upgrade-notice');
    expect(mails.map((m) => m.state)).toEqual(['sent']);
    expect(mails).toHaveLength(1);
    expect(mails[0].subject).toBe('メンバーになりました: Customer Community');
    const first = await agent.get('/s/portal/');
    expect(first.text).toContain('id="upgrade-notice"');
    expect((await agent.get('/s/portal/')).text).not.toContain('id="upgrade-notice"');
  });

  it('an admin logged in as the person does not use up their notice', async () => {
    const { agent } = await registerGuest(t.app, { firstName: 'Gus', email: 'gus@example.com' });
    const user = (await UserModel.findOne({ username: 'gus@example.com' }).lean())!;
    await addContactAndAssociate(user._id, { lastName: 'Gus', accountName: 'Gus GmbH' }, systemContext);
    expect((await upgradeViaAdminPage(user._id)).status).toBe(303);
    const helper = await adminAgent(t.app);
    const start = await postForm(helper, '/admin', `/admin/users/${user._id}/login-as`, {});
    expect(start.headers.location).toBe('/s/portal/');
    const asAdmin = await helper.get('/s/portal/account');
    expect(asAdmin.text).toContain('id="login-as-banner"');
    expect(asAdmin.text).not.toContain('id="upgrade-notice"');
    expect((await agent.get('/s/portal/account')).text).toContain('id="upgrade-notice"');
  });

  it('a bulk upgrade from the queue mails each person and shows each the notice once', async () => {
    const { agent } = await registerGuest(t.app, { firstName: 'Flo', email: 'flo@example.com' });
    const user = (await UserModel.findOne({ username: 'flo@example.com' }).lean())!;
    await addContactAndAssociate(user._id, { lastName: 'Flo', accountName: 'Flo Ltd' }, systemContext);
    const queue = await admin.get('/admin/qualify');
    const run = await admin
      .post('/admin/qualify/run')
      .type('form')
      .send({
        _csrf: csrfFrom(queue.text),
        action: 'upgrade',
        profileId: String(customerProfile),
        userIds: String(user._id),
      });
    expect(run.status).toBe(303);
    expect(await processAvailableBulkJobs({ owner: 'community-test' })).toBe(1);
    expect((await UserModel.findById(user._id).lean())!.profile).toEqual(customerProfile);
    await deliverToOutbox();
    const mails = (await mailTo('flo@example.com')).filter((m) => m.template === 'upgrade-notice');
    expect(mails.map((m) => m.state)).toEqual(['sent']);
    expect(mails).toHaveLength(1);
    expect(mails[0].text).toContain('- Partner handbook');
    const first = await agent.get('/s/portal/account');
    expect(first.text).toContain('id="upgrade-notice"');
    expect((await agent.get('/s/portal/account')).text).not.toContain('id="upgrade-notice"');
  });
});

describe('the API', () => {
  it('creates, lists, changes and removes a page with the same rules, each audited', async () => {
    const { token } = await adminToken('api-pages@example.com');
    const api = (method: 'get' | 'post' | 'patch' | 'delete', path: string, body?: object) =>
      request(t.app)[method](`/api/v1${path}`).set('Authorization', `Bearer ${token}`).send(body);
    const created = await api('post', '/community-pages', {
      siteId: String(portal),
      title: 'API page',
      text: 'Hello',
      links: [{ label: 'Home', url: 'https://example.com/' }],
      profileIds: [String(customerProfile)],
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      siteId: String(portal),
      title: 'API page',
      links: [{ label: 'Home', url: 'https://example.com/' }],
      audience: { licenseIds: [], profileIds: [String(customerProfile)] },
    });
    const id = created.body.id as string;
    const listed = await api('get', `/community-pages?siteId=${portal}`);
    expect(listed.body.records.map((r: { title: string }) => r.title)).toContain('API page');
    expect((await api('get', '/community-pages?siteId[$ne]=x')).status).toBeGreaterThanOrEqual(400);

    const unsafe = await api('patch', `/community-pages/${id}`, { links: [{ label: 'x', url: 'data:text/html,hi' }] });
    expect(unsafe.status).toBe(400);
    expect(unsafe.body.error.fields.links).toBe('Each link needs an address starting with https:// or http://.');
    const changed = await api('patch', `/community-pages/${id}`, { title: 'API page 2' });
    expect(changed.status).toBe(200);
    expect(changed.body).toMatchObject({ title: 'API page 2', text: 'Hello', links: [{ label: 'Home' }] });
    expect((await api('delete', `/community-pages/${id}`)).status).toBe(204);
    expect((await api('get', `/community-pages/${id}`)).status).toBe(404);
    const actions = (await AuditEventModel.find({ 'target.id': id }).sort({ at: 1 }).lean()).map((e) => e.action);
    expect(actions).toEqual(['community_page.created', 'community_page.updated', 'community_page.deleted']);
  });
});
