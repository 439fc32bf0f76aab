/**
 * Languages on the guest side: a person stored as ja_JP gets Japanese pages and mails, an anonymous
 * visitor their browser's language, anyone else the site's default language; dates in the reader's
 * locale and time zone; locale, language and time zone from lists, checked on the server.
 */
import request from 'supertest';
import { startTestApp, type TestApp } from '../../helpers/app';
import { csrfFrom, GOOD_PASSWORD, logIn, postForm, solvedPow } from '../../helpers/forms';
import { deliverToOutbox, linkIn, mailTo } from '../../helpers/mail';
import { LoginEventModel, SiteModel, UserModel } from '../../../src/data/models';
import { loadCatalogue } from '../../../src/i18n/catalogue';
import { settleDetached } from '../../../src/shared/detached';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp('site-languages');
});
afterAll(() => t.stop());

/** Words of the English catalogue that the Japanese one does not use as well (product names such as IP, QR). */
const englishWords = (() => {
  const words = (cat: Record<string, string>) =>
    new Set(Object.values(cat).flatMap((m) => m.replace(/\{\{\w+\}\}/g, ' ').match(/[A-Za-z]{2,}/g) ?? []));
  const ja = words(loadCatalogue('ja'));
  return new Set([...words(loadCatalogue('en'))].filter((w) => !ja.has(w)));
})();

/**
 * English catalogue words in a page's visible text. Left out: what people and admins typed (names,
 * addresses, the site's name and its page titles, passed in `data`), and the option lists of
 * time zones (IANA names such as America/New_York are not translated).
 */
function englishIn(html: string, data: string[]): string[] {
  let text = html
    .replace(/<script[\s\S]*?<\/script>/g, ' ')
    .replace(/<select[\s\S]*?<\/select>/g, ' ')
    .replace(/https?:\/\/[^\s"<]+/g, ' ')
    .replace(/<[^>]+>/g, ' ')
    .replace(/&#(\d+);/g, (_m, c: string) => String.fromCharCode(Number(c)))
    .replace(/&amp;/g, '&');
  for (const d of data) text = text.split(d).join(' ');
  return (text.match(/[A-Za-z]{2,}/g) ?? []).filter((w) => englishWords.has(w));
}

const SITE_DATA = ['Customer Portal', 'Community'];

async function registerJapanese(email: string) {
  const agent = request.agent(t.app);
  const page = await agent.get('/s/portal/register').set('Accept-Language', 'ja-JP,ja;q=0.9');
  const res = await agent
    .post('/s/portal/register')
    .set('Accept-Language', 'ja-JP,ja;q=0.9')
    .type('form')
    .send({
      _csrf: csrfFrom(page.text),
      firstName: 'Hanako',
      lastName: 'Yamada',
      email,
      password: GOOD_PASSWORD,
      passwordConfirm: GOOD_PASSWORD,
      timeZone: 'Asia/Tokyo',
      altcha: await solvedPow(agent),
    });
  // Registration signs nobody in and answers 201 with the same page for a new or a taken address
  // (self-signin); that page is Japanese too. The guest then logs in as a person would.
  expect(res.status).toBe(201);
  expect(res.text).toContain('にメッセージを送りました');
  expect(englishIn(res.text, [...SITE_DATA, email])).toEqual([]);
  expect((await logIn(agent, email, GOOD_PASSWORD)).status).toBe(303);
  return agent;
}

it('stores a visitor from a Japanese browser as ja_JP and shows every page in Japanese, with no English of the catalogue', async () => {
  const email = 'hanako@example.com';
  const agent = await registerJapanese(email);
  const user = (await UserModel.findOne({ username: email }).lean())!;
  expect(user).toMatchObject({ localeSidKey: 'ja_JP', languageLocaleKey: 'ja_JP', timeZoneSidKey: 'Asia/Tokyo' });
  const data = [...SITE_DATA, 'Hanako', 'Yamada', email];
  // The signed-in pages use the stored language, whatever the browser now says.
  for (const path of ['/s/portal/', '/s/portal/account', '/s/portal/account/two-factor']) {
    const res = await agent.get(path).set('Accept-Language', 'en-US');
    expect([path, res.status]).toEqual([path, 200]);
    expect(res.text).toContain('<html lang="ja">');
    expect([path, englishIn(res.text, data)]).toEqual([path, []]);
  }
  const enrolment = await postForm(agent, '/s/portal/account/two-factor', '/s/portal/account/two-factor/setup', {});
  expect(enrolment.text).toContain('認証アプリでこのコードを読み取ってください');
  expect(englishIn(enrolment.text, data)).toEqual([]);
  // The verification link from registration: a Japanese mail and a Japanese page.
  await deliverToOutbox();
  const [verify] = await mailTo(email);
  expect(verify.subject).toBe('メールアドレスの確認');
  expect(verify.text).toContain('Hanako 様');
  expect(verify.text).toContain('2 日で有効期限が切れます');
  expect(englishIn(verify.html ?? '', [...data, 'Identity Portal'])).toEqual([]);
  const page = await agent.get(await linkIn(email, /メールアドレスの確認/));
  expect(page.status).toBe(200);
  expect(englishIn(page.text, data)).toEqual([]);
});

it('shows an anonymous visitor the pages in their browser language', async () => {
  const visitor = request.agent(t.app);
  for (const path of [
    '/s/portal/',
    '/s/portal/login',
    '/s/portal/register',
    '/s/portal/forgot',
    '/no-such-page',
    '/s/portal/no-such-page',
  ]) {
    const res = await visitor.get(path).set('Accept-Language', 'ja,en;q=0.5');
    expect(res.headers['content-language']).toBe('ja');
    expect(res.headers.vary).toMatch(/Accept-Language/);
    expect([path, englishIn(res.text, SITE_DATA)]).toEqual([path, []]);
  }
  const page = await visitor.get('/s/portal/forgot').set('Accept-Language', 'ja');
  const sent = await visitor
    .post('/s/portal/forgot')
    .set('Accept-Language', 'ja')
    .type('form')
    .send({ _csrf: csrfFrom(page.text), email: 'nobody@example.com' });
  expect(sent.text).toContain('新しいパスワードを設定するリンクを送りました');
  expect(englishIn(sent.text, SITE_DATA)).toEqual([]);
  const english = await visitor.get('/s/portal/login').set('Accept-Language', 'en-GB');
  expect(english.text).toContain('Log in to Customer Portal');
  // Machines get no language: the API's answers carry no Content-Language.
  expect((await visitor.get('/api/v1/users').set('Accept-Language', 'ja')).headers['content-language']).toBeUndefined();
  // The check finds English where there is some.
  expect(englishIn(english.text, SITE_DATA)).toEqual(
    expect.arrayContaining(['Forgot', 'password', 'Email', 'username', 'Keep', 'signed']),
  );
});

it("uses the site's default language for a language the portal does not speak, in pages and mails", async () => {
  const visitor = request.agent(t.app);
  expect((await visitor.get('/s/portal/login').set('Accept-Language', 'fr-FR')).text).toContain(
    'Forgot your password?',
  );
  await SiteModel.updateOne({ slug: 'portal' }, { $set: { defaultLanguage: 'ja' } });
  try {
    expect((await visitor.get('/s/portal/login').set('Accept-Language', 'fr-FR')).text).toContain(
      'パスワードをお忘れですか？',
    );
    // A signed-in user whose language is French: the site's default, not their browser's.
    const reg = request.agent(t.app);
    const form = await reg.get('/s/portal/register').set('Accept-Language', 'fr-FR');
    await reg
      .post('/s/portal/register')
      .set('Accept-Language', 'fr-FR')
      .type('form')
      .send({
        _csrf: csrfFrom(form.text),
        firstName: 'Amélie',
        lastName: 'Poulain',
        email: 'amelie@example.com',
        password: GOOD_PASSWORD,
        altcha: await solvedPow(reg),
      });
    expect((await UserModel.findOne({ username: 'amelie@example.com' }).lean())!.languageLocaleKey).toBe('fr_FR');
    expect((await logIn(reg, 'amelie@example.com', GOOD_PASSWORD)).status).toBe(303);
    expect((await reg.get('/s/portal/').set('Accept-Language', 'en')).text).toContain('ようこそ、Amélie さん');
    const forgot = await postForm(request.agent(t.app), '/s/portal/forgot', '/s/portal/forgot', {
      email: 'amelie@example.com',
    });
    expect(forgot.status).toBe(200);
    await settleDetached();
    const reset = (await mailTo('amelie@example.com')).find((m) => m.template === 'password-reset')!;
    expect(reset.subject).toBe('パスワードの再設定');
    expect(reset.text).toContain('60 分');
  } finally {
    await SiteModel.updateOne({ slug: 'portal' }, { $set: { defaultLanguage: 'en' } });
  }
});

it('writes dates in the reader’s locale and time zone', async () => {
  const agent = await registerJapanese('tokyo@example.com');
  const user = (await UserModel.findOne({ username: 'tokyo@example.com' }))!;
  await LoginEventModel.create({
    user: user._id,
    at: new Date('2026-01-02T15:30:00Z'),
    area: 'site',
    outcome: 'failure',
    ip: '198.51.100.7',
  });
  expect((await agent.get('/s/portal/account')).text).toContain(
    '<time datetime="2026-01-02T15:30:00.000Z">2026/01/03 0:30</time>',
  );
  await UserModel.updateOne(
    { _id: user._id },
    { $set: { localeSidKey: 'en_US', languageLocaleKey: 'en_US', timeZoneSidKey: 'America/New_York' } },
  );
  expect((await agent.get('/s/portal/account')).text).toContain(
    '<time datetime="2026-01-02T15:30:00.000Z">Jan 2, 2026, 10:30 AM</time>',
  );
  await UserModel.updateOne({ _id: user._id }, { $set: { localeSidKey: 'de_DE', timeZoneSidKey: 'Europe/Berlin' } });
  expect((await agent.get('/s/portal/account')).text).toContain(
    '<time datetime="2026-01-02T15:30:00.000Z">02.01.2026, 16:30</time>',
  );
});

it('offers locale, language and time zone as lists and refuses a value outside them, writing nothing', async () => {
  const agent = await registerJapanese('lists@example.com');
  const page = await agent.get('/s/portal/account');
  expect(page.text).toMatch(
    /<select id="f-languageLocaleKey" name="languageLocaleKey"[^>]*>\s*<option value="en_US">English<\/option><option value="ja_JP" selected>日本語<\/option>/,
  );
  expect(page.text).toContain('<option value="Asia/Tokyo" selected>Asia/Tokyo</option>');
  expect(page.text).toContain('<option value="en_GB">イギリス英語 (en_GB)</option>');
  const fields = { firstName: 'Hanako', lastName: 'Yamada', communityNickname: 'lists' };
  const before = (await UserModel.findOne({ username: 'lists@example.com' }).lean())!;
  for (const bad of [{ languageLocaleKey: 'fr_FR' }, { localeSidKey: 'xx_XX' }, { timeZoneSidKey: 'Mars/Olympus' }]) {
    const res = await postForm(agent, '/s/portal/account', '/s/portal/account', {
      localeSidKey: 'ja_JP',
      languageLocaleKey: 'ja_JP',
      timeZoneSidKey: 'Asia/Tokyo',
      ...fields,
      ...bad,
    });
    expect(res.status).toBe(422);
    expect(res.text).toContain(`id="f-${Object.keys(bad)[0]}-error"`);
    expect((await UserModel.findOne({ username: 'lists@example.com' }).lean())!.updatedAt).toEqual(before.updatedAt);
  }
  // The stored ja_JP is not offered but may stay; choosing from the lists saves.
  expect(
    (
      await postForm(agent, '/s/portal/account', '/s/portal/account', {
        ...fields,
        localeSidKey: 'ja_JP',
        languageLocaleKey: 'ja_JP',
        timeZoneSidKey: 'Asia/Tokyo',
      })
    ).status,
  ).toBe(303);
  expect(
    (
      await postForm(agent, '/s/portal/account', '/s/portal/account', {
        ...fields,
        localeSidKey: 'en_GB',
        languageLocaleKey: 'en_US',
        timeZoneSidKey: 'Europe/London',
      })
    ).status,
  ).toBe(303);
  expect(await UserModel.findOne({ username: 'lists@example.com' }).lean()).toMatchObject({
    localeSidKey: 'en_GB',
    languageLocaleKey: 'en_US',
    timeZoneSidKey: 'Europe/London',
  });
  expect((await agent.get('/s/portal/account')).text).toContain('<html lang="en">');
});

it('still signs a Japanese user in with their language after logging in again', async () => {
  await registerJapanese('again@example.com');
  const agent = request.agent(t.app);
  expect((await logIn(agent, 'again@example.com', GOOD_PASSWORD)).status).toBe(303);
  expect((await agent.get('/s/portal/')).text).toContain('ようこそ、Hanako さん');
});

it('words security notices and the registration-attempt mail in Japanese for a Japanese user, device and place included', async () => {
  const email = 'notices@example.com';
  const agent = await registerJapanese(email);
  const firefox = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0';
  const changed = await postForm(agent.set('User-Agent', firefox), '/s/portal/account', '/s/portal/account/password', {
    currentPassword: GOOD_PASSWORD,
    newPassword: 'lighthouse-violin-parsnip-58',
    newPasswordConfirm: 'lighthouse-violin-parsnip-58',
  });
  expect(changed.status).toBe(303);
  await settleDetached();
  const notice = (await mailTo(email)).find((m) => m.template === 'security-notice')!;
  expect(notice.subject).toBe('パスワードが変更されました');
  // Loopback has no country: the place is "unknown" in Japanese, the device worded by the catalogue.
  expect(notice.text).toContain('操作元：Firefox（Windows）, 不明な場所');
  expect(
    englishIn(notice.html ?? '', [...SITE_DATA, 'Identity Portal', email, 'Hanako', 'Firefox', 'Windows']),
  ).toEqual([]);
  expect(englishIn(notice.text ?? '', [email, 'Hanako', 'Firefox', 'Windows'])).toEqual([]);
  // Someone registers with the taken address: its owner hears of it in their language.
  const visitor = request.agent(t.app);
  const form = await visitor.get('/s/portal/register');
  await visitor
    .post('/s/portal/register')
    .type('form')
    .send({
      _csrf: csrfFrom(form.text),
      firstName: 'X',
      lastName: 'Y',
      email,
      password: GOOD_PASSWORD,
      altcha: await solvedPow(visitor),
    });
  await settleDetached();
  const attempt = (await mailTo(email)).find((m) => m.template === 'registration-attempt')!;
  expect(attempt.subject).toBe('あなたのアドレスで登録しようとした方がいます');
  expect(englishIn(attempt.text ?? '', [...SITE_DATA, email, 'Hanako'])).toEqual([]);
});
