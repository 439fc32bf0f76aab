/**
 * Security notices by mail (issue 26 item 7), delivered through a real SMTP server on loopback: password
 * changed (account page, reset link asked by the person or sent by an admin), two-factor on, off and reset
 * by an admin, a sign-in from a new device, recovery codes running low. Each says what happened, when
 * (in the person's time zone), from where, and what to do if it was not them; nothing is sent where
 * nothing changed (an invitation's first password, a known device, a refused password).
 */
import request from 'supertest';
import { startTestApp, type TestApp } from '../../helpers/app';
import { startSmtpCapture, type SmtpCapture } from '../../helpers/smtp';
import { adminAgent, makeAdmin } from '../../helpers/admin';
import { GOOD_PASSWORD, logIn, postForm, registerGuest } from '../../helpers/forms';
import { enrolThroughPages } from '../../helpers/totp';
import { linkIn, tokenOf } from '../../helpers/mail';
import { MailMessageModel, ProfileModel, UserModel } from '../../../src/data/models';
import { systemContext } from '../../../src/access/actor';
import { createUser } from '../../../src/users/users';
import { deliverDueMail } from '../../../src/mail/worker';
import { smtpTransport } from '../../../src/mail/transport';
import { sendPasswordResetLinks } from '../../../src/account/recovery';
import { useSecondFactor } from '../../../src/signin/two-factor';
import { inviteNewUser } from '../../../src/account/invitations';

const FIREFOX_WINDOWS = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0';
const CHROME_MAC =
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36';
const NEW_PASSWORD = 'lighthouse-violin-parsnip-58';

let t: TestApp;
let smtp: SmtpCapture;
beforeAll(async () => {
  t = await startTestApp('lifecycle-security-notices', { env: { TRUST_PROXY: '1' } });
  smtp = await startSmtpCapture();
  await makeAdmin();
});
afterAll(async () => {
  await smtp.close();
  await t.stop();
});

/** The security notices queued for `to` (subject and text), oldest first; then delivered over SMTP. */
async function notices(to: string): Promise<{ subject: string; text: string }[]> {
  const found = await MailMessageModel.find({ to, template: 'security-notice' }).sort({ createdAt: 1, _id: 1 }).lean();
  const queued = found.filter((m) => m.text).map((m) => ({ subject: m.subject, text: m.text! }));
  const tr = smtpTransport(`smtp://127.0.0.1:${smtp.port}`, { connectionTimeoutMs: 5000 });
  try {
    await deliverDueMail({ transport: tr, from: 'Portal <no-reply@portal.test>' });
  } finally {
    tr.close();
  }
  for (const n of queued)
    expect(smtp.received.some((r) => r.to.includes(to) && r.raw.includes(`Subject: ${n.subject}`))).toBe(true);
  return found.map((m) => ({ subject: m.subject, text: m.text ?? '' }));
}
const subjects = async (to: string) => (await notices(to)).map((n) => n.subject);

async function guest(email: string, timeZone = 'Europe/Paris') {
  const { agent } = await registerGuest(t.app, { email });
  await UserModel.updateOne({ username: email }, { $set: { timeZoneSidKey: timeZone } });
  return agent;
}
const from = (agent: request.Agent, ua: string) => agent.set('User-Agent', ua);

it('mails "password changed" from the account page: what, when in the person\'s zone, from where, and what to do', async () => {
  const agent = from(await guest('pw@example.com', 'Asia/Tokyo'), FIREFOX_WINDOWS);
  const res = await postForm(
    agent,
    '/s/portal/account',
    '/s/portal/account/password',
    { currentPassword: GOOD_PASSWORD, newPassword: NEW_PASSWORD },
    '81.2.69.142',
  );
  expect(res.status).toBe(303);
  const [notice, ...rest] = await notices('pw@example.com');
  expect(rest).toEqual([]);
  expect(notice.subject).toBe('Your password was changed');
  expect(notice.text).toContain('The password of your account was changed.');
  expect(notice.text).toMatch(/When: \d{1,2} \w{3} \d{4}, \d\d:\d\d GMT\+9/);
  expect(notice.text).toContain('From: Firefox on Windows, United Kingdom (81.2.69.142)');
  expect(notice.text).toContain('If this was not you, someone else knows your password: use "Forgot your password?"');
});

it('mails "password changed" after a reset link, asked for by the person or sent by an admin, and not after an invitation', async () => {
  await guest('reset@example.com');
  await sendPasswordResetLinks('reset@example.com', { area: 'site', siteSlug: 'portal' });
  const link = await linkIn('reset@example.com', /Reset/);
  const agent = from(request.agent(t.app), CHROME_MAC);
  expect(
    (await postForm(agent, link, '/s/portal/reset', { token: tokenOf(link), password: NEW_PASSWORD })).status,
  ).toBe(303);
  // The reset signs in from a browser this account had not used: that is told too, in its own mail.
  expect(await subjects('reset@example.com')).toEqual(['Your password was changed', 'New sign-in to your account']);

  await guest('adminreset@example.com');
  const user = (await UserModel.findOne({ username: 'adminreset@example.com' }).lean())!;
  const admin = await adminAgent(t.app);
  expect(
    (await postForm(admin, `/admin/users/${user._id}`, `/admin/users/${user._id}/reset-password`, {})).status,
  ).toBe(303);
  const adminLink = await linkIn('adminreset@example.com', /Reset/);
  expect(await subjects('adminreset@example.com')).toEqual([]);
  expect(
    (
      await postForm(request.agent(t.app), adminLink, '/s/portal/reset', {
        token: tokenOf(adminLink),
        password: NEW_PASSWORD,
      })
    ).status,
  ).toBe(303);
  expect((await subjects('adminreset@example.com'))[0]).toBe('Your password was changed');

  const profile = (await ProfileModel.findOne({ name: 'External Identity User' }).lean())!;
  const invited = await createUser(
    { username: 'invited@example.com', email: 'invited@example.com', lastName: 'New', profileId: profile._id },
    systemContext,
  );
  await inviteNewUser(invited, { sendInvitation: true }, systemContext);
  const invite = await linkIn('invited@example.com', /./);
  expect(
    (
      await postForm(request.agent(t.app), invite, '/s/portal/welcome', {
        token: tokenOf(invite),
        password: NEW_PASSWORD,
      })
    ).status,
  ).toBe(303);
  expect(await subjects('invited@example.com')).toEqual([]);
});

it('mails when two-factor is turned on, off, and reset by an admin', async () => {
  const agent = from(await guest('mfa@example.com'), FIREFOX_WINDOWS);
  await enrolThroughPages(agent);
  expect(await subjects('mfa@example.com')).toEqual(['Two-factor sign-in was turned on']);
  expect(
    (
      await postForm(
        agent,
        '/s/portal/account/two-factor',
        '/s/portal/account/two-factor/disable',
        { password: GOOD_PASSWORD },
        '81.2.69.142',
      )
    ).status,
  ).toBe(303);
  const off = (await notices('mfa@example.com'))[1];
  expect(off.subject).toBe('Two-factor sign-in was turned off');
  expect(off.text).toContain('From: Firefox on Windows, United Kingdom (81.2.69.142)');

  await enrolThroughPages(agent);
  const user = (await UserModel.findOne({ username: 'mfa@example.com' }).lean())!;
  const admin = await adminAgent(t.app);
  expect(
    (await postForm(admin, `/admin/users/${user._id}`, `/admin/users/${user._id}/two-factor/reset`, {})).status,
  ).toBe(303);
  const reset = (await notices('mfa@example.com'))[3];
  expect(reset.subject).toBe('Two-factor sign-in was reset by an administrator');
  expect(reset.text).toContain('From: an administrator, from the admin area');
  expect(reset.text).toContain('If you did not ask for this, tell your administrator');
});

it('mails a sign-in from a new device (browser and system, or network), not a known one, the first one or a refused password', async () => {
  await guest('devices@example.com');
  expect(await subjects('devices@example.com')).toEqual([]); // registering signed in: the first device
  const signIn = async (ua: string, ip: string, password = GOOD_PASSWORD) =>
    logIn(from(request.agent(t.app), ua), 'devices@example.com', password, ip);
  expect((await signIn(FIREFOX_WINDOWS, '81.2.69.142')).status).toBe(303);
  const [first] = await notices('devices@example.com');
  expect(first.subject).toBe('New sign-in to your account');
  expect(first.text).toContain('From: Firefox on Windows, United Kingdom (81.2.69.142)');
  expect((await signIn(FIREFOX_WINDOWS, '81.2.70.9')).status).toBe(303); // same browser, same network
  expect((await signIn(CHROME_MAC, '81.2.69.142', 'not-the-password-1')).status).toBe(401);
  expect(await subjects('devices@example.com')).toHaveLength(1);
  expect((await signIn(CHROME_MAC, '81.2.69.142')).status).toBe(303); // another browser
  expect((await signIn(FIREFOX_WINDOWS, '8.8.8.8')).status).toBe(303); // another network
  expect(await subjects('devices@example.com')).toEqual([
    'New sign-in to your account',
    'New sign-in to your account',
    'New sign-in to your account',
  ]);
});

it('mails when a recovery code leaves two or fewer', async () => {
  const agent = await guest('codes@example.com');
  const { codes } = await enrolThroughPages(agent);
  const user = (await UserModel.findOne({ username: 'codes@example.com' }).lean())!;
  for (const c of codes.slice(0, 7)) expect(await useSecondFactor(user._id, c)).toBe('recovery');
  expect(await subjects('codes@example.com')).toEqual(['Two-factor sign-in was turned on']);
  // The eighth, at the code step of a sign-in: two are left.
  const signIn = from(request.agent(t.app), FIREFOX_WINDOWS);
  await logIn(signIn, 'codes@example.com', GOOD_PASSWORD, '81.2.69.142');
  expect(
    (await postForm(signIn, '/s/portal/login', '/s/portal/login/code', { code: codes[7] }, '81.2.69.142')).status,
  ).toBe(303);
  const low = (await notices('codes@example.com')).find((n) => n.subject === 'You are running out of recovery codes')!;
  expect(low.text).toContain('Only 2 are left: make new ones on the two-factor page of your account.');
  expect(low.text).toContain('From: Firefox on Windows, United Kingdom (81.2.69.142)');
});
