/**
 * "Keep me signed in" (issue 26 item 8): ticked, the session and its cookie last KEEP_SIGNED_IN_DAYS from
 * each request (its own idle and absolute limit); not ticked, the idle and absolute limits hold as before.
 * After a second factor too. Read from the stored session and the cookie, not from a status code.
 */
import request from 'supertest';
import mongoose from 'mongoose';
import { startTestApp, type TestApp } from '../../helpers/app';
import { GOOD_PASSWORD, postForm, registerGuest } from '../../helpers/forms';
import { enrolThroughPages, totp } from '../../helpers/totp';
import { loadSessionUsers } from '../../../src/signin/session-middleware';
import { UserModel } from '../../../src/data/models';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp('site-keep-signed-in', { env: { KEEP_SIGNED_IN_DAYS: '14', SESSION_IDLE_MINUTES: '30' } });
});
afterAll(() => t.stop());

const DAY = 86_400_000;
/** Seconds the session cookie set by `res` lives (express-session writes Expires), rounded. */
const maxAgeOf = (res: request.Response) => {
  const expires = /Expires=([^;]+)/.exec(([] as string[]).concat(res.headers['set-cookie'] ?? []).join(';'))?.[1];
  return expires ? Math.round((Date.parse(expires) - Date.now()) / 1000 / 60) * 60 : NaN;
};
async function storedSessionOf(agent: request.Agent) {
  await agent.get('/s/portal/account');
  const sessions = mongoose.connection.db!.collection<{
    _id: string;
    expires: Date;
    session: { site?: { keepMs?: number; userId: string } };
  }>('sessions');
  return sessions.find({}).sort({ expires: -1 }).toArray();
}

it('ticked: the cookie and the stored session last KEEP_SIGNED_IN_DAYS; not ticked: the idle limit', async () => {
  await registerGuest(t.app, { email: 'keep@example.com' });
  const kept = request.agent(t.app);
  const res = await postForm(kept, '/s/portal/login', '/s/portal/login', {
    username: 'keep@example.com',
    password: GOOD_PASSWORD,
    keep: 'yes',
  });
  expect(res.status).toBe(303);
  expect(maxAgeOf(res)).toBe(14 * 86_400);
  const later = await kept.get('/s/portal/');
  expect(later.text).toContain('Welcome, ');
  expect(maxAgeOf(later)).toBeGreaterThan(13 * 86_400); // rolls with each request

  const plain = request.agent(t.app);
  const res2 = await postForm(plain, '/s/portal/login', '/s/portal/login', {
    username: 'keep@example.com',
    password: GOOD_PASSWORD,
  });
  expect(maxAgeOf(res2)).toBe(30 * 60);

  const docs = (await storedSessionOf(kept)).filter((d) => d.session.site);
  const keptDoc = docs.find((d) => d.session.site!.keepMs)!;
  expect(keptDoc.session.site!.keepMs).toBe(14 * DAY);
  expect(keptDoc.expires.getTime() - Date.now()).toBeGreaterThan(13 * DAY);
  const plainDoc = docs.find((d) => !d.session.site!.keepMs)!;
  expect(plainDoc.expires.getTime() - Date.now()).toBeLessThanOrEqual(30 * 60_000);
  // The account page says which session was kept.
  expect((await kept.get('/s/portal/account')).text).toContain('(kept signed in)');
});

it('the kept session has its own absolute limit, checked with a moved clock', async () => {
  const signedInAt = Date.now();
  const user = (await UserModel.findOne({ username: 'keep@example.com' }).lean())!;
  const check = async (keepMs: number | undefined, at: number) => {
    const req = {
      session: {
        site: { userId: String(user._id), epoch: user.sessionEpoch, signedInAt, ...(keepMs ? { keepMs } : {}) },
      },
    } as never;
    const res = { locals: {} } as never;
    await loadSessionUsers(12 * 3_600_000, () => at)(req, res, () => undefined);
    return Boolean((req as { session: { site?: unknown } }).session.site);
  };
  // Past 12 hours a plain session is dropped; a kept one holds until its 14 days are over.
  expect(await check(undefined, signedInAt + 11 * 3_600_000)).toBe(true);
  expect(await check(undefined, signedInAt + 13 * 3_600_000)).toBe(false);
  expect(await check(14 * DAY, signedInAt + 13 * DAY)).toBe(true);
  expect(await check(14 * DAY, signedInAt + 15 * DAY)).toBe(false);
});

it('is kept through the second-factor step', async () => {
  const { agent } = await registerGuest(t.app, { email: 'keep2fa@example.com' });
  const { secret } = await enrolThroughPages(agent);
  const fresh = request.agent(t.app);
  const pw = await postForm(fresh, '/s/portal/login', '/s/portal/login', {
    username: 'keep2fa@example.com',
    password: GOOD_PASSWORD,
    keep: 'yes',
  });
  expect(pw.headers.location).toBe('/s/portal/login/code');
  const code = await postForm(fresh, '/s/portal/login', '/s/portal/login/code', { code: totp(secret, 1) });
  expect(code.status).toBe(303);
  expect(maxAgeOf(code)).toBe(14 * 86_400);
});
