import request from 'supertest';
import { startTestApp, type TestApp } from '../../helpers/app';
import { csrfFrom, GOOD_PASSWORD, logIn, postForm, registerGuest } from '../../helpers/forms';
import { LoginEventModel, UserModel } from '../../../src/data/models';
import argon2 from 'argon2';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp('site-login', {
    env: { LOGIN_MAX_FAILS_PER_USER_IP: '3', LOGIN_MAX_FAILS_PER_IP: '8', TRUST_PROXY: '1' },
  });
  await registerGuest(t.app, { email: 'ada@example.com' });
});
afterAll(() => t.stop());

const cookieOf = (res: request.Response) =>
  (res.headers['set-cookie'] as unknown as string[] | undefined)?.find((c) => c.startsWith('portal.sid='));

describe('log in and log out', () => {
  it('shows a login form with Email or username, Password and a Log in button', async () => {
    const res = await request(t.app).get('/s/portal/login');
    expect(res.text).toContain('<label for="f-username">Email or username</label>');
    expect(res.text).toContain('<label for="f-password">Password</label>');
    expect(res.text).toMatch(/<button type="submit">Log in<\/button>/);
  });

  it('signs in with a fresh session id, records the login, and signs out with a POST', async () => {
    const agent = request.agent(t.app);
    const page = await agent.get('/s/portal/login');
    // Viewing the form stores no session (the CSRF token lives in its own signed cookie).
    expect(cookieOf(page)).toBeUndefined();
    const res = await agent
      .post('/s/portal/login')
      .type('form')
      .send({ _csrf: csrfFrom(page.text), username: ' ADA@example.com ', password: GOOD_PASSWORD });
    expect(res.status).toBe(303);
    const after = cookieOf(res);
    expect(after).toBeDefined();
    // Signing in again from a signed-in session gets yet another id: the id is regenerated at every sign-in.
    const signedInPage = await agent.get('/s/portal/login');
    const again = await agent
      .post('/s/portal/login')
      .type('form')
      .send({ _csrf: csrfFrom(signedInPage.text), username: 'ada@example.com', password: GOOD_PASSWORD });
    expect(again.status).toBe(303);
    expect(cookieOf(again)!.split(';')[0]).not.toBe(after!.split(';')[0]);
    expect(after).toMatch(/HttpOnly/);
    expect(after).toMatch(/SameSite=Lax/);
    const user = await UserModel.findOne({ username: 'ada@example.com' }).lean();
    expect(user!.lastLoginAt).toBeInstanceOf(Date);
    expect(await LoginEventModel.countDocuments({ user: user!._id, area: 'site' })).toBeGreaterThan(0);

    const home = await agent.get('/s/portal/');
    expect(home.text).toContain('Welcome, Ada!');
    expect(home.text).toMatch(/<button type="submit" class="secondary">Log out<\/button>/);
    const out = await agent
      .post('/s/portal/logout')
      .type('form')
      .send({ _csrf: csrfFrom(home.text) });
    expect(out.status).toBe(303);
    expect(cookieOf(out)).toMatch(/Expires=Thu, 01 Jan 1970/);
    // The old cookie no longer signs anyone in.
    const replay = await request(t.app).get('/s/portal/').set('Cookie', cookieOf(again)!.split(';')[0]);
    expect(replay.text).not.toContain('Welcome, Ada');
    const first = await request(t.app).get('/s/portal/').set('Cookie', after!.split(';')[0]);
    expect(first.text).not.toContain('Welcome, Ada');
  });

  it('gives the same 401 page for an unknown user, a wrong password and an inactive user', async () => {
    await registerGuest(t.app, { email: 'inactive@example.com' });
    await UserModel.updateOne({ username: 'inactive@example.com' }, { $set: { isActive: false } });
    const answers = [];
    for (const [username, password] of [
      ['nobody@example.com', GOOD_PASSWORD],
      ['ada@example.com', 'wrong-password-123'],
      ['inactive@example.com', GOOD_PASSWORD],
    ]) {
      const res = await logIn(request.agent(t.app), username, password);
      answers.push([res.status, /role="alert">([^<]+)</.exec(res.text)?.[1]]);
    }
    expect(answers).toEqual([
      [401, 'The username or password is incorrect.'],
      [401, 'The username or password is incorrect.'],
      [401, 'The username or password is incorrect.'],
    ]);
  });

  it('writes one failed-login record for an unknown username as for a known one (same work; the attempted username is kept)', async () => {
    const known = (await UserModel.findOne({ username: 'ada@example.com' }).lean())!;
    const before = await LoginEventModel.countDocuments({ outcome: 'failure' });
    expect((await logIn(request.agent(t.app), 'ada@example.com', 'not-the-password-1', '198.51.100.20')).status).toBe(
      401,
    );
    expect(
      (await logIn(request.agent(t.app), ' Ghost@Example.com ', 'not-the-password-1', '198.51.100.20')).status,
    ).toBe(401);
    expect(await LoginEventModel.countDocuments({ outcome: 'failure' })).toBe(before + 2);
    const events = await LoginEventModel.find({ ip: '198.51.100.20' }).sort({ at: 1 }).lean();
    expect(events.map((e) => [e.username, e.user ? String(e.user) : null, e.area, e.outcome])).toEqual([
      ['ada@example.com', String(known._id), 'site', 'failure'],
      ['ghost@example.com', null, 'site', 'failure'],
    ]);
  });

  it('goes to a same-site returnTo after login, never elsewhere', async () => {
    for (const [returnTo, expected] of [
      ['/s/portal/account', '/s/portal/account'],
      ['//evil.example/x', '/s/portal/'],
      ['https://evil.example', '/s/portal/'],
      ['/\\evil.example', '/s/portal/'],
    ]) {
      const agent = request.agent(t.app);
      const res = await postForm(agent, '/s/portal/login', '/s/portal/login', {
        username: 'ada@example.com',
        password: GOOD_PASSWORD,
        returnTo,
      });
      expect([returnTo, res.headers.location]).toEqual([returnTo, expected]);
    }
  });

  it('sends a guest who opens the account page to the login page and back', async () => {
    const res = await request(t.app).get('/s/portal/account');
    expect(res.status).toBe(302);
    expect(res.headers.location).toBe('/s/portal/login?returnTo=%2Fs%2Fportal%2Faccount');
  });

  it('upgrades a hash made with weaker parameters at the next successful login', async () => {
    await registerGuest(t.app, { email: 'legacy@example.com' });
    const weak = await argon2.hash(GOOD_PASSWORD, {
      type: argon2.argon2id,
      memoryCost: 4096,
      timeCost: 1,
      parallelism: 1,
    });
    await UserModel.updateOne({ username: 'legacy@example.com' }, { $set: { passwordHash: weak } });
    const res = await logIn(request.agent(t.app), 'legacy@example.com', GOOD_PASSWORD);
    expect(res.status).toBe(303);
    const stored = (await UserModel.findOne({ username: 'legacy@example.com' }).select('+passwordHash').lean())!
      .passwordHash!;
    expect(stored).not.toBe(weak);
    expect(stored).toMatch(/m=19456/);
    expect(await argon2.verify(stored, GOOD_PASSWORD)).toBe(true);
  });
});

describe('throttling of failed logins', () => {
  it('locks a username+IP after consecutive failures with 429 and Retry-After, even for the right password', async () => {
    await registerGuest(t.app, { email: 'victim@example.com' });
    for (let i = 0; i < 3; i++)
      expect(
        (await logIn(request.agent(t.app), 'victim@example.com', `wrong-${i}-password`, '198.51.100.1')).status,
      ).toBe(401);
    const locked = await logIn(request.agent(t.app), 'victim@example.com', GOOD_PASSWORD, '198.51.100.1');
    expect(locked.status).toBe(429);
    expect(Number(locked.headers['retry-after'])).toBeGreaterThan(0);
    expect(locked.text).toMatch(/Too many failed sign-in attempts/);
    // Another IP is not locked out of the same account.
    expect((await logIn(request.agent(t.app), 'victim@example.com', GOOD_PASSWORD, '198.51.100.2')).status).toBe(303);
  });

  it('resets the username+IP counter on success', async () => {
    await registerGuest(t.app, { email: 'forgetful@example.com' });
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < 2; i++)
        expect(
          (await logIn(request.agent(t.app), 'forgetful@example.com', 'not-it-at-all', '198.51.100.3')).status,
        ).toBe(401);
      expect((await logIn(request.agent(t.app), 'forgetful@example.com', GOOD_PASSWORD, '198.51.100.3')).status).toBe(
        303,
      );
    }
  });

  it('gives successful sign-ins back to the per-IP counter: more successes than the IP limit, the stored counter back at 0, the consecutive one expired', async () => {
    await registerGuest(t.app, { email: 'regular@example.com' });
    for (let i = 0; i < 10; i++)
      expect((await logIn(request.agent(t.app), 'regular@example.com', GOOD_PASSWORD, '198.51.100.4')).status).toBe(
        303,
      );
    const counters = t.db.connection.db!.collection('login_throttle');
    expect(await counters.findOne({ key: 'login:ip:198.51.100.4' })).toMatchObject({ points: 0 });
    // The consecutive-failure counter is expired: rate-limiter-flexible counts it as absent, the TTL index removes it.
    const consecutive = await counters.findOne({ key: 'login:user-ip:regular@example.com|198.51.100.4' });
    expect(consecutive === null || consecutive.expire <= new Date()).toBe(true);
  });

  it('locks an IP that sprays many usernames', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 10; i++)
      statuses.push(
        (await logIn(request.agent(t.app), `spray${i}@example.com`, 'whatever-password', '203.0.113.9')).status,
      );
    expect(statuses.slice(0, 8)).toEqual(Array(8).fill(401));
    expect(statuses.slice(8)).toEqual([429, 429]);
  });
});
