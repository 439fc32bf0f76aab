import request from 'supertest';
import { startTestApp, type TestApp } from '../../helpers/app';
import { csrfFrom, GOOD_PASSWORD, postForm, registerGuest, solvedPow } from '../../helpers/forms';
import { mailTo } from '../../helpers/mail';
import { AuditEventModel, LicenseModel, ProfileModel, SiteModel, UserModel } from '../../../src/data/models';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp('site-registration');
});
afterAll(() => t.stop());
beforeEach(async () => {
  await UserModel.deleteMany({});
  await SiteModel.updateOne({ slug: 'portal' }, { $set: { selfRegistrationEnabled: true } });
});

describe('self-registration', () => {
  it('shows a form with labelled fields and a Register button', async () => {
    const res = await request(t.app).get('/s/portal/register');
    expect(res.status).toBe(200);
    for (const [id, label] of [
      ['f-firstName', 'First name'],
      ['f-lastName', 'Last name'],
      ['f-email', 'Email'],
      ['f-password', 'Password'],
    ]) {
      expect(res.text).toContain(`<label for="${id}">${label}</label>`);
    }
    expect(res.text).toMatch(/<button type="submit">Register<\/button>/);
  });

  it('creates a contactless user with the site profile and answers 201 "check your mail" without signing in; the guest then logs in', async () => {
    const { agent, res } = await registerGuest(t.app, {
      email: '  Ada.Lovelace@Example.COM ',
      timeZone: 'Europe/Paris',
    });
    expect(res.status).toBe(201);
    expect(res.text).toContain('We sent a message to <strong>ada.lovelace@example.com</strong>.');
    expect(
      ((res.headers['set-cookie'] as unknown as string[] | undefined) ?? []).some((c) => c.startsWith('portal.sid=')),
    ).toBe(false);
    // registerGuest logged in afterwards, as the person would.
    const home = await agent.get('/s/portal/');
    expect(home.text).toContain('Welcome, Ada!');
    const user = await UserModel.findOne({ username: 'ada.lovelace@example.com' }).lean();
    const profile = await ProfileModel.findById(user!.profile).lean();
    const license = await LicenseModel.findById(user!.license).lean();
    expect(user).toMatchObject({
      contact: null,
      email: 'ada.lovelace@example.com',
      timeZoneSidKey: 'Europe/Paris',
      emailEncodingKey: 'UTF-8',
      isActive: true,
      userType: 'customer',
    });
    expect(profile!.name).toBe('External Identity User');
    expect(license!.requiresContact).toBe(false);
    expect(user!.alias.length).toBeLessThanOrEqual(8);
    expect(user!.alias).toBe('alovelac');
    expect(user!.communityNickname).toBe('Ada.Lovelace');
    expect(await AuditEventModel.countDocuments({ action: 'user.registered', 'target.id': user!._id })).toBe(1);
  });

  it('takes locale and language from Accept-Language and falls back to GMT for an unknown time zone', async () => {
    const agent = request.agent(t.app);
    const page = await agent.get('/s/portal/register');
    await agent
      .post('/s/portal/register')
      .set('Accept-Language', 'fr-CA,fr;q=0.9,en;q=0.5')
      .type('form')
      .send({
        _csrf: csrfFrom(page.text),
        firstName: 'Zoë',
        lastName: 'Côté',
        email: 'zoe@example.com',
        password: GOOD_PASSWORD,
        timeZone: 'Mars/Olympus',
        altcha: await solvedPow(agent),
      });
    const user = await UserModel.findOne({ username: 'zoe@example.com' }).lean();
    expect(user).toMatchObject({
      localeSidKey: 'fr_CA',
      languageLocaleKey: 'fr_CA',
      timeZoneSidKey: 'GMT',
      firstName: 'Zoë',
    });
  });

  it('derives a unique nickname when the email local part is taken', async () => {
    await registerGuest(t.app, { email: 'sam@one.example' });
    await registerGuest(t.app, { email: 'SAM@two.example' });
    const nicks = (await UserModel.find().lean()).map((u) => u.communityNickname.toLowerCase());
    expect(new Set(nicks).size).toBe(2);
  });

  it('re-renders with 422 and field messages, keeping what was typed except the password', async () => {
    const { res } = await registerGuest(t.app, {
      firstName: 'Ada',
      lastName: '',
      email: 'not-an-email',
      password: 'short',
    });
    expect(res.status).toBe(422);
    expect(res.text).toMatch(/id="f-lastName-error">/);
    expect(res.text).toMatch(/id="f-email-error">Enter a valid email address/);
    expect(res.text).toMatch(/id="f-password-error">Use at least 12 characters/);
    expect(res.text).toContain('value="not-an-email"');
    expect(res.text).not.toContain('value="short"');
    expect(await UserModel.countDocuments()).toBe(0);
  });

  it("refuses common passwords and passwords built from the guest's own name or email", async () => {
    const common = await registerGuest(t.app, { password: 'password12345' });
    expect(common.res.status).toBe(422);
    expect(common.res.text).toMatch(/too common or easy to guess/);
    const own = await registerGuest(t.app, {
      firstName: 'Grace',
      lastName: 'Hopper',
      email: 'grace.hopper@example.com',
      password: 'gracehopper1906',
    });
    expect(own.res.status).toBe(422);
    expect(own.res.text).toMatch(/built from your name or email/);
    expect(await UserModel.countDocuments()).toBe(0);
  });

  it('refuses a confirmation that differs from the password', async () => {
    const agent = request.agent(t.app);
    const res = await postForm(agent, '/s/portal/register', '/s/portal/register', {
      firstName: 'A',
      lastName: 'B',
      email: 'ab@example.com',
      password: GOOD_PASSWORD,
      passwordConfirm: 'something-else-entirely',
    });
    expect(res.status).toBe(422);
    expect(res.text).toMatch(/The two passwords differ/);
  });

  it('answers a taken address (whatever its case) with the same 201 page, creates nothing and mails its owner instead', async () => {
    const first = await registerGuest(t.app, { email: 'dup@example.com' });
    const { res } = await registerGuest(t.app, {
      email: 'DUP@example.com',
      firstName: 'Mallory',
      password: 'another-long-passphrase-77',
    });
    expect(res.status).toBe(201);
    // Word for word the page a new account gets, but for the address itself.
    expect(res.text.replace(/name="_csrf" value="[^"]+"/g, '')).toBe(
      first.res.text.replace(/name="_csrf" value="[^"]+"/g, ''),
    );
    expect(await UserModel.countDocuments()).toBe(1);
    expect((await UserModel.findOne({ username: 'dup@example.com' }).lean())!.firstName).toBe('Ada');
    const mails = await mailTo('dup@example.com');
    expect(mails.map((m) => m.template).sort()).toEqual(['registration-attempt', 'verify-email']);
    const attempt = mails.find((m) => m.template === 'registration-attempt')!;
    expect(attempt.subject).toBe('Someone tried to register with your address');
    expect(attempt.text).toContain('/s/portal/login');
    expect(attempt.text).toContain('/s/portal/forgot');
  });

  it('creates exactly one user when the same email registers twice at once', async () => {
    const seatsBefore = (await LicenseModel.findOne({ name: 'External Identity' }).lean())!.usedSeats;
    const agents = [request.agent(t.app), request.agent(t.app), request.agent(t.app)];
    const tokens = await Promise.all(agents.map(async (a) => csrfFrom((await a.get('/s/portal/register')).text)));
    const proofs = await Promise.all(agents.map((a) => solvedPow(a)));
    const results = await Promise.all(
      agents.map((a, i) =>
        a.post('/s/portal/register').type('form').send({
          _csrf: tokens[i],
          firstName: 'Race',
          lastName: 'Condition',
          email: 'race@example.com',
          password: GOOD_PASSWORD,
          altcha: proofs[i],
        }),
      ),
    );
    expect(results.map((r) => r.status)).toEqual([201, 201, 201]);
    expect(await UserModel.countDocuments({ username: 'race@example.com' })).toBe(1);
    // The refused registrations gave their seats back.
    expect((await LicenseModel.findOne({ name: 'External Identity' }).lean())!.usedSeats).toBe(seatsBefore + 1);
  });

  it('ignores undeclared fields: profile, user type, contact, permissions, active flag', async () => {
    const admin = await ProfileModel.findOne({ name: 'System Administrator' }).lean();
    const { res } = await registerGuest(t.app, {
      email: 'sneaky@example.com',
      ...({
        profile: String(admin!._id),
        profileId: String(admin!._id),
        userType: 'internal',
        contact: '507f1f77bcf86cd799439011',
        isActive: 'false',
        permissions: 'manageInternalUsers',
        passwordHash: 'x',
      } as Record<string, string>),
    });
    expect(res.status).toBe(201);
    const user = await UserModel.findOne({ username: 'sneaky@example.com' }).select('+passwordHash').lean();
    expect(user!.profile.equals(admin!._id)).toBe(false);
    expect(user).toMatchObject({ userType: 'customer', contact: null, isActive: true });
    expect(user!.passwordHash).toMatch(/^\$argon2id\$v=19\$/);
    expect(user!.passwordHash).toMatch(/m=19456/);
    expect(user!.passwordHash).toMatch(/t=2/);
  });

  it('answers 404 with a plain message when the site does not allow self-registration, creating nothing', async () => {
    const agent = request.agent(t.app);
    const page = await agent.get('/s/portal/login');
    await SiteModel.updateOne({ slug: 'portal' }, { $set: { selfRegistrationEnabled: false } });
    const get = await agent.get('/s/portal/register');
    expect(get.status).toBe(404);
    expect(get.text).toMatch(/Self-registration is not available on this site/);
    const post = await agent
      .post('/s/portal/register')
      .type('form')
      .send({
        _csrf: csrfFrom(page.text),
        firstName: 'A',
        lastName: 'B',
        email: 'closed@example.com',
        password: GOOD_PASSWORD,
      });
    expect(post.status).toBe(404);
    expect(await UserModel.countDocuments()).toBe(0);
  });

  it('answers 404 for an unknown site', async () => {
    expect((await request(t.app).get('/s/nowhere/register')).status).toBe(404);
    expect((await request(t.app).get('/s/%2e%2e/register')).status).toBe(404);
  });

  it('redirects /, /register and /login to the default site', async () => {
    expect((await request(t.app).get('/')).headers.location).toBe('/s/portal/');
    expect((await request(t.app).get('/register')).headers.location).toBe('/s/portal/register');
    expect((await request(t.app).get('/login')).headers.location).toBe('/s/portal/login');
  });
});

describe('the registration form lists every problem at once, in page order (issue 26 item 3)', () => {
  it('reports all five fields together, in page order, once each, and nothing about a username that is not on the page', async () => {
    const { res } = await registerGuest(t.app, {
      firstName: '',
      lastName: '',
      email: '',
      password: 'short',
      ...({ passwordConfirm: 'different' } as Record<string, string>),
    });
    expect(res.status).toBe(422);
    const linked = [...res.text.matchAll(/<li><a href="#f-(\w+)">/g)].map((m) => m[1]);
    expect(linked).toEqual(['firstName', 'lastName', 'email', 'password', 'passwordConfirm']);
    expect(res.text).toContain('5 problems');
    expect(res.text).not.toContain('Enter a username.');
    expect(res.text).not.toContain('f-username');
    expect(await UserModel.countDocuments()).toBe(0);
  });

  it('a malformed address is one problem on the email field, not two', async () => {
    const { res } = await registerGuest(t.app, { email: 'not-an-address' });
    expect(res.status).toBe(422);
    const linked = [...res.text.matchAll(/<li><a href="#f-(\w+)">/g)].map((m) => m[1]);
    expect(linked).toEqual(['email']);
    expect(res.text).not.toContain('A username looks like');
  });
});
