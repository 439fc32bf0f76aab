/**
 * A refused form keeps the typed password when the refusal is about another field, and only then; the
 * page is not cacheable. Field messages are tied to their inputs but not alerts: the summary is the alert.
 */
import request from 'supertest';
import { startTestApp, type TestApp } from '../../helpers/app';
import { GOOD_PASSWORD, postForm, registerGuest } from '../../helpers/forms';
import { UserModel } from '../../../src/data/models';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp('kept-passwords');
});
afterAll(() => t.stop());

const passwordValue = (html: string, id: string) =>
  new RegExp(`id="${id}" name="[a-zA-Z]+" type="password"\\s+value="([^"]*)"`).exec(html)?.[1];

describe('passwords in a refused form', () => {
  it('registration: an invalid email keeps both passwords; one alert (the summary), field messages without role=alert', async () => {
    const { res } = await registerGuest(t.app, { email: 'not-an-email' });
    expect(res.status).toBe(422);
    expect(passwordValue(res.text, 'f-password')).toBe(GOOD_PASSWORD);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.text.match(/role="alert"/g)).toHaveLength(1);
    expect(res.text).toMatch(/id="error-summary" role="alert"/);
    expect(res.text).toMatch(/<p class="field-error" id="f-email-error">Enter a valid email address/);
    expect(await UserModel.countDocuments()).toBe(0);
  });

  it('registration: a weak password is not put back, nor its confirmation', async () => {
    const agent = request.agent(t.app);
    const res = await postForm(agent, '/s/portal/register', '/s/portal/register', {
      firstName: 'A',
      lastName: 'B',
      email: 'ab@example.com',
      password: 'short',
      passwordConfirm: 'short',
    });
    expect(res.status).toBe(422);
    expect(passwordValue(res.text, 'f-password')).toBe('');
    expect(passwordValue(res.text, 'f-passwordConfirm')).toBe('');
    expect(res.text).not.toContain('value="short"');
  });

  it('registration: different passwords keep the first one only', async () => {
    const agent = request.agent(t.app);
    const res = await postForm(agent, '/s/portal/register', '/s/portal/register', {
      firstName: 'A',
      lastName: 'B',
      email: 'ab@example.com',
      password: GOOD_PASSWORD,
      passwordConfirm: 'something-else-entirely-1',
    });
    expect(res.status).toBe(422);
    expect(passwordValue(res.text, 'f-password')).toBe(GOOD_PASSWORD);
    expect(passwordValue(res.text, 'f-passwordConfirm')).toBe('');
  });

  it('account: a weak new password keeps the (correct) current one; a wrong current one keeps the new one', async () => {
    const { agent } = await registerGuest(t.app, { email: 'pw@example.com' });
    const weak = await postForm(agent, '/s/portal/account', '/s/portal/account/password', {
      currentPassword: GOOD_PASSWORD,
      newPassword: 'short',
    });
    expect(weak.status).toBe(422);
    expect(passwordValue(weak.text, 'f-currentPassword')).toBe(GOOD_PASSWORD);
    expect(passwordValue(weak.text, 'f-newPassword')).toBe('');
    const wrong = await postForm(agent, '/s/portal/account', '/s/portal/account/password', {
      currentPassword: 'not-my-password-at-all',
      newPassword: 'a-brand-new-passphrase-42',
    });
    expect(wrong.status).toBe(422);
    expect(passwordValue(wrong.text, 'f-currentPassword')).toBe('');
    expect(passwordValue(wrong.text, 'f-newPassword')).toBe('a-brand-new-passphrase-42');
  });
});
