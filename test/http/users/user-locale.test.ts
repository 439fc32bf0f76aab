/** The admin user page: language, locale and time zone chosen from lists and checked on the server; the console stays English. */
import type request from 'supertest';
import { startTestApp, type TestApp } from '../../helpers/app';
import { postForm, registerGuest } from '../../helpers/forms';
import { adminAgent, makeAdmin } from '../../helpers/admin';
import { UserModel } from '../../../src/data/models';

let t: TestApp;
let admin: request.Agent;
beforeAll(async () => {
  t = await startTestApp('admin-user-locale');
  await makeAdmin();
  admin = await adminAgent(t.app);
});
afterAll(() => t.stop());

const edit = (id: unknown, fields: Record<string, string>) =>
  postForm(admin, `/admin/users/${id}`, `/admin/users/${id}/edit`, { _form: 'edit', ...fields });

it('offers the lists, saves a choice from them and refuses anything else without writing', async () => {
  await registerGuest(t.app, { email: 'listed@example.com' });
  const u = (await UserModel.findOne({ username: 'listed@example.com' }).lean())!;
  const base = {
    firstName: u.firstName,
    lastName: u.lastName,
    email: u.email,
    communityNickname: u.communityNickname,
    alias: u.alias,
  };
  const page = await admin.get(`/admin/users/${u._id}`).set('Accept-Language', 'ja');
  expect(page.text).toContain('<html lang="en">');
  expect(page.text).toMatch(/<select id="edit-timeZoneSidKey" name="timeZoneSidKey"/);
  expect(page.text).toContain('<option value="ja_JP">日本語</option>');
  expect(page.text).toContain('<option value="en_GB">British English (en_GB)</option>');

  for (const bad of [{ timeZoneSidKey: 'Mars/Olympus' }, { languageLocaleKey: 'de' }, { localeSidKey: 'tlh_KL' }]) {
    const res = await edit(u._id, {
      ...base,
      localeSidKey: u.localeSidKey,
      languageLocaleKey: u.languageLocaleKey,
      timeZoneSidKey: u.timeZoneSidKey,
      ...bad,
    });
    expect(res.status).toBe(422);
    expect(res.text).toContain(`id="edit-${Object.keys(bad)[0]}-error"`);
    expect((await UserModel.findById(u._id).lean())!.updatedAt).toEqual(u.updatedAt);
  }
  const ok = await edit(u._id, {
    ...base,
    localeSidKey: 'ja_JP',
    languageLocaleKey: 'ja_JP',
    timeZoneSidKey: 'Asia/Tokyo',
  });
  expect(ok.status).toBe(303);
  expect(await UserModel.findById(u._id).lean()).toMatchObject({
    localeSidKey: 'ja_JP',
    languageLocaleKey: 'ja_JP',
    timeZoneSidKey: 'Asia/Tokyo',
  });
});

it('leaves the settings alone when a form does not send them', async () => {
  await registerGuest(t.app, { email: 'untouched@example.com', timeZone: 'Europe/Paris' });
  const u = (await UserModel.findOne({ username: 'untouched@example.com' }).lean())!;
  const res = await edit(u._id, {
    firstName: 'Renamed',
    lastName: u.lastName,
    email: u.email,
    communityNickname: u.communityNickname,
    alias: u.alias,
  });
  expect(res.status).toBe(303);
  expect(await UserModel.findById(u._id).lean()).toMatchObject({
    firstName: 'Renamed',
    timeZoneSidKey: 'Europe/Paris',
    localeSidKey: u.localeSidKey,
  });
});
