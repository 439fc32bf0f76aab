/**
 * "Remember this device" (issue 26 item 8): ticked at the second-factor step with a correct code, the
 * browser gets a signed `portal.device` cookie and skips the code at the next sign-in of the same user
 * and area. Another user's cookie, an expired, removed or tampered one asks for the code as usual; a
 * password change (and the other events) forgets every device. Read from the redirects, the pages and
 * the database, never only a status code.
 */
import crypto from 'node:crypto';
import request from 'supertest';
import { startTestApp, type TestApp } from '../../helpers/app';
import { GOOD_PASSWORD, postForm, registerGuest } from '../../helpers/forms';
import { enrolThroughPages, totp } from '../../helpers/totp';
import { rowsOf } from '../../helpers/account-page';
import { ADMIN_PASSWORD, adminAgent, makeAdmin } from '../../helpers/admin';
import { AuditEventModel, LoginEventModel, RememberedDeviceModel, UserModel } from '../../../src/data/models';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp('site-remember-device', { env: { REMEMBER_DEVICE_DAYS: '20' } });
});
afterAll(() => t.stop());

const HOME = '/s/portal/',
  CODE = '/s/portal/login/code';
const DAY = 86_400_000;
const sha256 = (v: string) => crypto.createHash('sha256').update(v).digest('hex');

/** A user with two-factor on: the key and the recovery codes (each good once, for the later code steps). */
async function twoFactorUser(email: string) {
  const { agent } = await registerGuest(t.app, { email });
  const { secret, codes } = await enrolThroughPages(agent);
  const user = (await UserModel.findOne({ username: email }).lean())!;
  return { agent, secret, codes: [...codes], user };
}

const passwordStep = (agent: request.Agent, email: string, password = GOOD_PASSWORD) =>
  postForm(agent, '/s/portal/login', '/s/portal/login', { username: email, password });

/** The raw `portal.device` cookie a response set, with its attributes. */
function deviceCookieIn(res: request.Response): { value: string; attributes: string } | null {
  const line = ([] as string[]).concat(res.headers['set-cookie'] ?? []).find((c) => c.startsWith('portal.device='));
  if (!line) return null;
  const [pair, ...rest] = line.split(';');
  return { value: decodeURIComponent(pair.slice('portal.device='.length)), attributes: rest.join(';') };
}

/** A fresh browser that holds only this device cookie. */
function browserWith(value: string): request.Agent {
  const agent = request.agent(t.app);
  (agent as unknown as { jar: { setCookie(c: string, domain: string, path: string): void } }).jar.setCookie(
    `portal.device=${encodeURIComponent(value)}; Path=/`,
    '127.0.0.1',
    '/',
  );
  return agent;
}

/** Signs in with the password and a code, ticking "Remember this device"; returns the cookie value. */
async function rememberWith(email: string, code: string): Promise<string> {
  const agent = request.agent(t.app);
  expect((await passwordStep(agent, email)).headers.location).toBe(CODE);
  const page = await agent.get(CODE);
  expect(page.text).toContain('name="remember"');
  expect(page.text).toContain('20 days');
  const res = await postForm(agent, CODE, CODE, { code, remember: 'yes' });
  expect(res.headers.location).toBe(HOME);
  const cookie = deviceCookieIn(res);
  expect(cookie).not.toBeNull();
  expect(cookie!.attributes).toMatch(/HttpOnly/i);
  expect(cookie!.attributes).toMatch(/SameSite=Lax/i);
  return cookie!.value;
}

/** Where the password step of a browser holding `cookie` sends it: HOME (code skipped) or CODE (asked). */
async function afterPassword(cookie: string, email: string, password = GOOD_PASSWORD): Promise<string> {
  const agent = browserWith(cookie);
  const res = await passwordStep(agent, email, password);
  if (res.headers.location === HOME) expect((await agent.get(HOME)).text).toContain('Welcome, ');
  return res.headers.location as string;
}

it('remembered: the next sign-in in that browser asks no code; not ticked, no cookie and no record', async () => {
  const u = await twoFactorUser('remember-a@example.com');
  const cookie = await rememberWith('remember-a@example.com', totp(u.secret, 1));
  expect(await afterPassword(cookie, 'remember-a@example.com')).toBe(HOME);
  const [record] = await RememberedDeviceModel.find({ user: u.user._id }).lean();
  expect(record.area).toBe('site');
  expect(record.expiresAt.getTime() - record.createdAt.getTime()).toBe(20 * DAY);
  expect(await AuditEventModel.countDocuments({ action: 'mfa.device_remembered', 'target.id': u.user._id })).toBe(1);
  // A browser without the cookie is still asked.
  expect((await passwordStep(request.agent(t.app), 'remember-a@example.com')).headers.location).toBe(CODE);

  const plain = request.agent(t.app);
  await passwordStep(plain, 'remember-a@example.com');
  const res = await postForm(plain, CODE, CODE, { code: u.codes[0] });
  expect(res.headers.location).toBe(HOME);
  expect(deviceCookieIn(res)).toBeNull();
  expect(await RememberedDeviceModel.countDocuments({ user: u.user._id })).toBe(1);
});

it("the database holds only the SHA-256 hash of the cookie's id, never the id itself", async () => {
  const u = await twoFactorUser('remember-hash@example.com');
  const cookie = await rememberWith('remember-hash@example.com', totp(u.secret, 1));
  const id = cookie.split('.')[0];
  expect(id.length).toBeGreaterThanOrEqual(40);
  const docs = await RememberedDeviceModel.find({ user: u.user._id }).lean();
  expect(docs).toHaveLength(1);
  expect(docs[0].hash).toBe(sha256(id));
  const stored = JSON.stringify(docs);
  expect(stored).not.toContain(id);
  expect(stored).not.toContain(cookie.split('.')[1]);
});

it("another user's cookie, a tampered signature and an expired record ask for the code, with nothing shown or changed", async () => {
  const a = await twoFactorUser('remember-owner@example.com');
  const b = await twoFactorUser('remember-other@example.com');
  const cookie = await rememberWith('remember-owner@example.com', totp(a.secret, 1));
  const before = await RememberedDeviceModel.find({}).sort({ _id: 1 }).lean();

  // Stolen: B signs in on a browser holding A's cookie.
  const stolen = browserWith(cookie);
  const res = await passwordStep(stolen, 'remember-other@example.com');
  expect(res.headers.location).toBe(CODE);
  const codePage = await stolen.get(CODE);
  expect(codePage.text).toContain('name="code"');
  expect(codePage.text).not.toContain('class="alert alert-error"');

  // Tampered: the same id with a made-up signature, or a changed id under the real signature.
  const [id, mac] = cookie.split('.');
  expect(await afterPassword(`${id}.${mac.slice(0, -2)}AA`, 'remember-owner@example.com')).toBe(CODE);
  expect(await afterPassword(`${id.slice(0, -2)}AA.${mac}`, 'remember-owner@example.com')).toBe(CODE);
  expect(await RememberedDeviceModel.find({}).sort({ _id: 1 }).lean()).toEqual(before);

  // Expired: the record's expiry in the past (the TTL monitor has not run yet).
  expect(await afterPassword(cookie, 'remember-owner@example.com')).toBe(HOME);
  await RememberedDeviceModel.updateOne({ user: a.user._id }, { $set: { expiresAt: new Date(Date.now() - 1000) } });
  expect(await afterPassword(cookie, 'remember-owner@example.com')).toBe(CODE);
  expect(b.user._id).toBeTruthy();
});

it('is listed on the account page and removed there (CSRF form); removed, the code is asked again', async () => {
  const u = await twoFactorUser('remember-remove@example.com');
  const cookie = await rememberWith('remember-remove@example.com', totp(u.secret, 1));
  const page = await u.agent.get('/s/portal/account');
  expect(page.text).toContain('Devices that skip the second factor');
  const rows = rowsOf(page.text, 'remembered-devices');
  expect(rows).toHaveLength(1);
  expect(rows[0].html).toContain('name="_csrf"');
  const deviceId = /name="id" value="([0-9a-f]{24})"/.exec(rows[0].html)![1];

  // Someone else cannot remove it.
  const other = await twoFactorUser('remember-remove-other@example.com');
  const refused = await postForm(other.agent, '/s/portal/account', '/s/portal/account/devices/remove', {
    id: deviceId,
  });
  expect(refused.status).toBe(404);
  expect(await RememberedDeviceModel.exists({ _id: deviceId })).toBeTruthy();
  // Without the CSRF token nothing is removed.
  await u.agent.post('/s/portal/account/devices/remove').type('form').send({ id: deviceId });
  expect(await RememberedDeviceModel.exists({ _id: deviceId })).toBeTruthy();

  const removed = await postForm(u.agent, '/s/portal/account', '/s/portal/account/devices/remove', { id: deviceId });
  expect(removed.headers.location).toBe('/s/portal/account?saved=device');
  expect(await RememberedDeviceModel.exists({ _id: deviceId })).toBeNull();
  expect(rowsOf((await u.agent.get('/s/portal/account')).text, 'remembered-devices')).toHaveLength(0);
  expect(await AuditEventModel.countDocuments({ action: 'mfa.device_forgotten', 'target.id': u.user._id })).toBe(1);
  expect(await afterPassword(cookie, 'remember-remove@example.com')).toBe(CODE);
});

it('a password change forgets every remembered device of the user, and only theirs', async () => {
  const u = await twoFactorUser('remember-pw@example.com');
  const first = await rememberWith('remember-pw@example.com', totp(u.secret, 1));
  const second = await rememberWith('remember-pw@example.com', u.codes[0]);
  const bystander = await twoFactorUser('remember-pw-other@example.com');
  const kept = await rememberWith('remember-pw-other@example.com', totp(bystander.secret, 1));
  expect(await RememberedDeviceModel.countDocuments({ user: u.user._id })).toBe(2);

  const NEW = 'copper-meadow-lantern-58';
  const changed = await postForm(u.agent, '/s/portal/account', '/s/portal/account/password', {
    currentPassword: GOOD_PASSWORD,
    newPassword: NEW,
    newPasswordConfirm: NEW,
  });
  expect(changed.status).toBe(303);
  expect(await RememberedDeviceModel.countDocuments({ user: u.user._id })).toBe(0);
  expect(
    await AuditEventModel.countDocuments({
      action: 'mfa.device_forgotten',
      'target.id': u.user._id,
      'after.reason': 'password_changed',
    }),
  ).toBe(1);
  expect(await afterPassword(first, 'remember-pw@example.com', NEW)).toBe(CODE);
  expect(await afterPassword(second, 'remember-pw@example.com', NEW)).toBe(CODE);
  expect(await afterPassword(kept, 'remember-pw-other@example.com')).toBe(HOME);
});

it('"end all other sessions" and turning two-factor off forget them too', async () => {
  const u = await twoFactorUser('remember-end@example.com');
  const cookie = await rememberWith('remember-end@example.com', totp(u.secret, 1));
  await postForm(u.agent, '/s/portal/account', '/s/portal/account/sessions/end-others', {});
  expect(await RememberedDeviceModel.countDocuments({ user: u.user._id })).toBe(0);
  expect(await afterPassword(cookie, 'remember-end@example.com')).toBe(CODE);

  await rememberWith('remember-end@example.com', u.codes[0]);
  expect(await RememberedDeviceModel.countDocuments({ user: u.user._id })).toBe(1);
  const off = await postForm(u.agent, '/s/portal/account/two-factor', '/s/portal/account/two-factor/disable', {
    password: GOOD_PASSWORD,
  });
  expect(off.status).toBe(303);
  expect(await RememberedDeviceModel.countDocuments({ user: u.user._id })).toBe(0);
});

it("works in the admin area for that area only; an admin's two-factor reset of a user forgets the user's devices", async () => {
  await makeAdmin('remember-admin@example.com');
  const admin = await adminAgent(t.app, 'remember-admin@example.com');
  const { secret } = await enrolThroughPages(admin, '/admin/two-factor');
  const signIn = (agent: request.Agent) =>
    postForm(agent, '/admin/login', '/admin/login', {
      username: 'remember-admin@example.com',
      password: ADMIN_PASSWORD,
    });

  const first = request.agent(t.app);
  expect((await signIn(first)).headers.location).toBe('/admin/login/code');
  expect((await first.get('/admin/login/code')).text).toContain('name="remember"');
  const coded = await postForm(first, '/admin/login/code', '/admin/login/code', {
    code: totp(secret, 1),
    remember: 'yes',
  });
  expect(coded.headers.location).toBe('/admin');
  const cookie = deviceCookieIn(coded)!.value;
  const adminUser = (await UserModel.findOne({ username: 'remember-admin@example.com' }).lean())!;
  expect(await RememberedDeviceModel.countDocuments({ user: adminUser._id, area: 'admin' })).toBe(1);

  const again = browserWith(cookie);
  expect((await signIn(again)).headers.location).toBe('/admin');
  expect((await again.get('/admin')).status).toBe(200);
  // A record for the site area does not open the admin area.
  await RememberedDeviceModel.updateOne({ user: adminUser._id }, { $set: { area: 'site' } });
  expect((await signIn(browserWith(cookie))).headers.location).toBe('/admin/login/code');

  const u = await twoFactorUser('remember-reset@example.com');
  await rememberWith('remember-reset@example.com', totp(u.secret, 1));
  const reset = await postForm(
    again,
    `/admin/users/${String(u.user._id)}`,
    `/admin/users/${String(u.user._id)}/two-factor/reset`,
    {},
  );
  expect(reset.status).toBeLessThan(400);
  expect((await UserModel.findById(u.user._id).lean())!.mfaEnabled).toBe(false);
  expect(await RememberedDeviceModel.countDocuments({ user: u.user._id })).toBe(0);
  expect(
    await AuditEventModel.countDocuments({
      action: 'mfa.device_forgotten',
      'target.id': u.user._id,
      'after.reason': 'mfa_reset',
    }),
  ).toBe(1);
});

it('a sign-in whose code a remembered device skipped is recorded as password+device, in the history and on the account page', async () => {
  const u = await twoFactorUser('remember-method@example.com');
  const cookie = await rememberWith('remember-method@example.com', totp(u.secret, 1));
  const agent = browserWith(cookie);
  expect((await passwordStep(agent, 'remember-method@example.com')).headers.location).toBe(HOME);
  const events = await LoginEventModel.find({ user: u.user._id, outcome: 'success' }).sort({ at: 1, _id: 1 }).lean();
  // Registration's sign-in, the enrolment's, the code step that remembered the browser, then the skipped one.
  expect(events.map((e) => e.method).slice(-2)).toEqual(['password+totp', 'password+device']);
  expect(events.filter((e) => e.method === 'password')).toHaveLength(events.length - 2);
  const page = await agent.get('/s/portal/account');
  expect(page.text).toContain('password, second step skipped on a remembered device');
});
