/** Hostile input and the defences around every form: operators, repeats, prototype keys, sizes, CSRF, headers. */
import request from 'supertest';
import { startTestApp, type TestApp } from '../helpers/app';
import { csrfFrom, GOOD_PASSWORD, registerGuest } from '../helpers/forms';
import { UserModel } from '../../src/data/models';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp('site-hostile');
  await registerGuest(t.app, { email: 'ada@example.com' });
});
afterAll(() => t.stop());

async function formAgent(path = '/s/portal/login') {
  const agent = request.agent(t.app);
  const token = csrfFrom((await agent.get(path)).text);
  return { agent, token };
}

describe('operator injection and malformed fields', () => {
  it('refuses username[$ne]=x in a form without matching anyone', async () => {
    const { agent, token } = await formAgent();
    const res = await agent
      .post('/s/portal/login')
      .type('form')
      .send(`_csrf=${encodeURIComponent(token)}&username[$ne]=x&password[$ne]=x`);
    expect(res.status).toBe(422);
    expect(res.text).not.toContain('Welcome');
  });

  it('refuses {"username": {"$gt": ""}} sent as JSON to login and register', async () => {
    const { agent, token } = await formAgent();
    const login = await agent
      .post('/s/portal/login')
      .send({ _csrf: token, username: { $gt: '' }, password: { $gt: '' } });
    expect(login.status).toBe(422);
    const reg = await agent
      .post('/s/portal/register')
      .send({ _csrf: token, firstName: 'A', lastName: { $gt: '' }, email: { $ne: null }, password: GOOD_PASSWORD });
    expect(reg.status).toBe(422);
    expect(await UserModel.countDocuments()).toBe(1);
  });

  it('refuses repeated parameters', async () => {
    const { agent, token } = await formAgent('/s/portal/register');
    const res = await agent
      .post('/s/portal/register')
      .type('form')
      .send(
        `_csrf=${encodeURIComponent(token)}&firstName=A&lastName=B&email=a@example.com&email=b@example.com&password=${GOOD_PASSWORD}`,
      );
    expect(res.status).toBe(422);
    expect(res.text).toMatch(/Send this field once, as text/);
    expect(await UserModel.countDocuments()).toBe(1);
  });

  it('treats __proto__ and constructor keys as data, never as a match or a 500', async () => {
    const { agent, token } = await formAgent();
    const form = await agent
      .post('/s/portal/login')
      .type('form')
      .send(
        `_csrf=${encodeURIComponent(token)}&__proto__[admin]=1&constructor[prototype][x]=1&username=ada@example.com&password=nope-nope-nope`,
      );
    expect(form.status).toBe(401);
    const json = await agent
      .post('/s/portal/login')
      .set('Content-Type', 'application/json')
      .send(
        `{"_csrf":"${token}","__proto__":{"username":"ada@example.com"},"constructor":{"prototype":{"password":"x"}}}`,
      );
    expect(json.status).toBe(422);
    expect(({} as Record<string, unknown>).admin).toBeUndefined();
  });

  it('answers 400, not 500, to malformed JSON', async () => {
    const { agent } = await formAgent();
    const res = await agent.post('/s/portal/login').set('Content-Type', 'application/json').send('{"username": ');
    // The body is read before the CSRF check, so the parse error is what answers.
    expect(res.status).toBe(400);
    expect(res.text).toContain('The request body is not valid JSON.');
    expect(res.text).not.toMatch(/at .*\.[jt]s:\d+/);
  });

  it('answers 413 to an oversized form body', async () => {
    const { agent, token } = await formAgent('/s/portal/register');
    const res = await agent
      .post('/s/portal/register')
      .type('form')
      .send({ _csrf: token, firstName: 'x'.repeat(100_000) });
    expect(res.status).toBe(413);
  });

  it('refuses a field longer than allowed with a message', async () => {
    const { agent, token } = await formAgent('/s/portal/register');
    const res = await agent
      .post('/s/portal/register')
      .type('form')
      .send({
        _csrf: token,
        firstName: 'x'.repeat(2000),
        lastName: 'B',
        email: 'long@example.com',
        password: GOOD_PASSWORD,
      });
    expect(res.status).toBe(422);
  });

  it('escapes what it echoes back', async () => {
    const { agent, token } = await formAgent('/s/portal/register');
    const res = await agent.post('/s/portal/register').type('form').send({
      _csrf: token,
      firstName: '<script>alert(1)</script>',
      lastName: '',
      email: 'x@example.com',
      password: 'short',
    });
    expect(res.status).toBe(422);
    expect(res.text).not.toContain('<script>alert(1)</script>');
    expect(res.text).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
  });
});

describe('CSRF', () => {
  it('refuses a POST without a token with 403 and changes nothing', async () => {
    const agent = request.agent(t.app);
    await agent.get('/s/portal/register');
    const res = await agent
      .post('/s/portal/register')
      .type('form')
      .send({ firstName: 'A', lastName: 'B', email: 'nocsrf@example.com', password: GOOD_PASSWORD });
    expect(res.status).toBe(403);
    expect(await UserModel.countDocuments({ username: 'nocsrf@example.com' })).toBe(0);
  });

  it('refuses a wrong token, and a token from another session', async () => {
    const { agent } = await formAgent('/s/portal/register');
    const other = await formAgent('/s/portal/register');
    for (const _csrf of ['forged-token', other.token]) {
      const res = await agent
        .post('/s/portal/register')
        .type('form')
        .send({ _csrf, firstName: 'A', lastName: 'B', email: 'forged@example.com', password: GOOD_PASSWORD });
      expect(res.status).toBe(403);
    }
    expect(await UserModel.countDocuments({ username: 'forged@example.com' })).toBe(0);
  });

  it('protects logout too', async () => {
    const { agent } = await registerGuest(t.app, { email: 'csrf-logout@example.com' });
    expect((await agent.post('/s/portal/logout').type('form').send({})).status).toBe(403);
    expect((await agent.get('/s/portal/')).text).toContain('Welcome, ');
  });
});

describe('security headers and service basics', () => {
  it('sends a strict CSP without inline scripts, nosniff, frame protection and no X-Powered-By', async () => {
    const res = await request(t.app).get('/s/portal/login');
    const csp = res.headers['content-security-policy'];
    expect(csp).toMatch(/script-src 'self'/);
    expect(csp).not.toMatch(/unsafe-inline/);
    expect(csp).toMatch(/frame-ancestors 'none'/);
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['x-frame-options']).toBe('SAMEORIGIN');
    expect(res.headers['x-powered-by']).toBeUndefined();
    expect(res.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    expect(res.text).not.toMatch(/<script>|<script [^>]*>[^<]/);
  });

  it('answers /healthz and /readyz', async () => {
    expect((await request(t.app).get('/healthz')).status).toBe(200);
    expect((await request(t.app).get('/readyz')).body).toEqual({ status: 'ready' });
  });

  it('answers an unknown page with a 404 page and no stack trace', async () => {
    const res = await request(t.app).get('/no/such/page');
    expect(res.status).toBe(404);
    expect(res.text).toMatch(/There is nothing at this address/);
    expect(res.text).not.toMatch(/node_modules|at .*\(/);
  });
});
