/** ADMIN_MFA_REQUIRED: staff set up two-factor before the admin area opens, then sign in with a code. */
import request from 'supertest';
import { startTestApp, type TestApp } from '../../helpers/app';
import { ADMIN_PASSWORD, makeAdmin } from '../../helpers/admin';
import { postForm } from '../../helpers/forms';
import { recoveryCodesIn, savedThem, secretIn, totp } from '../../helpers/totp';
import { loadConfig } from '../../../src/config';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp('lifecycle-admin-mfa', { env: { ADMIN_MFA_REQUIRED: 'true' } });
  await makeAdmin();
});
afterAll(() => t.stop());

it('is on by default in production only', () => {
  const base = { SESSION_SECRET: 'x'.repeat(40), DATA_DIR: '/tmp/portal-test-data' };
  expect(loadConfig({ ...base, NODE_ENV: 'production' }).adminMfaRequired).toBe(true);
  expect(loadConfig({ ...base, NODE_ENV: 'development' }).adminMfaRequired).toBe(false);
  expect(loadConfig({ ...base, NODE_ENV: 'production', ADMIN_MFA_REQUIRED: 'false' }).adminMfaRequired).toBe(false);
  expect(() => loadConfig({ ...base, ADMIN_MFA_REQUIRED: 'maybe' })).toThrow(/ADMIN_MFA_REQUIRED/);
});

it('sends staff without two-factor to set it up before any admin page, then asks for a code at sign-in', async () => {
  const agent = request.agent(t.app);
  const login = await postForm(agent, '/admin/login', '/admin/login', {
    username: 'admin@example.com',
    password: ADMIN_PASSWORD,
  });
  expect(login.status).toBe(303);
  const dash = await agent.get('/admin');
  expect(dash.status).toBe(303);
  expect(dash.headers.location).toBe('/admin/two-factor');
  expect((await agent.get('/admin/users')).headers.location).toBe('/admin/two-factor');
  const page = await agent.get('/admin/two-factor');
  expect(page.status).toBe(200);
  expect(page.text).toContain('This account must use two-factor sign-in.');
  // Actions are refused too, not only pages.
  expect((await postForm(agent, '/admin/two-factor', '/admin/api-tokens', { name: 'x' })).status).toBe(403);

  const setup = await postForm(agent, '/admin/two-factor', '/admin/two-factor/setup', {});
  const secret = secretIn(setup.text);
  const done = await postForm(agent, '/admin/two-factor', '/admin/two-factor/enable', { code: totp(secret) });
  expect(recoveryCodesIn(done.text)).toHaveLength(10);
  expect((await agent.get('/admin')).status).toBe(303); // not on until "I saved them"
  expect((await savedThem(agent, '/admin/two-factor', recoveryCodesIn(done.text))).status).toBe(303);
  expect((await agent.get('/admin')).status).toBe(200);

  const next = request.agent(t.app);
  const again = await postForm(next, '/admin/login', '/admin/login', {
    username: 'admin@example.com',
    password: ADMIN_PASSWORD,
  });
  expect(again.headers.location).toBe('/admin/login/code');
  expect((await next.get('/admin')).status).toBe(302); // not signed in yet
  const code = await postForm(next, '/admin/login', '/admin/login/code', { code: totp(secret, 1) });
  expect(code.status).toBe(303);
  expect(code.headers.location).toBe('/admin');
  expect((await next.get('/admin')).status).toBe(200);
});
