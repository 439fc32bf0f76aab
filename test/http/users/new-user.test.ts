/** "New user" on the users list: an external user (contactless, on a site's External Identity profile, invited by mail). */
import request from 'supertest';
import { trusted } from 'mongoose';
import { startTestApp, type TestApp } from '../../helpers/app';
import { postForm } from '../../helpers/forms';
import { adminAgent, makeAdmin, makeStaff } from '../../helpers/admin';
import {
  AuditEventModel,
  LicenseModel,
  MailMessageModel,
  ProfileModel,
  SiteModel,
  UserModel,
} from '../../../src/data/models';

let t: TestApp;
let admin: request.Agent;
let portalId: string;
beforeAll(async () => {
  t = await startTestApp('admin-new-user');
  await makeAdmin();
  admin = await adminAgent(t.app);
  portalId = String((await SiteModel.findOne({ slug: 'portal' }).lean())!._id);
});
afterAll(() => t.stop());

const createExternal = (agent: request.Agent, fields: Record<string, string>) =>
  postForm(agent, '/admin/users', '/admin/users/external', fields);

describe('New user: external', () => {
  it('offers the external form with the sites the viewer may create users on', async () => {
    const page = await admin.get('/admin/users');
    expect(page.text).toContain('<h2 id="new-user-heading">New user</h2>');
    expect(page.text).toContain(
      '<form method="post" action="/admin/users/external" novalidate id="new-external-user">',
    );
    expect(page.text).toMatch(new RegExp(`<option value="${portalId}" >[^<]+ \\(External Identity User\\)</option>`));
    // Field ids are unique on the page: the two forms use their own prefixes.
    const ids = [...page.text.matchAll(/ id="([^"]+)"/g)].map((m) => m[1]);
    expect(ids.length).toBe(new Set(ids).size);
  });

  it('creates a contactless external user on the site, invited by mail, audited, and redirects with a message', async () => {
    const res = await createExternal(admin, {
      siteId: portalId,
      firstName: 'Mary',
      lastName: 'Jackson',
      email: 'Mary.Jackson@Example.com',
    });
    expect(res.status).toBe(303);
    const user = (await UserModel.findOne({ username: 'mary.jackson@example.com' }).select('+passwordHash').lean())!;
    expect(res.headers.location).toBe(`/admin/users/${user._id}`);
    const site = (await SiteModel.findById(portalId).lean())!;
    const external = (await LicenseModel.findOne({ name: 'External Identity' }).lean())!;
    expect(user.contact).toBeNull();
    expect(user.userType).toBe('customer');
    expect(String(user.site)).toBe(portalId);
    expect(String(user.profile)).toBe(String(site.registrationProfile));
    expect(String(user.license)).toBe(String(external._id));
    expect(user.passwordHash ?? null).toBeNull();
    const mail = await MailMessageModel.find({ to: 'mary.jackson@example.com' }).lean();
    expect(mail.map((m) => m.template)).toEqual(['invitation']);
    expect(mail[0].text).toContain('/s/portal/welcome?token=');
    const events = await AuditEventModel.find({ 'target.id': user._id }).sort({ at: 1, _id: 1 }).lean();
    expect(events.map((e) => [e.action, e.actor?.username, e.via])).toEqual([
      ['user.created', 'admin@example.com', 'admin'],
      ['user.invitation_sent', 'admin@example.com', 'admin'],
    ]);
    const page = await admin.get(res.headers.location);
    expect(page.text).toContain('External user mary.jackson@example.com created on');
    expect(page.text).toContain('they choose their password from the link mailed to mary.jackson@example.com.');
  });

  it('refuses a taken email beside the email field, keeping what was typed, and writes nothing', async () => {
    await createExternal(admin, {
      siteId: portalId,
      firstName: 'Dorothy',
      lastName: 'Vaughan',
      email: 'dorothy@example.com',
    });
    const users = await UserModel.countDocuments();
    const mails = await MailMessageModel.countDocuments();
    const events = await AuditEventModel.countDocuments();
    const res = await createExternal(admin, {
      siteId: portalId,
      firstName: 'Dot',
      lastName: 'Other',
      email: 'dorothy@example.com',
    });
    expect(res.status).toBe(409);
    expect(res.text).toMatch(
      /<p class="field-error" id="x-email-error"[^>]*>A user with this email already exists: find them in the list instead\.<\/p>/,
    );
    expect(res.text).toMatch(/id="x-email" name="email" type="text"\s+value="dorothy@example.com"/);
    expect(res.text).toMatch(/id="x-firstName" name="firstName" type="text"\s+value="Dot"/);
    expect(res.text).toMatch(/id="x-lastName" name="lastName" type="text"\s+value="Other"/);
    // The internal form is not filled with the external one's values.
    expect(res.text).toMatch(/id="f-firstName" name="firstName" type="text"\s+value=""/);
    expect(res.text).toContain('href="#x-email"');
    expect(await UserModel.countDocuments()).toBe(users);
    expect(await MailMessageModel.countDocuments()).toBe(mails);
    expect(await AuditEventModel.countDocuments()).toBe(events);
  });

  it('names every missing field at once', async () => {
    const res = await createExternal(admin, { siteId: portalId, firstName: '', lastName: '', email: '' });
    expect(res.status).toBe(422);
    expect(res.text).toContain('Enter their first name.');
    expect(res.text).toContain('Enter their last name.');
    expect(res.text).toContain('Enter their email address.');
  });

  it('refuses a site whose External Identity profile is not a member (the user could never sign in there)', async () => {
    const profile = (await ProfileModel.findOne({ name: 'External Identity User' }).lean())!;
    const closed = await SiteModel.create({
      name: 'Closed Site',
      slug: 'closed',
      selfRegistrationEnabled: false,
      registrationProfile: profile._id,
      members: { profiles: [], permissionSets: [] },
    });
    const res = await createExternal(admin, {
      siteId: String(closed._id),
      firstName: 'Nobody',
      lastName: 'Here',
      email: 'nobody.here@example.com',
    });
    expect(res.status).toBe(422);
    expect(res.text).toContain(
      'External Identity User is not a member of Closed Site, so the user could never sign in there.',
    );
    expect(await UserModel.exists({ username: 'nobody.here@example.com' })).toBeNull();
  });

  it('answers 403 to an admin without Manage Customer Users, writing nothing, and does not offer them the form', async () => {
    await makeStaff('internal-only@example.com', ['manageInternalUsers']);
    const staff = await adminAgent(t.app, 'internal-only@example.com');
    expect((await staff.get('/admin/users')).text).not.toContain('id="new-external-user"');
    const [users, mails, events] = await Promise.all([
      UserModel.countDocuments(),
      MailMessageModel.countDocuments(),
      AuditEventModel.countDocuments(),
    ]);
    const res = await createExternal(staff, {
      siteId: portalId,
      firstName: 'Not',
      lastName: 'Allowed',
      email: 'not.allowed@example.com',
    });
    expect(res.status).toBe(403);
    expect(res.text).toContain('Manage Customer Users');
    expect(await UserModel.countDocuments()).toBe(users);
    expect(await UserModel.exists({ username: trusted({ $in: ['not.allowed@example.com'] }) })).toBeNull();
    expect(await MailMessageModel.countDocuments()).toBe(mails);
    expect(await AuditEventModel.countDocuments()).toBe(events);
  });
});
