/**
 * With NODE_ENV=production the session cookie is Secure, and the CSRF cookie is a __Host- cookie: behind
 * a TLS-terminating proxy (TRUST_PROXY) the browser gets them over https; over plain http no session
 * cookie is ever sent, so a session id never travels in clear text.
 */
import request from 'supertest';
import { startTestApp, type TestApp } from '../helpers/app';
import { csrfFrom, GOOD_PASSWORD, solvedPow } from '../helpers/forms';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp('production-cookies', { env: { NODE_ENV: 'production', TRUST_PROXY: '1' } });
});
afterAll(() => t.stop());

const cookies = (res: request.Response) => (res.headers['set-cookie'] as unknown as string[] | undefined) ?? [];

async function signInOver(proto: 'https' | 'http', email = `prod-${proto}@example.com`) {
  const page = await request(t.app).get('/s/portal/login').set('X-Forwarded-Proto', proto);
  const csrfCookie = cookies(page).find((c) => c.startsWith('__Host-portal.csrf='))!;
  const register = await request(t.app)
    .post('/s/portal/register')
    .set('X-Forwarded-Proto', proto)
    .set('Cookie', csrfCookie.split(';')[0])
    .type('form')
    .send({
      _csrf: csrfFrom(page.text),
      firstName: 'Pro',
      lastName: 'Duction',
      email,
      password: GOOD_PASSWORD,
      altcha: await solvedPow(t.app),
    });
  // Registration signs nobody in (its answer is the same for a new and a taken address): the person logs in.
  expect(register.status).toBe(201);
  const login = await request(t.app)
    .post('/s/portal/login')
    .set('X-Forwarded-Proto', proto)
    .set('Cookie', csrfCookie.split(';')[0])
    .type('form')
    .send({ _csrf: csrfFrom(page.text), username: email, password: GOOD_PASSWORD });
  return { page, signedIn: login, csrfCookie };
}

it('sends the session cookie only over https, as a __Host- cookie marked Secure, HttpOnly and SameSite=Lax', async () => {
  const { signedIn, csrfCookie } = await signInOver('https');
  expect(signedIn.status).toBe(303);
  expect(cookies(signedIn).some((c) => c.startsWith('portal.sid='))).toBe(false);
  const session = cookies(signedIn).find((c) => c.startsWith('__Host-portal.sid='));
  // __Host-: the browser accepts it only when Secure, with Path=/ and no Domain (no subdomain can plant one).
  expect(session).toMatch(/; Path=\/(;|$)/);
  expect(session).not.toMatch(/Domain=/i);
  expect(session).toMatch(/; Secure/);
  expect(session).toMatch(/; HttpOnly/);
  expect(session).toMatch(/; SameSite=Lax/);
  expect(csrfCookie).toMatch(/^__Host-portal\.csrf=[^;]+; Path=\/; HttpOnly; Secure; SameSite=Strict$/);
});

it('sends no session cookie over plain http', async () => {
  const { signedIn } = await signInOver('http');
  expect(signedIn.status).toBe(303);
  expect(cookies(signedIn).some((c) => /^(__Host-)?portal\.sid=/.test(c))).toBe(false);
});

it('turns on HSTS in production', async () => {
  const res = await request(t.app).get('/s/portal/login').set('X-Forwarded-Proto', 'https');
  expect(res.headers['strict-transport-security']).toMatch(/max-age=\d+/);
});

it('keeps a signed-in user signed in through the __Host- session cookie, and clears it as Secure on sign-out', async () => {
  const { signedIn, csrfCookie } = await signInOver('https', 'prod-kept@example.com');
  const sid = cookies(signedIn)
    .find((c) => c.startsWith('__Host-portal.sid='))!
    .split(';')[0];
  const jar = `${sid}; ${csrfCookie.split(';')[0]}`;
  const account = await request(t.app).get('/s/portal/account').set('X-Forwarded-Proto', 'https').set('Cookie', jar);
  expect(account.status).toBe(200);
  expect(account.text).toContain('prod-kept@example.com');
  const freshCsrf = cookies(account).find((c) => c.startsWith('__Host-portal.csrf='));
  const outJar = freshCsrf ? `${sid}; ${freshCsrf.split(';')[0]}` : jar;
  const out = await request(t.app)
    .post('/s/portal/logout')
    .set('X-Forwarded-Proto', 'https')
    .set('Cookie', outJar)
    .type('form')
    .send({ _csrf: csrfFrom(account.text) });
  expect(out.status).toBe(303);
  const cleared = cookies(out).find((c) => c.startsWith('__Host-portal.sid='));
  expect(cleared).toMatch(/Expires=Thu, 01 Jan 1970/);
  expect(cleared).toMatch(/; Secure/);
  const after = await request(t.app).get('/s/portal/account').set('X-Forwarded-Proto', 'https').set('Cookie', jar);
  expect(after.status).toBe(302);
});
