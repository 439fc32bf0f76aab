/**
 * Second-factor codes are counted per ACCOUNT, in the database, before they are checked: guessing from
 * many addresses, or signing in again with the password between guesses, gains nothing; after
 * LOGIN_MAX_FAILS_PER_USER_IP wrong codes even the right one is refused (429) until the lock ends.
 * The session id is renewed at the password step as well as after the code.
 */
import request from 'supertest';
import { startTestApp, type TestApp } from '../../helpers/app';
import { makeAdmin } from '../../helpers/admin';
import { GOOD_PASSWORD, csrfFrom, logIn, postForm, registerGuest } from '../../helpers/forms';
import { recoveryCodesIn, savedThem, secretIn, totp } from '../../helpers/totp';
import { UserModel } from '../../../src/data/models';
import { SESSION_COOKIE } from '../../../src/http/session';

const LIMIT = 5;
let t: TestApp;
beforeAll(async () => {
  t = await startTestApp('lifecycle-two-factor-attempts', {
    env: { TRUST_PROXY: '1', LOGIN_MAX_FAILS_PER_USER_IP: String(LIMIT) },
  });
  await makeAdmin();
});
afterAll(() => t.stop());

let ipN = 0;
const ip = () => `10.8.${Math.floor(++ipN / 250)}.${ipN % 250}`;
const welcomed = async (agent: request.Agent) => (await agent.get('/s/portal/')).text.includes('Welcome, ');

/** Registers `email` and turns two-factor on through the pages; returns the secret. */
async function enrolled(email: string): Promise<string> {
  const { agent } = await registerGuest(t.app, { email });
  const setup = await postForm(agent, '/s/portal/account/two-factor', '/s/portal/account/two-factor/setup', {});
  const secret = secretIn(setup.text);
  const shown = await postForm(agent, '/s/portal/account/two-factor', '/s/portal/account/two-factor/enable', {
    code: totp(secret),
  });
  expect((await savedThem(agent, '/s/portal/account/two-factor', recoveryCodesIn(shown.text))).status).toBe(303);
  return secret;
}

async function passwordStep(email: string, at: string) {
  const agent = request.agent(t.app);
  expect((await logIn(agent, email, GOOD_PASSWORD, at)).headers.location).toBe('/s/portal/login/code');
  return agent;
}
const codeStep = (agent: request.Agent, code: string, at: string) =>
  postForm(agent, '/s/portal/login', '/s/portal/login/code', { code }, at);
/** A wrong code that is still well-formed (never the current one). */
const wrongCode = (secret: string) =>
  [totp(secret), totp(secret, 1), totp(secret, -1)].includes('000000') ? '111111' : '000000';

it('20 addresses x 5 wrong codes: only the limit is checked, then the right code is refused too', async () => {
  const secret = await enrolled('spread@example.com');
  const answers: number[] = [];
  for (let a = 0; a < 20; a++) {
    const at = ip();
    const agent = await passwordStep('spread@example.com', at);
    for (let i = 0; i < 5; i++) answers.push((await codeStep(agent, wrongCode(secret), at)).status);
  }
  expect(answers.filter((s) => s === 401)).toHaveLength(LIMIT);
  expect(answers.filter((s) => s === 429)).toHaveLength(100 - LIMIT);
  const at = ip();
  const agent = await passwordStep('spread@example.com', at);
  const right = await codeStep(agent, totp(secret, 1), at);
  expect(right.status).toBe(429);
  expect(Number(right.headers['retry-after'])).toBeGreaterThan(0);
  expect(right.text).toContain('Too many wrong codes for this account.');
  expect(await welcomed(agent)).toBe(false);
});

it('a correct password gives no codes back: 90 wrong codes interleaved with sign-ins, then the right one, does not sign in', async () => {
  const secret = await enrolled('interleave@example.com');
  const at = ip();
  let checked = 0;
  for (let round = 0; round < 30; round++) {
    const agent = await passwordStep('interleave@example.com', at); // the password again resets nothing
    for (let i = 0; i < 3; i++) if ((await codeStep(agent, wrongCode(secret), at)).status === 401) checked++;
  }
  expect(checked).toBe(LIMIT);
  const agent = await passwordStep('interleave@example.com', at);
  expect((await codeStep(agent, totp(secret, 1), at)).status).toBe(429);
  expect(await welcomed(agent)).toBe(false);
});

it('counts before checking: a burst of wrong codes checks at most the limit', async () => {
  const secret = await enrolled('burst@example.com');
  const at = ip();
  const agent = await passwordStep('burst@example.com', at);
  const token = csrfFrom((await agent.get('/s/portal/login/code')).text);
  const res = await Promise.all(
    Array.from({ length: 15 }, () =>
      agent
        .post('/s/portal/login/code')
        .set('X-Forwarded-For', at)
        .type('form')
        .send({ _csrf: token, code: wrongCode(secret) }),
    ),
  );
  expect(res.filter((r) => r.status === 401)).toHaveLength(LIMIT);
  expect(res.filter((r) => r.status === 429)).toHaveLength(15 - LIMIT);
});

it('a correct code signs in and resets the count', async () => {
  const secret = await enrolled('reset-codes@example.com');
  const at = ip();
  let agent = await passwordStep('reset-codes@example.com', at);
  for (let i = 0; i < LIMIT - 1; i++) expect((await codeStep(agent, wrongCode(secret), at)).status).toBe(401);
  expect((await codeStep(agent, totp(secret, 1), at)).status).toBe(303);
  expect(await welcomed(agent)).toBe(true);
  agent = await passwordStep('reset-codes@example.com', ip());
  for (let i = 0; i < LIMIT - 1; i++) expect((await codeStep(agent, wrongCode(secret), at)).status).toBe(401);
});

it('renews the session id at the password step, and again after the code', async () => {
  const secret = await enrolled('fixation@example.com');
  // A browser with a stored session (someone else signed in on it, or a planted id).
  const { agent } = await registerGuest(t.app, { email: 'planted@example.com' });
  const sid = () =>
    new RegExp(`${SESSION_COOKIE.replace('.', '\\.')}=([^;]+)`).exec(
      agent.jar
        .getCookie(SESSION_COOKIE, { domain: '127.0.0.1', path: '/', secure: false, script: false } as never)
        ?.toString() ?? '',
    )?.[1];
  const planted = sid();
  expect(planted).toBeTruthy();
  const at = ip();
  const pw = await logIn(agent, 'fixation@example.com', GOOD_PASSWORD, at);
  expect(pw.headers.location).toBe('/s/portal/login/code');
  const afterPassword = sid();
  expect(afterPassword).toBeTruthy();
  expect(afterPassword).not.toBe(planted);
  expect((await codeStep(agent, totp(secret, 1), at)).status).toBe(303);
  const afterCode = sid();
  expect(afterCode).not.toBe(afterPassword);
  expect((await UserModel.findOne({ username: 'fixation@example.com' }).lean())!.mfaEnabled).toBe(true);
});
