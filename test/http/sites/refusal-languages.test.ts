/**
 * Issue 26 item 5, the last gap: the refusals a site page shows (the password policy, a taken or
 * malformed address, a wrong current password, a throttled sign-in, an expired link) are in the
 * person's language, while the API (and the English admin area) keep the English text as thrown.
 * The portal site's default language is Japanese here; registered people are stored as ja_JP.
 */
import request from 'supertest';
import { startTestApp, type TestApp } from '../../helpers/app';
import { csrfFrom, GOOD_PASSWORD, logIn, postForm, registerGuest } from '../../helpers/forms';
import { linkIn, tokenOf } from '../../helpers/mail';
import { adminToken } from '../api/tokens';
import { MailMessageModel, SiteModel, UserModel } from '../../../src/data/models';
import { loadCatalogue } from '../../../src/i18n/catalogue';
import { sendResetLink } from '../../../src/account/recovery';
import { MSG } from '../../../src/shared/messages';

const ja = loadCatalogue('ja');
/** As EJS writes text into a page. */
const html = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

let t: TestApp;
let token: string;
beforeAll(async () => {
  t = await startTestApp('refusal-languages', {
    env: { LOGIN_MAX_FAILS_PER_USER_IP: '3', LOGIN_MAX_FAILS_PER_IP: '50', TRUST_PROXY: '1' },
  });
  await SiteModel.updateOne({ slug: 'portal' }, { $set: { defaultLanguage: 'ja' } });
  token = (await adminToken()).token;
});
afterAll(() => t.stop());

const api = (body: object) => request(t.app).post('/api/v1/users').set('Authorization', `Bearer ${token}`).send(body);

async function register(fields: Record<string, string>) {
  const agent = request.agent(t.app);
  return postForm(agent, '/s/portal/register', '/s/portal/register', {
    firstName: 'Hanako',
    lastName: 'Yamada',
    email: 'hanako@example.com',
    password: GOOD_PASSWORD,
    passwordConfirm: fields.password ?? GOOD_PASSWORD,
    ...fields,
  });
}

/** A registered person whose language is Japanese, signed in. */
async function japaneseUser(email: string) {
  const { agent } = await registerGuest(t.app, { email });
  await UserModel.updateOne({ username: email }, { $set: { languageLocaleKey: 'ja_JP', localeSidKey: 'ja_JP' } });
  return agent;
}

it('says a too short password in Japanese on the registration page, and the API says it in English', async () => {
  const res = await register({ password: 'short', passwordConfirm: 'short' });
  expect(res.status).toBe(422);
  expect(res.text).toContain('<html lang="ja">');
  expect(res.text).toContain(ja['refusal.passwordTooShort'].replace('{{n}}', '12'));
  expect(res.text).toContain(html(ja['refusal.fieldsNeedAttention']));
  expect(res.text).not.toContain('Use at least 12 characters');
  expect(await UserModel.exists({ username: 'hanako@example.com' })).toBeNull();

  const byApi = await api({ firstName: 'Hanako', lastName: 'Yamada', email: 'hanako@example.com', password: 'short' });
  expect(byApi.status).toBe(400);
  expect(byApi.body.error.message).toBe('Some fields need attention.');
  expect(byApi.body.error.fields.password).toBe(
    'Use at least 12 characters. A few unrelated words make a long password that is easy to remember.',
  );
});

it('says a common password and one built from the name in Japanese', async () => {
  const common = await register({ password: 'password1234', passwordConfirm: 'password1234' });
  expect(common.status).toBe(422);
  expect(common.text).toContain(ja['refusal.passwordTooCommon']);
  const own = await register({
    firstName: 'Alice',
    lastName: 'Smith',
    email: 'alice.smith@example.com',
    password: 'alice.smith2024',
    passwordConfirm: 'alice.smith2024',
  });
  expect(own.status).toBe(422);
  expect(own.text).toMatch(new RegExp(`${ja['refusal.passwordFromYou']}|${ja['refusal.passwordTooCommon']}`));
  expect(own.text).not.toContain('This password is');
});

it('says a malformed address in Japanese on the page, and in English from the API', async () => {
  const res = await register({ email: 'not-an-address' });
  expect(res.status).toBe(422);
  expect(res.text).toContain(html(ja['refusal.enterValidEmail']));
  expect(res.text).not.toContain(MSG.enterValidEmail);
  const byApi = await api({ firstName: 'Hanako', lastName: 'Yamada', email: 'not-an-address' });
  expect(byApi.status).toBe(400);
  expect(byApi.body.error.fields.email).toBe('Enter a valid email address, like name@example.com.');
});

it('says a taken address in Japanese when an email change is confirmed, and in English from the API', async () => {
  await registerGuest(t.app, { email: 'taken@example.com' });
  const agent = await japaneseUser('clash@example.com');
  expect(
    (
      await postForm(agent, '/s/portal/account', '/s/portal/account/email', {
        newEmail: 'taken@example.com',
        password: GOOD_PASSWORD,
      })
    ).status,
  ).toBe(303);
  const link = await linkIn('taken@example.com', /メールアドレス|email/i);
  const refused = await postForm(agent, '/s/portal/account', '/s/portal/confirm-email', { token: tokenOf(link) });
  expect(refused.status).toBe(409);
  expect(refused.text).toContain(ja['refusal.emailBelongsToOther']);
  expect(refused.text).not.toContain('belongs to another account');
  expect(await UserModel.countDocuments({ email: 'taken@example.com' })).toBe(1);

  const byApi = await api({
    firstName: 'Taro',
    lastName: 'Yamada',
    username: 'taro@example.org',
    email: 'taken@example.com',
  });
  expect(byApi.status).toBe(409);
  expect(byApi.body.error.message).toBe('Another account already uses this email address.');
});

it('says a wrong current password on the account page in Japanese, and changes nothing', async () => {
  const agent = await japaneseUser('current@example.com');
  const before = (await UserModel.findOne({ username: 'current@example.com' }).select('+passwordHash').lean())!
    .passwordHash;
  const res = await postForm(agent, '/s/portal/account', '/s/portal/account/password', {
    currentPassword: 'not-my-password-at-all',
    newPassword: 'amber-lantern-violin-42',
    newPasswordConfirm: 'amber-lantern-violin-42',
  });
  expect(res.status).toBe(422);
  expect(res.text).toContain(ja['refusal.currentPasswordWrong']);
  expect(res.text).not.toContain(MSG.currentPasswordWrong);
  expect(
    (await UserModel.findOne({ username: 'current@example.com' }).select('+passwordHash').lean())!.passwordHash,
  ).toBe(before);
});

it('says a throttled sign-in in Japanese on the site, and in English in the (English) admin area', async () => {
  await registerGuest(t.app, { email: 'throttled@example.com' });
  const ip = '203.0.113.26';
  for (let i = 0; i < 3; i++)
    expect((await logIn(request.agent(t.app), 'throttled@example.com', 'wrong-password-here', ip)).status).toBe(401);
  const res = await logIn(request.agent(t.app), 'throttled@example.com', GOOD_PASSWORD, ip);
  expect(res.status).toBe(429);
  expect(res.text).toMatch(
    /ログインの失敗が多すぎます。\d+ 分後にもう一度お試しいただくか、パスワードを再設定してください。/,
  );
  expect(res.text).not.toContain('Too many');

  const admin = request.agent(t.app);
  const page = await admin.get('/admin/login').set('Accept-Language', 'ja-JP,ja;q=0.9');
  const english = await admin
    .post('/admin/login')
    .set('X-Forwarded-For', ip)
    .set('Accept-Language', 'ja-JP,ja;q=0.9')
    .type('form')
    .send({ _csrf: csrfFrom(page.text), username: 'throttled@example.com', password: GOOD_PASSWORD });
  expect(english.status).toBe(429);
  expect(english.text).toMatch(
    /Too many failed sign-in attempts\. Try again in \d+ minutes?, or reset your password\./,
  );
});

it('says an expired link in Japanese, with what to do next', async () => {
  await registerGuest(t.app, { email: 'expired@example.com' });
  const user = (await UserModel.findOne({ username: 'expired@example.com' }))!;
  await MailMessageModel.deleteMany({ to: 'expired@example.com' });
  await sendResetLink(user, { area: 'site', siteSlug: 'portal' }, new Date(Date.now() - 2 * 3_600_000));
  const link = await linkIn('expired@example.com', /./);
  const res = await request(t.app).get(link);
  expect(res.status).toBe(410);
  expect(res.text).toContain(`${ja['refusal.linkExpired'].replace('{{next}}', ja['refusal.nextReset'])}`);
  expect(res.text).not.toContain('This link has expired.');
});
