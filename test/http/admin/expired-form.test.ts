/**
 * A form whose CSRF token no longer holds (a missing or stale token, a session that changed meanwhile) is
 * shown again with what was typed (never a password), a fresh token and "Your session expired; check and
 * submit again", as 403, and nothing is written. Routes that are not forms still get the error page.
 */
import request from 'supertest';
import { startTestApp, type TestApp } from '../../helpers/app';
import { csrfFrom, GOOD_PASSWORD, postForm, registerGuest, solvedPow } from '../../helpers/forms';
import { adminAgent, makeAdmin } from '../../helpers/admin';
import { AuditEventModel, ProfileModel, SiteModel, UserModel } from '../../../src/data/models';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp('expired-form');
  await makeAdmin();
});
afterAll(() => t.stop());

const inputValue = (html: string, name: string) => new RegExp(`name="${name}"[^>]*value="([^"]*)"`).exec(html)?.[1];

describe('a form whose CSRF token expired', () => {
  it('registration: shows the form again with the typed values, a fresh token and no password, creating nobody', async () => {
    const agent = request.agent(t.app);
    const page = await agent.get('/s/portal/register');
    const users = await UserModel.countDocuments();
    const res = await agent.post('/s/portal/register').type('form').send({
      _csrf: 'stale-token-from-yesterday',
      firstName: 'Grace',
      lastName: 'Hopper',
      email: 'grace@example.com',
      password: GOOD_PASSWORD,
      passwordConfirm: GOOD_PASSWORD,
    });
    expect(res.status).toBe(403);
    expect(res.text).toContain('Your session expired; check and submit again.');
    expect(inputValue(res.text, 'firstName')).toBe('Grace');
    expect(inputValue(res.text, 'lastName')).toBe('Hopper');
    expect(inputValue(res.text, 'email')).toBe('grace@example.com');
    expect(res.text).not.toContain(GOOD_PASSWORD);
    expect(await UserModel.countDocuments()).toBe(users);
    // The fresh token in the form works: submitting again registers.
    const token = csrfFrom(res.text);
    expect(token).toBe(csrfFrom(page.text));
    const again = await agent
      .post('/s/portal/register')
      .type('form')
      .send({
        _csrf: token,
        firstName: 'Grace',
        lastName: 'Hopper',
        email: 'grace@example.com',
        password: GOOD_PASSWORD,
        altcha: await solvedPow(agent),
      });
    expect(again.status).toBe(201);
    expect(await UserModel.countDocuments({ email: 'grace@example.com' })).toBe(1);
  });

  it('registration without any token or cookie: the same form, a new token cookie, nothing written', async () => {
    const users = await UserModel.countDocuments();
    const res = await request(t.app)
      .post('/s/portal/register')
      .type('form')
      .send({ firstName: 'Alan', lastName: 'Turing', email: 'alan@example.com', password: GOOD_PASSWORD });
    expect(res.status).toBe(403);
    expect(inputValue(res.text, 'email')).toBe('alan@example.com');
    expect(csrfFrom(res.text)).toMatch(/\S{20,}/);
    expect(String(res.headers['set-cookie'])).toContain('portal.csrf=');
    expect(res.text).not.toContain(GOOD_PASSWORD);
    expect(await UserModel.countDocuments()).toBe(users);
  });

  it('account: a token from before the session changed keeps the typed names and saves nothing', async () => {
    const { agent } = await registerGuest(t.app, { email: 'kay@example.com', firstName: 'Kay' });
    const res = await agent.post('/s/portal/account').type('form').send({
      _csrf: 'x',
      firstName: 'Katherine',
      lastName: 'Johnson',
      communityNickname: 'kj',
      localeSidKey: 'en_US',
      languageLocaleKey: 'en_US',
      timeZoneSidKey: 'GMT',
    });
    expect(res.status).toBe(403);
    expect(res.text).toContain('Your session expired; check and submit again.');
    expect(inputValue(res.text, 'firstName')).toBe('Katherine');
    expect(inputValue(res.text, 'lastName')).toBe('Johnson');
    expect((await UserModel.findOne({ email: 'kay@example.com' }).lean())!.firstName).toBe('Kay');
  });

  it('admin site form: keeps the typed name and address, writes neither the site nor an audit event', async () => {
    const admin = await adminAgent(t.app);
    const site = (await SiteModel.findOne({ slug: 'portal' }).lean())!;
    const audits = await AuditEventModel.countDocuments();
    const res = await admin
      .post(`/admin/sites/${site._id}`)
      .type('form')
      .send({
        _csrf: 'old',
        _form: `site-${site._id}`,
        name: 'Renamed portal',
        slug: 'portal',
        registrationProfileId: String(site.registrationProfile),
      });
    expect(res.status).toBe(403);
    expect(res.text).toContain('Your session expired; check and submit again.');
    expect(res.text).toContain('value="Renamed portal"');
    expect((await SiteModel.findById(site._id).lean())!.name).toBe(site.name);
    expect(await AuditEventModel.countDocuments()).toBe(audits);
    const profile = (await ProfileModel.findOne({ name: 'External Identity User' }).lean())!;
    const created = await admin
      .post('/admin/sites')
      .type('form')
      .send({
        _csrf: 'old',
        _form: 'new-site',
        name: 'Typed site',
        slug: 'typed-site',
        registrationProfileId: String(profile._id),
      });
    expect(created.status).toBe(403);
    expect(created.text).toMatch(/id="new-site-slug" name="slug" type="text"\s+value="typed-site"/);
    expect(await SiteModel.countDocuments({ slug: 'typed-site' })).toBe(0);
  });

  it('admin sign-in: keeps the typed username, never the password, and signs nobody in', async () => {
    const agent = request.agent(t.app);
    const res = await agent
      .post('/admin/login')
      .type('form')
      .send({ _csrf: 'old', username: 'root.admin@example.com', password: 'typed-secret-password' });
    expect(res.status).toBe(403);
    expect(res.text).toContain('Your session expired; check and submit again.');
    expect(inputValue(res.text, 'username')).toBe('root.admin@example.com');
    expect(res.text).not.toContain('typed-secret-password');
    expect((await agent.get('/admin')).status).not.toBe(200);
  });

  it('new permission set and a user-page action: the page again with the message, nothing written', async () => {
    const admin = await adminAgent(t.app);
    await registerGuest(t.app, { email: 'acted-on@example.com' });
    const audits = await AuditEventModel.countDocuments();
    const sets = await admin
      .post('/admin/permission-sets')
      .type('form')
      .send({ _csrf: 'old', name: 'Typed set name', description: 'typed description' });
    expect(sets.status).toBe(403);
    expect(sets.text).toContain('Your session expired; check and submit again.');
    expect(sets.text).toContain('value="Typed set name"');
    const user = (await UserModel.findOne({ email: 'acted-on@example.com' }).lean())!;
    const deactivate = await admin.post(`/admin/users/${user._id}/deactivate`).type('form').send({ _csrf: 'old' });
    expect(deactivate.status).toBe(403);
    expect(deactivate.text).toContain('Your session expired; check and submit again.');
    expect(deactivate.text).toContain('acted-on@example.com'); // the user's own page, shown again
    expect((await UserModel.findById(user._id).lean())!.isActive).toBe(true);
    expect(await AuditEventModel.countDocuments()).toBe(audits);
  });

  it('two-factor settings: the page again with the message, and no enrolment started', async () => {
    const admin = await adminAgent(t.app);
    const res = await admin.post('/admin/two-factor/setup').type('form').send({ _csrf: 'old' });
    expect(res.status).toBe(403);
    expect(res.text).toContain('Your session expired; check and submit again.');
    expect(res.text).toContain('Two-factor');
    expect((await UserModel.findOne({ username: 'admin@example.com' }).lean())!.mfa?.pendingSecret ?? null).toBeNull();
  });

  it('forgotten password: keeps the typed address and sends nothing', async () => {
    const res = await request(t.app)
      .post('/s/portal/forgot')
      .type('form')
      .send({ _csrf: 'old', email: 'someone@example.com' });
    expect(res.status).toBe(403);
    expect(res.text).toContain('Your session expired; check and submit again.');
    expect(inputValue(res.text, 'email')).toBe('someone@example.com');
  });

  it('a route that is not a form (log out) still answers the error page and does nothing', async () => {
    const admin = await adminAgent(t.app);
    const res = await admin.post('/admin/logout').type('form').send({ _csrf: 'old' });
    expect(res.status).toBe(403);
    expect(res.text).not.toContain('Your session expired; check and submit again.');
    expect((await admin.get('/admin')).status).toBe(200);
    // A well-formed post still works.
    expect((await postForm(admin, '/admin', '/admin/logout', {})).status).toBe(303);
  });
});
