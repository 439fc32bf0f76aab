/**
 * Password recovery over HTTP: "Forgot your password?" answers alike for known and unknown addresses,
 * mails only real, active accounts, and the link sets a password once (policy, sessions ended, audit,
 * signed in), refusing reused, expired, forged, truncated and hostile input with a clear page.
 */
import request from 'supertest';
import argon2 from 'argon2';
import { startTestApp, type TestApp } from '../../helpers/app';
import { csrfFrom, GOOD_PASSWORD, logIn, postForm, registerGuest } from '../../helpers/forms';
import { adminAgent, makeAdmin } from '../../helpers/admin';
import { linkIn, mailTo, tokenOf } from '../../helpers/mail';
import { ActionTokenModel, AuditEventModel, MailMessageModel, UserModel } from '../../../src/data/models';
import { settleDetached } from '../../../src/shared/detached';
import { sendPasswordResetLinks, sendResetLink } from '../../../src/account/recovery';

const NEW_PASSWORD = 'orchard-pelican-sextant-42';
let t: TestApp;
beforeAll(async () => {
  t = await startTestApp('lifecycle-recovery', {
    env: { TRUST_PROXY: '1', RECOVERY_MAX_PER_ADDRESS: '3', RECOVERY_MAX_PER_IP: '8' },
  });
  await registerGuest(t.app, { email: 'ada@example.com' });
  await makeAdmin();
});
afterAll(() => t.stop());

let ipCounter = 0;
const freshIp = () => `10.0.${Math.floor(++ipCounter / 250)}.${ipCounter % 250}`;

async function askReset(email: unknown, ip = freshIp(), path = '/s/portal/forgot') {
  const agent = request.agent(t.app);
  const res = await postForm(agent, path, path, { email: email as string }, ip);
  await settleDetached();
  return res;
}

const withoutCsrf = (html: string) => html.replace(/name="_csrf" value="[^"]+"/g, '');

describe('asking for a link', () => {
  it('offers "Forgot your password?" on the site and admin log in pages', async () => {
    expect((await request(t.app).get('/s/portal/login')).text).toContain(
      '<a href="/s/portal/forgot" id="forgot-link">Forgot your password?</a>',
    );
    expect((await request(t.app).get('/admin/login')).text).toContain(
      '<a href="/admin/forgot" id="forgot-link">Forgot your password?</a>',
    );
  });

  it('answers the same status and words for a known and an unknown address, and mails only the known one', async () => {
    await MailMessageModel.deleteMany({});
    const known = await askReset('ADA@example.com');
    const unknown = await askReset('nobody@example.com');
    expect(known.status).toBe(200);
    expect(unknown.status).toBe(200);
    expect(withoutCsrf(known.text)).toBe(withoutCsrf(unknown.text));
    expect(known.text).toContain('If an account uses this address, we have sent it a link');
    expect(await mailTo('nobody@example.com')).toHaveLength(0);
    const mails = await mailTo('ada@example.com');
    expect(mails).toHaveLength(1);
    expect(mails[0].subject).toBe('Reset your password');
    expect(mails[0].text).toMatch(/http:\/\/localhost:3000\/s\/portal\/reset\?token=[A-Za-z0-9_-]{43}\n/);
    expect(mails[0].html).toContain('Choose a new password');
    // Only the hash is stored.
    const token = tokenOf(await linkIn('ada@example.com', /Reset/));
    expect(await ActionTokenModel.countDocuments({ hash: token })).toBe(0);
    expect(await ActionTokenModel.countDocuments({ purpose: 'reset', usedAt: null })).toBe(1);
  });

  it('refuses a field sent as an array or an object, or too long, with a 422 and no mail', async () => {
    await MailMessageModel.deleteMany({});
    const agent = request.agent(t.app);
    const page = await agent.get('/s/portal/forgot');
    const arr = await agent
      .post('/s/portal/forgot')
      .type('form')
      .send(`_csrf=${encodeURIComponent(csrfFrom(page.text))}&email=ada@example.com&email=x@example.com`);
    expect(arr.status).toBe(422);
    expect(arr.text).toContain('Send this field once, as text.');
    const long = await askReset(`${'a'.repeat(300)}@example.com`);
    expect(long.status).toBe(422);
    expect(long.text).toContain('Use at most 254 characters.');
    const noCsrf = await request(t.app).post('/s/portal/forgot').type('form').send({ email: 'ada@example.com' });
    expect(noCsrf.status).toBe(403);
    await settleDetached();
    expect(await MailMessageModel.countDocuments()).toBe(0);
  });

  it('throttles per address, alike for known and unknown addresses', async () => {
    for (let i = 0; i < 3; i++) expect((await askReset('throttled@example.com')).status).toBe(200);
    const over = await askReset('throttled@example.com');
    expect(over.status).toBe(429);
    expect(over.headers['retry-after']).toMatch(/^\d+$/);
    expect(over.text).toContain('Too many requests for this address or from your network.');
  });

  it('throttles per IP across addresses', async () => {
    const ip = '10.9.9.9';
    for (let i = 0; i < 8; i++) expect((await askReset(`spray${i}@example.com`, ip)).status).toBe(200);
    expect((await askReset('spray-last@example.com', ip)).status).toBe(429);
    expect((await askReset('spray-last@example.com', '10.9.9.10')).status).toBe(200);
  });

  it('sends nothing to a deactivated user, and staff links only from the admin area', async () => {
    await registerGuest(t.app, { email: 'gone@example.com' });
    await UserModel.updateOne({ username: 'gone@example.com' }, { $set: { isActive: false } });
    await MailMessageModel.deleteMany({});
    expect((await askReset('gone@example.com')).status).toBe(200);
    expect((await askReset('ada@example.com', freshIp(), '/admin/forgot')).status).toBe(200);
    expect(await MailMessageModel.countDocuments()).toBe(0);
    expect((await askReset('admin@example.com', freshIp(), '/admin/forgot')).status).toBe(200);
    expect(await linkIn('admin@example.com', /Reset/)).toMatch(/^\/admin\/reset\?token=/);
  });
});

describe('using the link', () => {
  /** A new link straight from the service (the throttle is tested above). */
  async function freshLink(email = 'ada@example.com') {
    expect(await sendPasswordResetLinks(email, { area: 'site', siteSlug: 'portal' })).toBe(1);
    return linkIn(email, /Reset/);
  }

  it('an expired form token shows the set-password form again, naming the account, and sets nothing; a dead link gets the error page', async () => {
    const link = await freshLink();
    const before = (await UserModel.findOne({ username: 'ada@example.com' }).select('+passwordHash').lean())!
      .passwordHash;
    const res = await request(t.app)
      .post('/s/portal/reset')
      .type('form')
      .send({
        _csrf: 'old',
        token: tokenOf(link),
        password: 'a-brand-new-long-phrase-42',
        passwordConfirm: 'a-brand-new-long-phrase-42',
      });
    expect(res.status).toBe(403);
    expect(res.text).toContain('Your session expired; check and submit again.');
    expect(res.text).toContain('Account: <strong>ada@example.com</strong>');
    expect(res.text).not.toContain('a-brand-new-long-phrase-42');
    expect(
      (await UserModel.findOne({ username: 'ada@example.com' }).select('+passwordHash').lean())!.passwordHash,
    ).toBe(before);
    const dead = await request(t.app)
      .post('/s/portal/reset')
      .type('form')
      .send({ _csrf: 'old', token: 'not-a-real-token', password: 'x' });
    expect(dead.status).toBeGreaterThanOrEqual(400);
    expect(dead.text).not.toContain('Account: <strong>');
  });

  it('keeps the link usable after a refused password, then sets it: sessions end, audited, verified, signed in', async () => {
    const other = request.agent(t.app);
    expect((await logIn(other, 'ada@example.com', GOOD_PASSWORD)).status).toBe(303);
    const link = await freshLink();
    const agent = request.agent(t.app);
    const form = await agent.get(link);
    expect(form.status).toBe(200);
    expect(form.text).toContain('Account: <strong>ada@example.com</strong>');

    const weak = await postForm(agent, link, '/s/portal/reset', {
      token: tokenOf(link),
      password: 'password',
      passwordConfirm: 'password',
    });
    expect(weak.status).toBe(422);
    expect(weak.text).toContain('Use at least 12 characters.');
    const differ = await postForm(agent, link, '/s/portal/reset', {
      token: tokenOf(link),
      password: NEW_PASSWORD,
      passwordConfirm: 'something-else-entirely',
    });
    expect(differ.status).toBe(422);
    expect(differ.text).toContain('The two passwords differ.');
    const before = await UserModel.findOne({ username: 'ada@example.com' }).select('+passwordHash').lean();
    expect(await argon2.verify(before!.passwordHash!, GOOD_PASSWORD)).toBe(true);

    const ok = await postForm(agent, link, '/s/portal/reset', {
      token: tokenOf(link),
      password: NEW_PASSWORD,
      passwordConfirm: NEW_PASSWORD,
    });
    expect(ok.status).toBe(303);
    expect(ok.headers.location).toBe('/s/portal/');
    expect((await agent.get('/s/portal/')).text).toContain('Welcome, Ada!');
    expect((await other.get('/s/portal/')).text).not.toContain('Welcome, Ada!');
    const after = await UserModel.findOne({ username: 'ada@example.com' }).select('+passwordHash').lean();
    expect(await argon2.verify(after!.passwordHash!, NEW_PASSWORD)).toBe(true);
    expect(after!.sessionEpoch).toBe(before!.sessionEpoch + 1);
    expect(after!.emailVerifiedAt).toBeInstanceOf(Date);
    expect(
      await AuditEventModel.countDocuments({ action: 'user.password_reset_by_link', 'target.id': after!._id }),
    ).toBe(1);

    const reused = await request(t.app).get(link);
    expect(reused.status).toBe(410);
    expect(reused.text).toContain(
      'This link has already been used. Ask for a new password reset link from the log in page.',
    );
    const again = await postForm(request.agent(t.app), '/s/portal/forgot', '/s/portal/reset', {
      token: tokenOf(link),
      password: 'another-lovely-long-phrase-9',
      passwordConfirm: 'another-lovely-long-phrase-9',
    });
    expect(again.status).toBe(410);
    expect(
      await argon2.verify(
        (await UserModel.findById(after!._id).select('+passwordHash').lean())!.passwordHash!,
        NEW_PASSWORD,
      ),
    ).toBe(true);
    await UserModel.updateOne({ _id: after!._id }, { $set: { passwordHash: before!.passwordHash } });
  });

  it('refuses expired, forged, truncated and oversized tokens with a clear page', async () => {
    const ada = (await UserModel.findOne({ username: 'ada@example.com' }))!;
    await MailMessageModel.deleteMany({});
    await sendResetLink(ada, { area: 'site', siteSlug: 'portal' }, new Date(Date.now() - 2 * 3_600_000));
    const expired = await linkIn('ada@example.com', /Reset/);
    const res = await request(t.app).get(expired);
    expect(res.status).toBe(410);
    expect(res.text).toContain('This link has expired.');

    const valid = tokenOf(await freshLink());
    const forged = `${valid.slice(0, 42)}${valid[42] === 'A' ? 'B' : 'A'}`;
    for (const [token, status] of [
      [forged, 404],
      [valid.slice(0, 30), 404],
      ['x'.repeat(5000), 404],
      ['', 404],
    ] as const) {
      const page = await request(t.app).get(`/s/portal/reset?token=${token}`);
      expect(page.status).toBe(status);
      expect(page.text).toContain('This link is not valid. Check that you copied all of it.');
    }
    const arrayToken = await request(t.app).get(`/s/portal/reset?token=${valid}&token=${valid}`);
    expect(arrayToken.status).toBe(404);
    // A password sent as an object is a 422, and the link still works.
    const agent = request.agent(t.app);
    const page = await agent.get(`/s/portal/reset?token=${valid}`);
    const obj = await agent
      .post('/s/portal/reset')
      .type('form')
      .send(`_csrf=${encodeURIComponent(csrfFrom(page.text))}&token=${valid}&password[a]=b`);
    expect(obj.status).toBe(422);
    expect((await request(t.app).get(`/s/portal/reset?token=${valid}`)).status).toBe(200);
  });

  it('refuses the link of a user deactivated since, writing nothing', async () => {
    await registerGuest(t.app, { email: 'later-gone@example.com' });
    const link = await freshLink('later-gone@example.com');
    await UserModel.updateOne({ username: 'later-gone@example.com' }, { $set: { isActive: false } });
    const before = await UserModel.findOne({ username: 'later-gone@example.com' }).select('+passwordHash').lean();
    const res = await postForm(request.agent(t.app), '/s/portal/forgot', '/s/portal/reset', {
      token: tokenOf(link),
      password: NEW_PASSWORD,
      passwordConfirm: NEW_PASSWORD,
    });
    expect(res.status).toBe(410);
    expect(res.text).toContain('This link can no longer be used.');
    const after = await UserModel.findOne({ username: 'later-gone@example.com' }).select('+passwordHash').lean();
    expect(after!.passwordHash).toBe(before!.passwordHash);
    expect(after!.sessionEpoch).toBe(before!.sessionEpoch);
  });

  it('lets exactly one of two concurrent requests with one link set the password', async () => {
    await registerGuest(t.app, { email: 'race@example.com' });
    const link = await freshLink('race@example.com');
    const a = request.agent(t.app);
    const b = request.agent(t.app);
    const [pa, pb] = await Promise.all([a.get(link), b.get(link)]);
    const passwords = ['first-racer-wins-harbor-11', 'second-racer-wins-lagoon-22'];
    const answers = await Promise.all([
      a
        .post('/s/portal/reset')
        .type('form')
        .send({
          _csrf: csrfFrom(pa.text),
          token: tokenOf(link),
          password: passwords[0],
          passwordConfirm: passwords[0],
        }),
      b
        .post('/s/portal/reset')
        .type('form')
        .send({
          _csrf: csrfFrom(pb.text),
          token: tokenOf(link),
          password: passwords[1],
          passwordConfirm: passwords[1],
        }),
    ]);
    expect(answers.map((r) => r.status).sort()).toEqual([303, 410]);
    const winner = answers.findIndex((r) => r.status === 303);
    const user = await UserModel.findOne({ username: 'race@example.com' }).select('+passwordHash').lean();
    expect(await argon2.verify(user!.passwordHash!, passwords[winner])).toBe(true);
    expect(
      await AuditEventModel.countDocuments({ action: 'user.password_reset_by_link', 'target.id': user!._id }),
    ).toBe(1);
  });

  it('signs staff in to the admin area from an admin link; a site link is refused there', async () => {
    await sendPasswordResetLinks('admin@example.com', { area: 'admin' });
    const link = await linkIn('admin@example.com', /Reset/);
    const agent = request.agent(t.app);
    const res = await postForm(agent, link, '/admin/reset', {
      token: tokenOf(link),
      password: 'admin-new-phrase-copper-88',
      passwordConfirm: 'admin-new-phrase-copper-88',
    });
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe('/admin');
    expect((await agent.get('/admin')).status).toBe(200);
    const siteLink = await freshLink('ada@example.com');
    expect((await request(t.app).get(siteLink.replace('/s/portal/reset', '/admin/reset'))).status).toBe(404);
    // The old password no longer signs in.
    await expect(adminAgent(t.app)).rejects.toThrow(/answered 401/);
  });
});
