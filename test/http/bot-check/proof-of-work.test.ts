/**
 * Proof of work (src/bot-check) over HTTP: registration always asks for it, sign-in only after failures;
 * a solution passes once; missing, forged and expired ones are refused with words saying what to do; the
 * no-script ticket is the slower path. The clock is injected and moved, never waited for.
 */
import request from 'supertest';
import { startTestApp, type TestApp } from '../../helpers/app';
import { csrfFrom, GOOD_PASSWORD, logIn, registerGuest, solvedPow } from '../../helpers/forms';
import { SpentChallengeModel, UserModel } from '../../../src/data/models';
import { POW_MESSAGES } from '../../../src/bot-check';

let t: TestApp;
let clock = Date.parse('2026-03-01T10:00:00Z');
beforeAll(async () => {
  t = await startTestApp('proof-of-work', {
    now: () => new Date(clock),
    env: {
      TRUST_PROXY: '1',
      POW_EXPIRE_MINUTES: '10',
      POW_NOSCRIPT_WAIT_SECONDS: '20',
      POW_SIGNIN_AFTER_FAILS: '2',
      POW_RECOVERY_AFTER: '2',
    },
  });
});
afterAll(() => t.stop());

const guest = { firstName: 'Ada', lastName: 'Lovelace', password: GOOD_PASSWORD };

async function registerWith(agent: request.Agent, email: string, proof: Record<string, string>) {
  const page = await agent.get('/s/portal/register');
  return agent
    .post('/s/portal/register')
    .type('form')
    .send({ _csrf: csrfFrom(page.text), ...guest, email, ...proof });
}

const noscriptTicket = (html: string) => /<input type="hidden" name="powWait" value="([^"]+)">/.exec(html)?.[1] ?? '';

describe('registration', () => {
  it('shows the widget (served from the portal, strict-CSP build) and a no-script ticket, and hands out signed challenges that are never cached', async () => {
    const page = await request(t.app).get('/s/portal/register');
    expect(page.text).toMatch(
      /<altcha-widget name="altcha" challengeurl="\/pow\/challenge" workerurl="\/vendor\/altcha\/worker.js"/,
    );
    expect(page.text).toContain('<script type="module" src="/vendor/altcha/altcha.js"></script>');
    expect(page.text).toContain('seconds after opening the page');
    expect(noscriptTicket(page.text)).toMatch(/^n\.\d+\./);
    for (const [file, type] of [
      ['altcha.js', /javascript/],
      ['worker.js', /javascript/],
      ['altcha.css', /text\/css/],
    ] as const) {
      const res = await request(t.app).get(`/vendor/altcha/${file}`);
      expect(res.status).toBe(200);
      expect(res.headers['content-type']).toMatch(type);
    }
    // Only the widget's three files: the package's other files are not served.
    expect((await request(t.app).get('/vendor/altcha/altcha.umd.cjs')).status).toBe(404);
    const challenge = await request(t.app).get('/pow/challenge');
    expect(challenge.headers['cache-control']).toBe('no-store');
    expect(challenge.body).toMatchObject({
      algorithm: 'SHA-256',
      maxnumber: 2000,
      challenge: expect.stringMatching(/^[0-9a-f]{64}$/),
      signature: expect.stringMatching(/^[0-9a-f]{64}$/),
    });
    expect(challenge.body.salt).toContain(`expires=${Math.floor((clock + 10 * 60_000) / 1000)}`);
  });

  it('refuses a registration without a solution, saying what to do, and creates nobody', async () => {
    const res = await registerWith(request.agent(t.app), 'nosolution@example.com', {});
    expect(res.status).toBe(422);
    expect(res.text).toContain(POW_MESSAGES.missing);
    expect(res.text).toContain('id="f-altcha-error"');
    // The form comes back with what was typed.
    expect(res.text).toContain('value="nosolution@example.com"');
    expect(await UserModel.countDocuments({ email: 'nosolution@example.com' })).toBe(0);
  });

  it('refuses a forged solution (a wrong number, a made-up payload)', async () => {
    const agent = request.agent(t.app);
    const good = JSON.parse(Buffer.from(await solvedPow(agent), 'base64').toString()) as { number: number };
    const wrong = Buffer.from(JSON.stringify({ ...good, number: good.number + 1 })).toString('base64');
    for (const altcha of [wrong, 'not-base64-json', Buffer.from('{"algorithm":"SHA-256"}').toString('base64')]) {
      const res = await registerWith(agent, 'forged@example.com', { altcha });
      expect(res.status).toBe(422);
      expect(res.text).toContain(POW_MESSAGES.invalid);
    }
    expect(await UserModel.countDocuments({ email: 'forged@example.com' })).toBe(0);
  });

  it('refuses a solution whose challenge expired', async () => {
    const agent = request.agent(t.app);
    const altcha = await solvedPow(agent);
    clock += 10 * 60_000 + 1000;
    const res = await registerWith(agent, 'late@example.com', { altcha });
    expect(res.status).toBe(422);
    expect(res.text).toContain(POW_MESSAGES.expired);
    expect(await UserModel.countDocuments({ email: 'late@example.com' })).toBe(0);
  });

  it('accepts a solution once: replayed (here for another address) it is refused, and the used challenge is kept until it expires', async () => {
    const agent = request.agent(t.app);
    const altcha = await solvedPow(agent);
    const first = await registerWith(agent, 'once@example.com', { altcha });
    expect(first.status).toBe(201);
    expect(await UserModel.countDocuments({ email: 'once@example.com' })).toBe(1);
    const replay = await registerWith(request.agent(t.app), 'twice@example.com', { altcha });
    expect(replay.status).toBe(422);
    expect(replay.text).toContain(POW_MESSAGES.replayed);
    expect(await UserModel.countDocuments({ email: 'twice@example.com' })).toBe(0);
    const { challenge } = JSON.parse(Buffer.from(altcha, 'base64').toString()) as { challenge: string };
    const spent = await SpentChallengeModel.findById(challenge).lean();
    expect(spent!.expiresAt.getTime()).toBe(Math.floor((clock + 10 * 60_000) / 1000) * 1000);
  });

  it('works without JavaScript: the no-script ticket passes once the wait is over, and only once', async () => {
    const agent = request.agent(t.app);
    const page = await agent.get('/s/portal/register');
    const powWait = noscriptTicket(page.text);
    const early = await agent
      .post('/s/portal/register')
      .type('form')
      .send({ _csrf: csrfFrom(page.text), ...guest, email: 'nojs@example.com', powWait });
    expect(early.status).toBe(422);
    expect(early.text).toContain(POW_MESSAGES.tooEarly(20));
    expect(await UserModel.countDocuments({ email: 'nojs@example.com' })).toBe(0);
    clock += 20_000;
    const later = await agent
      .post('/s/portal/register')
      .type('form')
      .send({ _csrf: csrfFrom(early.text), ...guest, email: 'nojs@example.com', powWait });
    expect(later.status).toBe(201);
    expect(await UserModel.countDocuments({ email: 'nojs@example.com' })).toBe(1);
    const again = await agent
      .post('/s/portal/register')
      .type('form')
      .send({ _csrf: csrfFrom(early.text), ...guest, email: 'nojs2@example.com', powWait });
    expect(again.status).toBe(422);
    expect(again.text).toContain(POW_MESSAGES.replayed);
    // A ticket with its time changed no longer matches its signature.
    const forged = powWait.replace(/^n\.(\d+)\./, (_m, ms: string) => `n.${Number(ms) - 60_000}.`);
    const tampered = await agent
      .post('/s/portal/register')
      .type('form')
      .send({ _csrf: csrfFrom(early.text), ...guest, email: 'nojs3@example.com', powWait: forged });
    expect(tampered.text).toContain(POW_MESSAGES.invalid);
  });
});

describe('sign-in', () => {
  it('asks for a proof only after failures, refuses an attempt without one before any password is checked, and signs in with one', async () => {
    await registerGuest(t.app, { email: 'grace@example.com' });
    const ip = '198.51.100.7';
    const agent = request.agent(t.app);
    const loginPage = () => agent.get('/s/portal/login').set('X-Forwarded-For', ip);
    expect((await loginPage()).text).not.toContain('<altcha-widget');
    // Two failures (POW_SIGNIN_AFTER_FAILS) with no proof asked.
    const post = async (fields: Record<string, string>) => {
      const page = await loginPage();
      return agent
        .post('/s/portal/login')
        .set('X-Forwarded-For', ip)
        .type('form')
        .send({ _csrf: csrfFrom(page.text), username: 'grace@example.com', ...fields });
    };
    const first = await post({ password: 'wrong-password-1' });
    expect(first.status).toBe(401);
    expect(first.text).not.toContain('<altcha-widget');
    const second = await post({ password: 'wrong-password-2' });
    expect(second.status).toBe(401);
    // The refusal that reached the limit already shows the widget, and so does the page from then on.
    expect(second.text).toContain('<altcha-widget');
    expect((await loginPage()).text).toContain('<altcha-widget');
    // Without a proof: refused before the attempt is counted, even with the right password.
    const counter = async () =>
      (await t.db.connection.collection('login_throttle').findOne({ key: `login:user-ip:grace@example.com|${ip}` }))
        ?.points;
    expect(await counter()).toBe(2);
    const bare = await post({ password: GOOD_PASSWORD });
    expect(bare.status).toBe(422);
    expect(await counter()).toBe(2);
    expect(bare.text).toContain(POW_MESSAGES.missing);
    expect(bare.headers.location).toBeUndefined();
    // Another address, no failures there: no proof asked.
    expect((await request(t.app).get('/s/portal/login').set('X-Forwarded-For', '203.0.113.9')).text).not.toContain(
      '<altcha-widget',
    );
    const ok = await post({ password: GOOD_PASSWORD, altcha: await solvedPow(agent) });
    expect(ok.status).toBe(303);
    expect((await agent.get('/s/portal/')).text).toContain('Welcome, Ada!');
  });

  it('the helpers solve what a form asks for: logIn passes after failures', async () => {
    await registerGuest(t.app, { email: 'katherine@example.com' });
    const agent = request.agent(t.app);
    for (let i = 0; i < 3; i++) await logIn(agent, 'katherine@example.com', 'wrong-password-x', '192.0.2.44');
    const res = await logIn(agent, 'katherine@example.com', GOOD_PASSWORD, '192.0.2.44');
    expect(res.status).toBe(303);
  });
});

describe('sign-in lock-out', () => {
  it('a locked-out name gets the lock-out (429, when to try again), not a request for more work', async () => {
    await registerGuest(t.app, { email: 'locked@example.com' });
    const ip = '198.51.100.66';
    const agent = request.agent(t.app);
    // LOGIN_MAX_FAILS_PER_USER_IP (5) failures, each with the proof the page asks for after the second.
    for (let i = 0; i < 5; i++)
      expect((await logIn(agent, 'locked@example.com', `wrong-password-${i}`, ip)).status).toBe(401);
    const page = await agent.get('/s/portal/login').set('X-Forwarded-For', ip);
    const res = await agent
      .post('/s/portal/login')
      .set('X-Forwarded-For', ip)
      .type('form')
      .send({ _csrf: csrfFrom(page.text), username: 'locked@example.com', password: GOOD_PASSWORD });
    expect(res.status).toBe(429);
    expect(res.text).toContain('Too many failed sign-in attempts.');
    expect(res.text).not.toContain(POW_MESSAGES.missing);
  });
});

describe('password recovery', () => {
  it('asks for a proof once requests from an IP pile up (POW_RECOVERY_AFTER), before the request is counted', async () => {
    const ip = '198.51.100.90';
    const agent = request.agent(t.app);
    const forgot = async (fields: Record<string, string>) => {
      const page = await agent.get('/s/portal/forgot').set('X-Forwarded-For', ip);
      return {
        page,
        res: await agent
          .post('/s/portal/forgot')
          .set('X-Forwarded-For', ip)
          .type('form')
          .send({ _csrf: csrfFrom(page.text), ...fields }),
      };
    };
    const first = await forgot({ email: 'someone@example.com' });
    expect(first.page.text).not.toContain('<altcha-widget');
    expect(first.res.text).toContain('id="reset-sent"');
    const second = await forgot({ email: 'other@example.com' });
    expect(second.res.text).toContain('id="reset-sent"');
    // Two requests from this IP: the page now asks for the work, and a request without it is refused.
    const counted = async () =>
      (await t.db.connection.collection('request_throttle').findOne({ key: `recovery:ip:${ip}` }))?.points;
    expect(await counted()).toBe(2);
    const bare = await forgot({ email: 'third@example.com' });
    expect(bare.page.text).toContain('<altcha-widget');
    expect(bare.res.status).toBe(422);
    expect(bare.res.text).toContain(POW_MESSAGES.missing);
    expect(bare.res.text).not.toContain('id="reset-sent"');
    expect(await counted()).toBe(2);
    const proved = await forgot({ email: 'third@example.com', altcha: await solvedPow(agent) });
    expect(proved.res.status).toBe(200);
    expect(proved.res.text).toContain('id="reset-sent"');
    expect(await counted()).toBe(3);
  });
});
