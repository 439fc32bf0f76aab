/**
 * Email verification: a registrant is mailed a link; the page behind it confirms with a button (once);
 * the admin user page and the API show whether and when; a banner offers a throttled resend; a site may
 * refuse sign-in until the address is confirmed; an admin can resend.
 */
import request from 'supertest';
import { startTestApp, type TestApp } from '../../helpers/app';
import { adminAgent, makeAdmin } from '../../helpers/admin';
import { GOOD_PASSWORD, logIn, postForm, registerGuest } from '../../helpers/forms';
import { linkIn, mailTo, tokenOf } from '../../helpers/mail';
import { AuditEventModel, SiteModel, UserModel } from '../../../src/data/models';
import { settleDetached } from '../../../src/shared/detached';
import { adminToken } from '../api/tokens';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp('lifecycle-verification', { env: { TRUST_PROXY: '1', RECOVERY_MAX_PER_ADDRESS: '3' } });
  await makeAdmin();
});
afterAll(() => t.stop());

const confirm = async (link: string, agent = request.agent(t.app)) =>
  postForm(agent, '/s/portal/login', '/s/portal/verify-email', { token: tokenOf(link) });

it('mails a registrant a link; the page confirms with a button, once; the admin page shows when', async () => {
  const { agent } = await registerGuest(t.app, { email: 'vera@example.com' });
  const mails = await mailTo('vera@example.com');
  expect(mails.map((m) => m.subject)).toEqual(['Confirm your email address']);
  const home = await agent.get('/s/portal/');
  expect(home.text).toContain('id="verify-banner"');
  const link = await linkIn('vera@example.com', /Confirm/);
  expect(link).toMatch(/^\/s\/portal\/verify-email\?token=/);
  // Opening the link changes nothing (mail scanners open links); the button does.
  const page = await request(t.app).get(link);
  expect(page.status).toBe(200);
  expect(page.text).toContain('Confirm my address');
  expect((await UserModel.findOne({ username: 'vera@example.com' }).lean())!.emailVerifiedAt).toBeNull();
  const res = await confirm(link);
  expect(res.status).toBe(200);
  expect(res.text).toContain('<strong>vera@example.com</strong> is confirmed.');
  const user = (await UserModel.findOne({ username: 'vera@example.com' }).lean())!;
  expect(user.emailVerifiedAt).toBeInstanceOf(Date);
  expect(await AuditEventModel.countDocuments({ action: 'user.email_verified', 'target.id': user._id })).toBe(1);
  expect((await agent.get('/s/portal/')).text).not.toContain('id="verify-banner"');
  expect((await confirm(link)).status).toBe(410);
  const admin = await adminAgent(t.app);
  const adminPage = await admin.get(`/admin/users/${user._id}`);
  expect(adminPage.text).toContain(`<dd id="email-verified">Yes, ${user.emailVerifiedAt!.toISOString()}</dd>`);
  expect(adminPage.text).not.toContain('>Send verification link</button>');
});

it('refuses a link for an address the account no longer uses, and forged tokens', async () => {
  await registerGuest(t.app, { email: 'mover@example.com' });
  const link = await linkIn('mover@example.com', /Confirm/);
  // Through save(), as every change of an address goes, so the admin search's terms follow.
  const mover = (await UserModel.findOne({ username: 'mover@example.com' }))!;
  mover.email = 'moved@example.com';
  await mover.save();
  const res = await confirm(link);
  expect(res.status).toBe(410);
  expect(res.text).toContain('an address your account no longer uses');
  expect((await UserModel.findOne({ username: 'mover@example.com' }).lean())!.emailVerifiedAt).toBeNull();
  expect((await request(t.app).get('/s/portal/verify-email?token=abc')).status).toBe(404);
});

it('resends from the banner, throttled', async () => {
  const { agent } = await registerGuest(t.app, { email: 'again@example.com' });
  for (let i = 0; i < 3; i++) {
    const res = await postForm(agent, '/s/portal/', '/s/portal/verify-email/resend', {}, '10.1.1.1');
    expect(res.status).toBe(200);
    expect(res.text).toContain('we have sent it a new link');
  }
  expect(await mailTo('again@example.com')).toHaveLength(4);
  const over = await postForm(agent, '/s/portal/', '/s/portal/verify-email/resend', {}, '10.1.1.1');
  expect(over.status).toBe(429);
  expect(await mailTo('again@example.com')).toHaveLength(4);
  // Only the newest link works.
  const all = await mailTo('again@example.com');
  const first = /\/s\/portal\/verify-email\?token=\S+/.exec(all[0].text!)![0];
  expect((await request(t.app).get(first)).status).toBe(404);
});

describe('a site that wants confirmed addresses', () => {
  beforeAll(async () => {
    const admin = await adminAgent(t.app);
    const site = (await SiteModel.findOne({ slug: 'portal' }).lean())!;
    const res = await postForm(admin, '/admin/sites', `/admin/sites/${site._id}`, {
      name: site.name,
      slug: site.slug,
      registrationProfileId: String(site.registrationProfile),
      selfRegistrationEnabled: 'on',
      lifecycleSettings: '1',
    });
    expect(res.status).toBe(303);
    expect((await SiteModel.findById(site._id).lean())!.allowUnverifiedSignIn).toBe(false);
  });
  afterAll(() => SiteModel.updateOne({ slug: 'portal' }, { $set: { allowUnverifiedSignIn: true } }));

  it('does not sign a registrant in, and refuses their log in until they confirm, offering the link again', async () => {
    const { agent, res } = await registerGuest(t.app, { email: 'strict@example.com' });
    expect(res.status).toBe(201);
    expect(res.text).toContain('We sent a message to <strong>strict@example.com</strong>.');
    expect((await agent.get('/s/portal/')).text).not.toContain('Welcome, ');
    const refused = await logIn(request.agent(t.app), 'strict@example.com', GOOD_PASSWORD, '10.2.2.2');
    expect(refused.status).toBe(403);
    expect(refused.text).toContain('Confirm your email address before you log in');
    expect(refused.text).toContain('id="resend-verification"');
    // A wrong password still gets the usual answer, telling nothing about verification.
    const wrong = await logIn(request.agent(t.app), 'strict@example.com', 'wrong-password-here', '10.2.2.3');
    expect(wrong.status).toBe(401);

    const resend = await postForm(
      request.agent(t.app),
      '/s/portal/login',
      '/s/portal/verify-email/resend',
      { email: 'strict@example.com' },
      '10.2.2.4',
    );
    const unknown = await postForm(
      request.agent(t.app),
      '/s/portal/login',
      '/s/portal/verify-email/resend',
      { email: 'nobody@example.com' },
      '10.2.2.5',
    );
    await settleDetached();
    expect(resend.status).toBe(200);
    expect(unknown.status).toBe(200);
    expect(resend.text.replace(/name="_csrf" value="[^"]+"/g, '')).toBe(
      unknown.text.replace(/name="_csrf" value="[^"]+"/g, ''),
    );
    expect(await mailTo('strict@example.com')).toHaveLength(2);
    expect(await mailTo('nobody@example.com')).toHaveLength(0);

    await confirm(await linkIn('strict@example.com', /Confirm/));
    expect((await logIn(request.agent(t.app), 'strict@example.com', GOOD_PASSWORD, '10.2.2.2')).status).toBe(303);
  });
});

it('lets an admin resend the link, and shows the state in the API', async () => {
  await registerGuest(t.app, { email: 'adminsend@example.com' });
  const user = (await UserModel.findOne({ username: 'adminsend@example.com' }).lean())!;
  const admin = await adminAgent(t.app);
  const page = await admin.get(`/admin/users/${user._id}`);
  expect(page.text).toContain('<dd id="email-verified">No</dd>');
  const res = await postForm(admin, `/admin/users/${user._id}`, `/admin/users/${user._id}/verification`, {});
  expect(res.status).toBe(303);
  expect(await mailTo('adminsend@example.com')).toHaveLength(2);
  expect(await AuditEventModel.countDocuments({ action: 'user.verification_sent', 'target.id': user._id })).toBe(1);
  const { token } = await adminToken();
  const before = await request(t.app).get(`/api/v1/users/${user._id}`).set('Authorization', `Bearer ${token}`);
  expect(before.body).toMatchObject({ emailVerified: false, emailVerifiedAt: null });
  await confirm(await linkIn('adminsend@example.com', /Confirm/));
  const after = await request(t.app).get(`/api/v1/users/${user._id}`).set('Authorization', `Bearer ${token}`);
  expect(after.body.emailVerified).toBe(true);
  expect(after.body.emailVerifiedAt).toMatch(/^\d{4}-\d{2}-\d{2}T/);
});
