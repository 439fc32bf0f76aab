import request from 'supertest';
import mongoose, { trusted } from 'mongoose';
import { startTestApp, type TestApp } from '../../helpers/app';
import { csrfFrom, postForm, registerGuest } from '../../helpers/forms';
import { adminAgent, makeAdmin, makeStaff } from '../../helpers/admin';
import {
  AccountModel,
  AuditEventModel,
  ContactModel,
  DelegatedAdminGroupModel,
  LicenseModel,
  ProfileModel,
  UserModel,
} from '../../../src/data/models';

let t: TestApp;
let admin: request.Agent;
beforeAll(async () => {
  t = await startTestApp('admin-users');
  await makeAdmin();
  admin = await adminAgent(t.app);
});
afterAll(() => t.stop());

let n = 0;
async function registrant() {
  n++;
  await registerGuest(t.app, { firstName: 'Reg', lastName: `Number${n}`, email: `reg${n}@example.com` });
  return (await UserModel.findOne({ username: `reg${n}@example.com` }).lean())!;
}
// The token comes from the dashboard (its Log out form), which every admin may open.
const act = (agent: request.Agent, id: unknown, action: string, fields: Record<string, string> = {}) =>
  postForm(agent, '/admin', `/admin/users/${id}/${action}`, fields);
const profileId = async (name: string) => String((await ProfileModel.findOne({ name }).lean())!._id);

describe('admin sign-in', () => {
  it('sends a visitor to the login page', async () => {
    const res = await request(t.app).get('/admin/users');
    expect(res.status).toBe(302);
    expect(res.headers.location).toBe('/admin/login?returnTo=%2Fadmin%2Fusers');
  });

  it('refuses external users with the same message as a wrong password', async () => {
    await registrant();
    const external = await postForm(request.agent(t.app), '/admin/login', '/admin/login', {
      username: `reg${n}@example.com`,
      password: 'violet-harbor-tractor-91',
    });
    const wrong = await postForm(request.agent(t.app), '/admin/login', '/admin/login', {
      username: 'admin@example.com',
      password: 'not-the-password',
    });
    expect(external.status).toBe(401);
    expect(wrong.status).toBe(401);
    const msg = (r: request.Response) => /role="alert">([^<]+)</.exec(r.text)?.[1];
    expect(msg(external)).toBe(msg(wrong));
  });
});

describe('users list', () => {
  it('searches by name, email or username, shows Contactless, and filters', async () => {
    const u = await registrant();
    const res = await admin.get(`/admin/users?q=${encodeURIComponent(u.lastName)}`);
    expect(res.status).toBe(200);
    expect(res.text).toContain(`<a href="/admin/users/${u._id}">Reg ${u.lastName}</a>`);
    expect(res.text).toContain('Contactless');
    expect(res.text).toContain('<label for="q">Search</label>');
    const withContact = await admin.get(`/admin/users?q=${encodeURIComponent(u.lastName)}&contactless=no`);
    expect(withContact.text).not.toContain(`/admin/users/${u._id}"`);
    expect((await admin.get('/admin/users?q=%5B(')).status).toBe(200); // regex characters are searched literally
    expect((await admin.get('/admin/users?licenseId=nope')).status).toBe(422);
  });

  it('pages newest first with a Next page link', async () => {
    for (let i = 0; i < 55; i++)
      await UserModel.create({
        lastName: `Bulk${i}`,
        email: `bulk${i}@example.com`,
        username: `bulk${i}@example.com`,
        alias: 'bulk',
        communityNickname: `bulk${i}`,
        profile: (await ProfileModel.findOne({ name: 'External Identity User' }).lean())!._id,
        license: (await LicenseModel.findOne({ name: 'External Identity' }).lean())!._id,
        userType: 'customer',
      });
    const first = await admin.get('/admin/users?q=bulk');
    const next = /href="([^"]+)" rel="next"/.exec(first.text)![1].replace(/&amp;/g, '&');
    const second = await admin.get(next);
    const names = (html: string) => [...html.matchAll(/>Bulk(\d+)</g)].map((m) => Number(m[1]));
    expect(names(first.text)).toHaveLength(50);
    expect(names(second.text)).toHaveLength(5);
    expect(new Set([...names(first.text), ...names(second.text)]).size).toBe(55);
    expect(names(first.text)[0]).toBe(54);
  });
});

describe('qualifying a registrant', () => {
  it('shows Contactless and no Login As for a contactless user', async () => {
    const u = await registrant();
    const page = await admin.get(`/admin/users/${u._id}`);
    expect(page.text).toContain('<strong>Contactless</strong>');
    expect(page.text).not.toMatch(/<button type="submit">Login As<\/button>/);
    expect(page.text).toContain('Login As requires a contact.');
  });

  it('refuses Login As for a contactless user with a message', async () => {
    const u = await registrant();
    const res = await act(admin, u._id, 'login-as');
    expect(res.status).toBe(403);
    expect(res.text).toMatch(/Login As requires a contact/);
  });

  it('refuses to upgrade a contactless user with 409, changing nothing', async () => {
    const u = await registrant();
    const res = await act(admin, u._id, 'upgrade', { profileId: await profileId('Customer Community User') });
    expect(res.status).toBe(409);
    expect(res.text).toMatch(/add or associate a contact first/);
    expect((await UserModel.findById(u._id).lean())!.profile.equals(u.profile)).toBe(true);
  });

  it('adds a contact, upgrades, offers Login As, and downgrades back to contactless', async () => {
    const u = await registrant();
    let res = await act(admin, u._id, 'contact', {
      firstName: 'Reg',
      lastName: u.lastName,
      email: u.email,
      phone: '555',
      title: 'Buyer',
      accountId: '',
      accountName: 'Globex',
    });
    expect(res.status).toBe(303);
    const withContact = (await UserModel.findById(u._id).lean())!;
    const contact = (await ContactModel.findById(withContact.contact).lean())!;
    expect((await AccountModel.findById(contact.account).lean())!.name).toBe('Globex');

    res = await act(admin, u._id, 'upgrade', { profileId: await profileId('Customer Community User') });
    expect(res.status).toBe(303);
    const page = await admin.get(`/admin/users/${u._id}`);
    expect(page.text).toMatch(/Upgraded to Customer Community User; Customer Community: \d+ of \d+ seats used\./);
    expect(page.text).toMatch(/<button type="submit">Login As<\/button>/);

    res = await act(admin, u._id, 'downgrade');
    expect(res.status).toBe(303);
    const down = (await UserModel.findById(u._id).lean())!;
    expect(down.contact).toBeNull();
    expect(await ContactModel.exists({ _id: contact._id })).toBeTruthy();
    expect(
      await AuditEventModel.countDocuments({
        'target.id': u._id,
        action: trusted({ $in: ['user.contact_added', 'user.upgraded', 'user.downgraded'] }),
      }),
    ).toBe(3);
  });

  it('answers 409 when no seat is left, changing nothing', async () => {
    const u = await registrant();
    await act(admin, u._id, 'contact', { lastName: 'Seatless', accountName: 'Seatless Co' });
    const plus = (await LicenseModel.findOne({ name: 'Customer Community Plus' }).lean())!;
    await LicenseModel.updateOne({ _id: plus._id }, { $set: { totalSeats: plus.usedSeats } });
    const res = await act(admin, u._id, 'upgrade', { profileId: await profileId('Customer Community Plus User') });
    expect(res.status).toBe(409);
    expect(res.text).toMatch(/No Customer Community Plus seat is left/);
    expect((await LicenseModel.findById(plus._id).lean())!.usedSeats).toBe(plus.usedSeats);
  });

  it('associates an existing free contact', async () => {
    const u = await registrant();
    const account = await AccountModel.create({ name: 'Initech' });
    const c = await ContactModel.create({ lastName: 'Free', account: account._id });
    expect((await act(admin, u._id, 'associate', { contactId: String(c._id) })).status).toBe(303);
    expect((await UserModel.findById(u._id).lean())!.contact!.equals(c._id)).toBe(true);
  });

  it('Login As opens a site session with a banner and audits start and end', async () => {
    const u = await registrant();
    await act(admin, u._id, 'contact', { lastName: 'Watched', accountName: 'Watch Co' });
    const res = await act(admin, u._id, 'login-as');
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe('/s/portal/');
    const home = await admin.get('/s/portal/');
    expect(home.text).toContain('id="login-as-banner"');
    expect(home.text).toMatch(/admin@example.com is logged in as Reg/);
    const back = await admin
      .post('/admin/login-as/end')
      .type('form')
      .send({ _csrf: csrfFrom(home.text) });
    expect(back.headers.location).toBe(`/admin/users/${u._id}`);
    expect((await admin.get('/admin')).status).toBe(200);
    expect(
      await AuditEventModel.countDocuments({
        'target.id': u._id,
        action: trusted({ $in: ['login_as.started', 'login_as.ended'] }),
      }),
    ).toBe(2);
  });

  it('deactivates and activates, and refuses a POST without CSRF', async () => {
    const u = await registrant();
    expect((await admin.post(`/admin/users/${u._id}/deactivate`).type('form').send({})).status).toBe(403);
    expect((await act(admin, u._id, 'deactivate')).status).toBe(303);
    expect((await UserModel.findById(u._id).lean())!.isActive).toBe(false);
    expect((await act(admin, u._id, 'activate')).status).toBe(303);
    expect((await UserModel.findById(u._id).lean())!.isActive).toBe(true);
  });

  it('answers 404 for an unknown or malformed user id', async () => {
    expect((await admin.get('/admin/users/507f1f77bcf86cd799439011')).status).toBe(404);
    expect((await admin.get('/admin/users/not-an-id')).status).toBe(404);
  });
});

describe('permissions', () => {
  it('answers a user the staff member may not see exactly like an unknown id, and changes nothing', async () => {
    await makeStaff('internal-only@example.com', ['manageInternalUsers']);
    const staff = await adminAgent(t.app, 'internal-only@example.com');
    const u = await registrant();
    const res = await act(staff, u._id, 'deactivate');
    const unknown = await act(staff, '0123456789abcdef01234567', 'deactivate');
    expect([res.status, unknown.status]).toEqual([404, 404]);
    // Nothing in the answer tells that the id is a customer user.
    expect(res.text).toContain('No user has this id.');
    expect(res.text).not.toMatch(/customer|Manage Customer Users/i);
    expect((await UserModel.findById(u._id).lean())!.isActive).toBe(true);
    expect((await staff.get(`/admin/users/${u._id}`)).status).toBe(404);
    expect((await staff.get(`/admin/users?q=${u.lastName}`)).text).not.toContain(`/admin/users/${u._id}"`);
  });

  it('refuses with 403 naming the missing permission where the page is about a permission, not a user', async () => {
    await makeStaff('no-sites@example.com', ['manageInternalUsers']);
    const staff = await adminAgent(t.app, 'no-sites@example.com');
    const res = await staff.get('/admin/sites');
    expect(res.status).toBe(403);
    expect(res.text).toContain('This needs the Manage Sites permission.');
  });

  it('lets a delegated admin manage users of assigned accounts, but never contactless ones', async () => {
    const delegate = await makeStaff('delegate@example.com', []);
    const inScope = await registrant();
    await act(admin, inScope._id, 'contact', { lastName: 'Scoped', accountName: 'Delegated Account' });
    const account = (await AccountModel.findOne({ name: 'Delegated Account' }).lean())!;
    await DelegatedAdminGroupModel.create({ name: 'Delegates', members: [delegate._id], accounts: [account._id] });
    const contactless = await registrant();
    const agent = await adminAgent(t.app, 'delegate@example.com');
    const list = await agent.get('/admin/users?q=Reg');
    expect(list.text).toContain(inScope.lastName);
    expect(list.text).not.toContain(`/admin/users/${contactless._id}"`);
    expect((await act(agent, inScope._id, 'deactivate')).status).toBe(303);
    // A contactless user has no account, so it is outside every delegated scope: answered as missing.
    const refused = await agent.get(`/admin/users/${contactless._id}`);
    expect(refused.status).toBe(404);
    expect(refused.text).toContain('No user has this id.');
    // A user in scope is visible, so refusing an operation on it may say why.
    const upgrade = await act(agent, inScope._id, 'upgrade', { profileId: await profileId('Customer Community User') });
    expect(upgrade.status).toBe(403);
    expect(upgrade.text).toContain('Delegated administrators can&#39;t do this');
  });
});

describe('password reset', () => {
  it('mails a reset link instead of showing a password; the password stays until the link is used', async () => {
    const { agent } = await registerGuest(t.app, { email: 'reset-me@example.com' });
    const u = (await UserModel.findOne({ username: 'reset-me@example.com' }).select('+passwordHash').lean())!;
    const res = await act(admin, u._id, 'reset-password');
    expect(res.status).toBe(303);
    const page = await admin.get(`/admin/users/${u._id}`);
    expect(page.text).toContain('A password reset link was sent to reset-me@example.com.');
    expect(page.text).not.toContain('id="new-token"');
    const mail = await mongoose.connection
      .db!.collection('mailmessages')
      .findOne({ to: 'reset-me@example.com', template: 'password-reset' });
    expect(mail!.text).toMatch(/\/s\/portal\/reset\?token=/);
    // Nothing changes until the user acts: same hash, still signed in.
    expect((await UserModel.findById(u._id).select('+passwordHash').lean())!.passwordHash).toBe(u.passwordHash);
    expect((await agent.get('/s/portal/')).text).toContain('Welcome, ');
  });
});
