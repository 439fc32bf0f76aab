/**
 * The attacks of the hardening review, each replayed against the real app and database: a burst that
 * tried to beat the lock-out, a GET that stopped the process, Login As outliving the admin, registration
 * probing, two sign-in pages doubling the guesses, anonymous views filling the session store.
 */
import request from 'supertest';
import mongoose from 'mongoose';
import { startTestApp, type TestApp } from '../helpers/app';
import { csrfFrom, GOOD_PASSWORD, postForm, registerGuest, solvedPow } from '../helpers/forms';
import { ADMIN_PASSWORD, adminAgent, makeAdmin, makeStaff } from '../helpers/admin';
import { ProfileModel, UserModel } from '../../src/data/models';
import * as passwords from '../../src/signin/passwords';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp('hardening', {
    env: {
      TRUST_PROXY: '1',
      LOGIN_MAX_FAILS_PER_USER_IP: '5',
      LOGIN_MAX_FAILS_PER_IP: '1000',
      REGISTRATION_MAX_FAILS_PER_IP: '4',
    },
  });
  await makeAdmin();
});
afterAll(() => t.stop());

const sessions = () => mongoose.connection.db!.collection('sessions').countDocuments();
const alert = (res: request.Response) => /role="alert">([^<]+)</.exec(res.text)?.[1];

describe('sign-in throttling', () => {
  it('a burst of 60 concurrent wrong passwords verifies at most the allowed 5, and the right password after it is refused', async () => {
    await registerGuest(t.app, { email: 'burst@example.com' });
    const agent = request.agent(t.app);
    const token = csrfFrom((await agent.get('/s/portal/login')).text);
    // A bot that does the proof of work sign-in asks for after failures: each attempt carries its own,
    // solved beforehand so the 60 still arrive together.
    const proofs = await Promise.all(Array.from({ length: 61 }, () => solvedPow(agent)));
    const attempt = (password: string) =>
      agent
        .post('/s/portal/login')
        .type('form')
        .set('X-Forwarded-For', '203.0.113.60')
        .send({ _csrf: token, username: 'burst@example.com', password, altcha: proofs.pop()! });
    const answers = await Promise.all(Array.from({ length: 60 }, (_, i) => attempt(`wrong-password-${i}`)));
    const statuses = answers.map((r) => r.status);
    // Only the attempts counted within the limit reached the password check (401); the rest never did.
    expect(statuses.filter((s) => s === 401)).toHaveLength(5);
    expect(statuses.filter((s) => s === 429)).toHaveLength(55);
    const right = await attempt(GOOD_PASSWORD);
    expect(right.status).toBe(429);
    expect(Number(right.headers['retry-after'])).toBeGreaterThan(0);
    expect(alert(right)).toMatch(
      /^Too many failed sign-in attempts\. Try again in \d+ minutes?, or reset your password\.$/,
    );
    expect(right.headers.location).toBeUndefined();
  });

  it('the site and the admin area share one counter, so an internal user gets no extra guesses', async () => {
    await makeStaff('shared-counter@example.com', ['manageInternalUsers']);
    const ip = '203.0.113.61';
    for (let i = 0; i < 3; i++) {
      expect(
        (
          await postForm(
            request.agent(t.app),
            '/s/portal/login',
            '/s/portal/login',
            { username: 'shared-counter@example.com', password: `nope-${i}-nope` },
            ip,
          )
        ).status,
      ).toBe(401);
    }
    for (let i = 0; i < 2; i++) {
      expect(
        (
          await postForm(
            request.agent(t.app),
            '/admin/login',
            '/admin/login',
            { username: 'shared-counter@example.com', password: `nope-${i}-nope` },
            ip,
          )
        ).status,
      ).toBe(401);
    }
    const sixth = await postForm(
      request.agent(t.app),
      '/admin/login',
      '/admin/login',
      { username: 'shared-counter@example.com', password: ADMIN_PASSWORD },
      ip,
    );
    expect(sixth.status).toBe(429);
    // Another IP is not affected, and a success there is not counted.
    expect(
      (
        await postForm(
          request.agent(t.app),
          '/admin/login',
          '/admin/login',
          { username: 'shared-counter@example.com', password: ADMIN_PASSWORD },
          '203.0.113.62',
        )
      ).status,
    ).toBe(303);
  });
});

describe('registration throttling', () => {
  const registerFrom =
    (ip: string) =>
    (email: string, fields: Record<string, string> = {}) =>
      postForm(
        request.agent(t.app),
        '/s/portal/register',
        '/s/portal/register',
        { firstName: 'P', lastName: 'Probe', email, password: GOOD_PASSWORD, ...fields },
        ip,
      );

  it('counts only registrations with a taken address (answered like any other, 201): after 4, the fifth and then every registration from that IP 429', async () => {
    await registerGuest(t.app, { email: 'taken@example.com' });
    const register = registerFrom('203.0.113.70');
    // Successes from the same IP (a family, an office) never use the allowance.
    for (let i = 0; i < 6; i++) expect((await register(`household${i}@example.com`)).status).toBe(201);
    const probes = [];
    for (let i = 0; i < 4; i++) probes.push((await register('Taken@example.com')).status);
    expect(probes).toEqual([201, 201, 201, 201]);
    const fifth = await register('taken@example.com');
    expect(fifth.status).toBe(429);
    expect(alert(fifth)).toMatch(/^Too many registration attempts from your network\. Try again in \d+ minutes?\.$/);
    expect(fifth.text).not.toContain('already exists');
    // Once over the limit even a new address waits: nothing is created.
    expect((await register('fresh-after-limit@example.com')).status).toBe(429);
    expect(await UserModel.countDocuments({ username: 'fresh-after-limit@example.com' })).toBe(0);
    // The counters live in the database, shared by every instance.
    expect(
      await mongoose.connection.db!.collection('login_throttle').countDocuments({ key: 'register:ip:203.0.113.70' }),
    ).toBe(1);
  });

  it('lets 24 people register at once from one address', async () => {
    const register = registerFrom('203.0.113.71');
    const answers = await Promise.all(Array.from({ length: 24 }, (_, i) => register(`office${i}@example.com`)));
    expect(answers.map((r) => r.status)).toEqual(Array(24).fill(201));
    expect(await UserModel.countDocuments({ username: /^office\d+@example\.com$/ })).toBe(24);
    expect(
      await mongoose.connection.db!.collection('login_throttle').countDocuments({ key: 'register:ip:203.0.113.71' }),
    ).toBe(0);
  });

  it('does not count typos: ten refused forms (weak password, bad email, differing confirmation) block nobody', async () => {
    const register = registerFrom('203.0.113.72');
    const typos = [
      ...Array.from({ length: 4 }, (_, i) => register(`typo${i}@example`, { password: 'short' })),
      ...Array.from({ length: 3 }, (_, i) => register(`typo${i}.example.com`)),
      ...Array.from({ length: 3 }, (_, i) =>
        register(`typo-confirm${i}@example.com`, { passwordConfirm: `${GOOD_PASSWORD}x` }),
      ),
    ];
    for (const typo of typos) expect((await typo).status).toBe(422);
    const colleague = await register('colleague@example.com');
    expect(colleague.status).toBe(201);
    expect(await UserModel.countDocuments({ username: 'colleague@example.com' })).toBe(1);
  });

  it('counts a burst of taken-address registrations before any password is hashed: 4 answer 201, the other 16 answer 429, argon2 work for the 4 only', async () => {
    await registerGuest(t.app, { email: 'burst-taken@example.com' });
    const hashes = jest.spyOn(passwords, 'hashPassword');
    try {
      const register = registerFrom('203.0.113.73');
      const answers = await Promise.all(Array.from({ length: 20 }, () => register('burst-taken@example.com')));
      const statuses = answers.map((r) => r.status);
      expect(statuses.filter((s) => s === 201)).toHaveLength(4);
      expect(statuses.filter((s) => s === 429)).toHaveLength(16);
      // The answered ones hash (so their time matches a new account's); the refused ones cost nothing.
      expect(hashes).toHaveBeenCalledTimes(4);
      expect(await UserModel.countDocuments({ email: 'burst-taken@example.com' })).toBe(1);
    } finally {
      hashes.mockRestore();
    }
  });
});

describe('anonymous page views', () => {
  it('store no session: 30 cookieless views of the forms leave the sessions collection as it was, and their tokens work', async () => {
    const before = await sessions();
    for (let i = 0; i < 10; i++) {
      for (const path of ['/s/portal/login', '/s/portal/register', '/admin/login']) {
        const res = await request(t.app).get(path);
        expect(res.status).toBe(200);
        expect((res.headers['set-cookie'] as unknown as string[]).some((c) => c.startsWith('portal.sid='))).toBe(false);
      }
    }
    expect(await sessions()).toBe(before);
    // The token of an anonymous view is enough to sign in: the session is created only then.
    await registerGuest(t.app, { email: 'anon-view@example.com' });
    const after = await sessions();
    const agent = request.agent(t.app);
    const page = await agent.get('/s/portal/login');
    expect(
      (
        await agent
          .post('/s/portal/login')
          .type('form')
          .send({ _csrf: csrfFrom(page.text), username: 'anon-view@example.com', password: GOOD_PASSWORD })
      ).status,
    ).toBe(303);
    expect(await sessions()).toBe(after + 1);
  });

  it('refuses a token from before sign-in once signed in', async () => {
    await registerGuest(t.app, { email: 'bound@example.com' });
    const agent = request.agent(t.app);
    const anonymousToken = csrfFrom((await agent.get('/s/portal/login')).text);
    expect(
      (
        await agent
          .post('/s/portal/login')
          .type('form')
          .send({ _csrf: anonymousToken, username: 'bound@example.com', password: GOOD_PASSWORD })
      ).status,
    ).toBe(303);
    const stale = await agent
      .post('/s/portal/account')
      .type('form')
      .send({ _csrf: anonymousToken, firstName: 'Changed', lastName: 'X' });
    expect(stale.status).toBe(403);
    // The account form is shown again with what was typed and a fresh token; nothing is saved.
    expect(stale.text).toContain('Your session expired; check and submit again.');
    expect(stale.text).toContain('value="Changed"');
    expect(csrfFrom(stale.text)).not.toBe(anonymousToken);
    expect((await UserModel.findOne({ username: 'bound@example.com' }).lean())!.firstName).toBe('Ada');
  });
});

describe('session fixation', () => {
  it('a stored session gets a new id at sign-in even after its sign-in was dropped (no fixation through an emptied session)', async () => {
    await registerGuest(t.app, { email: 'fix-a@example.com' });
    await registerGuest(t.app, { email: 'fix-b@example.com' });
    const agent = request.agent(t.app);
    const sid = (res: request.Response) =>
      (res.headers['set-cookie'] as unknown as string[] | undefined)
        ?.find((c) => c.startsWith('portal.sid='))
        ?.split(';')[0];
    const first = await postForm(agent, '/s/portal/login', '/s/portal/login', {
      username: 'fix-a@example.com',
      password: GOOD_PASSWORD,
    });
    const planted = sid(first)!;
    // The sign-in ends elsewhere (password changed): the stored session stays, emptied.
    await UserModel.updateOne({ username: 'fix-a@example.com' }, { $inc: { sessionEpoch: 1 } });
    expect((await agent.get('/s/portal/')).text).not.toContain('Welcome, Ada!');
    const second = await postForm(agent, '/s/portal/login', '/s/portal/login', {
      username: 'fix-b@example.com',
      password: GOOD_PASSWORD,
    });
    expect(second.status).toBe(303);
    expect(sid(second)).toBeDefined();
    expect(sid(second)).not.toBe(planted);
    // The planted id signs nobody in.
    expect((await request(t.app).get('/s/portal/').set('Cookie', planted)).text).not.toContain('Welcome, Ada!');
  });
});

describe('Login As ends with the admin', () => {
  async function impersonate(adminUsername: string) {
    const admin = await adminAgent(t.app, adminUsername);
    const n = Math.random().toString(36).slice(2, 8);
    const { res } = await registerGuest(t.app, { lastName: `Target${n}`, email: `target-${n}@example.com` });
    expect(res.status).toBe(201);
    const user = (await UserModel.findOne({ username: `target-${n}@example.com` }).lean())!;
    expect(
      (
        await postForm(admin, '/admin', `/admin/users/${user._id}/contact`, {
          lastName: 'Target',
          accountName: 'Target Co',
        })
      ).status,
    ).toBe(303);
    expect((await postForm(admin, '/admin', `/admin/users/${user._id}/login-as`, {})).status).toBe(303);
    const home = await admin.get('/s/portal/');
    expect(home.text).toContain('id="login-as-banner"');
    return { admin, user };
  }

  it('ends when the admin signs out', async () => {
    const { admin, user } = await impersonate('admin@example.com');
    const dashboard = await admin.get('/admin');
    expect(
      (
        await admin
          .post('/admin/logout')
          .type('form')
          .send({ _csrf: csrfFrom(dashboard.text) })
      ).status,
    ).toBe(303);
    const home = await admin.get('/s/portal/');
    expect(home.text).not.toContain('id="login-as-banner"');
    expect(home.text).not.toContain(`Welcome, ${user.firstName}`);
    expect((await admin.get('/s/portal/account')).status).toBe(302);
  });

  it('ends when the admin is deactivated, and a profile edit as the user is refused', async () => {
    const staff = await makeStaff('impersonator@example.com', [
      'manageInternalUsers',
      'manageCustomerUsers',
      'loginAs',
    ]);
    const { admin, user } = await impersonate('impersonator@example.com');
    const account = await admin.get('/s/portal/account');
    const token = csrfFrom(account.text);
    await UserModel.updateOne({ _id: staff!._id }, { $set: { isActive: false }, $inc: { sessionEpoch: 1 } });
    const edit = await admin
      .post('/s/portal/account')
      .type('form')
      .send({ _csrf: token, firstName: 'Hijacked', lastName: 'X' });
    expect(edit.status).not.toBe(303);
    expect((await UserModel.findById(user._id).lean())!.firstName).toBe(user.firstName);
    expect((await admin.get('/s/portal/')).text).not.toContain('id="login-as-banner"');
  });

  it('ends when the admin loses the Login As permission', async () => {
    const staff = await makeStaff('loses-login-as@example.com', [
      'manageInternalUsers',
      'manageCustomerUsers',
      'loginAs',
      'viewAuditTrail',
    ]);
    const { admin } = await impersonate('loses-login-as@example.com');
    await ProfileModel.updateOne({ _id: staff!.profile }, { $set: { 'permissions.loginAs': false } });
    const home = await admin.get('/s/portal/');
    expect(home.text).not.toContain('id="login-as-banner"');
    // The admin's own sign-in is untouched.
    expect((await admin.get('/admin')).status).toBe(200);
  });
});

describe('requests that used to stop the process or answer 500', () => {
  it('an invalid date in the audit export is a 400 that says how to write it, and the portal keeps serving', async () => {
    const admin = await adminAgent(t.app);
    const res = await admin.get('/admin/audit.csv?to=2024-13-01');
    expect(res.status).toBe(400);
    expect(res.text).toContain('write the &#34;to&#34; date as YYYY-MM-DD');
    expect((await admin.get('/admin/audit.csv?from=2024-02-30')).status).toBe(400);
    expect((await admin.get('/admin/audit?from=garbage')).status).toBe(400);
    const ok = await admin.get('/admin/audit.csv?from=2024-02-29&to=2030-01-01');
    expect(ok.status).toBe(200);
    expect(ok.text.split('\n')[0]).toBe('time,action,actor,onBehalfOf,target,targetId,before,after,ip,via');
  });

  it('serves a favicon instead of a 404 on every page', async () => {
    const ico = await request(t.app).get('/favicon.ico');
    expect(ico.status).toBe(200);
    expect(ico.headers['content-type']).toMatch(/image\/(x-icon|vnd\.microsoft\.icon)/);
    expect((await request(t.app).get('/s/portal/login')).text).toContain('<link rel="icon" href="/favicon.svg"');
  });
});
