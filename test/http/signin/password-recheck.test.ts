/**
 * The current password asked again behind a session (changing the password, changing the email,
 * turning two-factor off) is throttled per account, counted before the hash is verified: after
 * LOGIN_MAX_FAILS_PER_USER_IP wrong passwords every further try, from any session or address, is 429
 * with Retry-After and a clear message, the right password included, and nothing is written.
 */
import request from 'supertest';
import { startTestApp, type TestApp } from '../../helpers/app';
import { GOOD_PASSWORD, csrfFrom, logIn, postForm, registerGuest } from '../../helpers/forms';
import { adminAgent, makeAdmin, ADMIN_PASSWORD } from '../../helpers/admin';
import { AuditEventModel, UserModel } from '../../../src/data/models';
import { mailTo } from '../../helpers/mail';

const LIMIT = 5;
const NEW_PASSWORD = 'juniper-cobalt-anchor-73';
let t: TestApp;
beforeAll(async () => {
  t = await startTestApp('site-password-recheck', {
    env: { TRUST_PROXY: '1', LOGIN_MAX_FAILS_PER_USER_IP: String(LIMIT) },
  });
  await makeAdmin();
});
afterAll(() => t.stop());

/** Posts `fields` `times` times at once from one page's CSRF token (a burst). */
async function burst(
  agent: request.Agent,
  page: string,
  action: string,
  fields: Record<string, string>,
  times: number,
) {
  const token = csrfFrom((await agent.get(page)).text);
  return Promise.all(
    Array.from({ length: times }, () =>
      agent
        .post(action)
        .type('form')
        .send({ _csrf: token, ...fields }),
    ),
  );
}

const statuses = (res: request.Response[]) => res.map((r) => r.status).sort();

it('changing the password: a burst of 25 wrong passwords verifies only the limit; then even the right one is 429, from any session', async () => {
  const { agent } = await registerGuest(t.app, { email: 'pw-recheck@example.com' });
  const hashBefore = (await UserModel.findOne({ username: 'pw-recheck@example.com' }).select('+passwordHash').lean())!
    .passwordHash;
  const res = await burst(
    agent,
    '/s/portal/account',
    '/s/portal/account/password',
    { currentPassword: 'not-the-password', newPassword: NEW_PASSWORD },
    25,
  );
  expect(statuses(res)).toEqual([...Array(LIMIT).fill(422), ...Array(25 - LIMIT).fill(429)]);
  const refused = res.find((r) => r.status === 429)!;
  expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
  expect(refused.text).toMatch(/Too many wrong passwords\. Try again in \d+ minutes?; your password was not checked\./);

  // Another session of the same account, from another address: still refused, the right password too.
  const other = request.agent(t.app);
  expect((await logIn(other, 'pw-recheck@example.com', GOOD_PASSWORD, '10.77.0.2')).status).toBe(303);
  const right = await postForm(
    other,
    '/s/portal/account',
    '/s/portal/account/password',
    { currentPassword: GOOD_PASSWORD, newPassword: NEW_PASSWORD },
    '10.77.0.3',
  );
  expect(right.status).toBe(429);
  const after = (await UserModel.findOne({ username: 'pw-recheck@example.com' }).select('+passwordHash').lean())!;
  expect(after.passwordHash).toBe(hashBefore);
  expect(
    await AuditEventModel.countDocuments({ action: 'user.password_changed', 'target.label': 'pw-recheck@example.com' }),
  ).toBe(0);
});

it('changing the email: throttled the same way, and no mail leaves', async () => {
  const { agent } = await registerGuest(t.app, { email: 'email-recheck@example.com' });
  const res = await burst(
    agent,
    '/s/portal/account',
    '/s/portal/account/email',
    { newEmail: 'elsewhere@example.com', password: 'not-the-password' },
    8,
  );
  expect(statuses(res)).toEqual([...Array(LIMIT).fill(422), ...Array(8 - LIMIT).fill(429)]);
  const right = await postForm(agent, '/s/portal/account', '/s/portal/account/email', {
    newEmail: 'elsewhere@example.com',
    password: GOOD_PASSWORD,
  });
  expect(right.status).toBe(429);
  expect(right.headers['retry-after']).toBeDefined();
  expect(await mailTo('elsewhere@example.com')).toHaveLength(0);
});

it('turning two-factor off (site and admin): throttled per account', async () => {
  const { agent } = await registerGuest(t.app, { email: 'mfa-recheck@example.com' });
  await UserModel.updateOne(
    { username: 'mfa-recheck@example.com' },
    {
      $set: {
        mfaEnabled: true,
        mfa: { secret: 'JBSWY3DPEHPK3PXP', pendingSecret: null, enabledAt: new Date(), lastStep: 0, recoveryCodes: [] },
      },
    },
  );
  const res = await burst(
    agent,
    '/s/portal/account/two-factor',
    '/s/portal/account/two-factor/disable',
    { password: 'not-the-password' },
    8,
  );
  expect(statuses(res)).toEqual([...Array(LIMIT).fill(422), ...Array(8 - LIMIT).fill(429)]);
  expect(
    (
      await postForm(agent, '/s/portal/account/two-factor', '/s/portal/account/two-factor/disable', {
        password: GOOD_PASSWORD,
      })
    ).status,
  ).toBe(429);
  expect((await UserModel.findOne({ username: 'mfa-recheck@example.com' }).lean())!.mfaEnabled).toBe(true);

  const admin = await adminAgent(t.app);
  const adminRes = await burst(
    admin,
    '/admin/two-factor',
    '/admin/two-factor/disable',
    { password: 'not-the-password' },
    7,
  );
  expect(statuses(adminRes)).toEqual([...Array(LIMIT).fill(422), ...Array(7 - LIMIT).fill(429)]);
  expect(
    (await postForm(admin, '/admin/two-factor', '/admin/two-factor/disable', { password: ADMIN_PASSWORD })).status,
  ).toBe(429);
});

it('a correct password resets the count', async () => {
  const { agent } = await registerGuest(t.app, { email: 'reset-count@example.com' });
  const passwords = [GOOD_PASSWORD, 'first-orchard-violin-24', 'second-glacier-tulip-57', 'third-saffron-kettle-86'];
  for (let round = 0; round < 3; round++) {
    const wrong = await burst(
      agent,
      '/s/portal/account',
      '/s/portal/account/password',
      { currentPassword: 'not-the-password', newPassword: NEW_PASSWORD },
      LIMIT - 1,
    );
    expect(statuses(wrong)).toEqual(Array(LIMIT - 1).fill(422));
    const right = await postForm(agent, '/s/portal/account', '/s/portal/account/password', {
      currentPassword: passwords[round],
      newPassword: passwords[round + 1],
    });
    expect(right.status).toBe(303);
  }
});
