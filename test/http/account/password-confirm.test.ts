/** Issue 26 item 3: changing the password asks for it twice; the server decides, whatever a script said. */
import { startTestApp, type TestApp } from '../../helpers/app';
import { GOOD_PASSWORD, logIn, postForm, registerGuest } from '../../helpers/forms';
import request from 'supertest';
import { UserModel } from '../../../src/data/models';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp('site-password-confirm', { env: { TRUST_PROXY: '1' } });
});
afterAll(() => t.stop());

const NEW = 'copper-lantern-meadow-58';

it('shows a Confirm new password field, and refuses a differing confirmation (422) together with a weak new password, changing nothing', async () => {
  const { agent } = await registerGuest(t.app, { email: 'twice@example.com' });
  const page = await agent.get('/s/portal/account');
  expect(page.text).toContain('<label for="f-newPasswordConfirm">Confirm new password</label>');
  const before = (await UserModel.findOne({ username: 'twice@example.com' }).select('+passwordHash').lean())!
    .passwordHash;
  const differs = await postForm(agent, '/s/portal/account', '/s/portal/account/password', {
    currentPassword: GOOD_PASSWORD,
    newPassword: NEW,
    newPasswordConfirm: `${NEW}x`,
  });
  expect(differs.status).toBe(422);
  expect(differs.text).toContain('The two passwords differ. Type the new password twice.');
  const both = await postForm(agent, '/s/portal/account', '/s/portal/account/password', {
    currentPassword: GOOD_PASSWORD,
    newPassword: 'short',
    newPasswordConfirm: 'other',
  });
  expect([...both.text.matchAll(/<li><a href="#f-(\w+)">/g)].map((m) => m[1])).toEqual([
    'newPassword',
    'newPasswordConfirm',
  ]);
  expect(
    (await UserModel.findOne({ username: 'twice@example.com' }).select('+passwordHash').lean())!.passwordHash,
  ).toBe(before);
  const ok = await postForm(agent, '/s/portal/account', '/s/portal/account/password', {
    currentPassword: GOOD_PASSWORD,
    newPassword: NEW,
    newPasswordConfirm: NEW,
  });
  expect(ok.status).toBe(303);
  expect((await logIn(request.agent(t.app), 'twice@example.com', NEW, '10.8.0.1')).status).toBe(303);
});
