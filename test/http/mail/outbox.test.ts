/**
 * The outbox at /admin/outbox: its own permission, newest first, text with link tokens masked (no link
 * shown there works), closed in production unless MAIL_OUTBOX_IN_PRODUCTION; the worker fills it.
 */
import pino from 'pino';
import { trusted } from 'mongoose';
import request from 'supertest';
import { startTestApp, type TestApp } from '../../helpers/app';
import { adminAgent, makeAdmin, makeStaff } from '../../helpers/admin';
import { ActionTokenModel, MailMessageModel } from '../../../src/data/models';
import { queueMail } from '../../../src/mail/queue';
import { startBackgroundWork } from '../../../src/ingest';
import { deliverToOutbox } from '../../helpers/mail';
import { outboxTransport } from '../../../src/mail/transport';
import { createApp } from '../../../src/app';
import { loadConfig } from '../../../src/config';
import { postForm } from '../../helpers/forms';
import { settleDetached } from '../../../src/shared/detached';
import { UserModel } from '../../../src/data/models';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp('lifecycle-outbox');
  await makeAdmin();
  await makeStaff('auditor@example.com', ['viewAuditTrail', 'manageCustomerUsers']);
});
afterAll(() => t.stop());

const invite = (to: string, url: string) =>
  queueMail({ to, template: 'invitation', locals: { name: 'Grace', username: to, url, expiresIn: '72 hours' } });

it('lists delivered messages newest first with recipient, subject, time, and links with their token masked', async () => {
  await invite('first@example.com', 'http://localhost:3000/s/portal/welcome?token=one');
  await invite('second@example.com', 'http://localhost:3000/s/portal/welcome?token=two');
  expect(await deliverToOutbox()).toBe(2);
  const agent = await adminAgent(t.app);
  const res = await agent.get('/admin/outbox');
  expect(res.status).toBe(200);
  const order = [...res.text.matchAll(/<span class="mail-to">([^<]+)</g)].map((m) => m[1]);
  expect(order).toEqual(['second@example.com', 'first@example.com']);
  expect(res.text).toContain('You are invited: set your password');
  expect(res.text).toContain('http://localhost:3000/s/portal/welcome?token=…');
  expect(res.text).not.toContain('token=two');
  expect(res.text).not.toContain('<a href="http://localhost:3000/s/portal/welcome');
  expect(res.text).toMatch(/<time datetime="\d{4}-/);
  const filtered = await agent.get('/admin/outbox?to=FIRST@example.com');
  expect([...filtered.text.matchAll(/<span class="mail-to">([^<]+)</g)].map((m) => m[1])).toEqual([
    'first@example.com',
  ]);
});

it('is refused without the View Mail Outbox permission, and hidden from the menu', async () => {
  const agent = await adminAgent(t.app, 'auditor@example.com');
  const res = await agent.get('/admin/outbox');
  expect(res.status).toBe(403);
  expect(res.text).toContain('This needs the View Mail Outbox permission.');
  expect(res.text).not.toContain('welcome?token=');
  const dash = await agent.get('/admin');
  expect(dash.text).not.toContain('href="/admin/outbox"');
  expect((await request(t.app).get('/admin/outbox')).status).toBe(302);
});

it('is filled by the background worker as soon as mail is queued', async () => {
  await MailMessageModel.deleteMany({});
  const work = startBackgroundWork({
    logger: pino({ level: 'silent' }),
    databaseUri: t.db.uri,
    mail: { settings: { ...t.config.mail, pollMs: 60_000 }, isProduction: false },
  });
  try {
    const delivered = new Promise<void>((resolve) => {
      const check = async () =>
        (await MailMessageModel.countDocuments({ state: 'sent', deliveredVia: 'outbox' })) === 1
          ? resolve()
          : setImmediate(check);
      void check();
    });
    await invite('worker@example.com', 'http://localhost:3000/s/portal/welcome?token=three');
    await delivered;
  } finally {
    await work.stop();
  }
  const msg = await MailMessageModel.findOne({ to: 'worker@example.com' }).lean();
  expect(msg).toMatchObject({ state: 'sent', deliveredVia: 'outbox', attempts: 1 });
  expect(msg!.text).toContain('token=three'); // the outbox keeps the text: it is the mailbox
});

it('logs outbox mail at info level, with its links outside production and without them in production', async () => {
  const lines: Record<string, unknown>[] = [];
  const logger = pino({ level: 'info' }, { write: (s: string) => lines.push(JSON.parse(s)) });
  const mail = {
    from: 'a@b.c',
    to: 'log@example.com',
    subject: 'Reset your password',
    text: 'Open http://localhost:3000/s/portal/reset?token=SECRETTOKEN now',
    html: '',
    template: 'password-reset',
  };
  await outboxTransport(logger, { isProduction: true }).send(mail);
  await outboxTransport(logger, { isProduction: false }).send(mail);
  expect(lines[0]).toMatchObject({ level: 30, to: 'log@example.com', subject: 'Reset your password' });
  expect(JSON.stringify(lines[0])).not.toContain('SECRETTOKEN');
  expect(lines[1].links).toEqual(['http://localhost:3000/s/portal/reset?token=SECRETTOKEN']);
});

describe('no live link', () => {
  it("shows no usable token: a reader of the outbox who asks for root's reset cannot use what is shown", async () => {
    await makeStaff('reader@example.com', ['viewOutbox']);
    const reader = await adminAgent(t.app, 'reader@example.com');
    const hashBefore = (await UserModel.findOne({ username: 'admin@example.com' }).select('+passwordHash').lean())!
      .passwordHash;
    // The reader asks for the administrator's reset, as anyone may.
    await postForm(request.agent(t.app), '/admin/forgot', '/admin/forgot', { email: 'admin@example.com' });
    await settleDetached();
    await deliverToOutbox();
    const stored = (await MailMessageModel.findOne({ to: 'admin@example.com', template: 'password-reset' }).lean())!;
    const live = /token=([A-Za-z0-9_-]{43})/.exec(stored.text!)![1];
    const page = await reader.get('/admin/outbox?to=admin@example.com');
    expect(page.status).toBe(200);
    expect(page.text).toContain('Reset your password');
    expect(page.text).not.toContain(live);
    // Whatever the page shows after "token=" is tried, as it is and as the start of a token: all refused.
    const shown = [...page.text.matchAll(/token=([^\s"<&]*)/g)].map((m) => m[1]);
    expect(shown.length).toBeGreaterThan(0);
    for (const value of shown) {
      for (const candidate of [value, value.replace(/…$/, ''), encodeURIComponent(value)]) {
        const res = await request(t.app).get(`/admin/reset?token=${encodeURIComponent(candidate)}`);
        expect(res.status).toBe(404);
        const setIt = await request.agent(t.app).post('/admin/reset').type('form').send({
          token: candidate,
          password: 'a-new-password-for-root-1',
          passwordConfirm: 'a-new-password-for-root-1',
        });
        expect(setIt.status).not.toBe(303);
      }
    }
    // The root password and the link are untouched; the owner's link still works.
    expect(await ActionTokenModel.countDocuments({ purpose: 'reset', usedAt: trusted({ $ne: null }) })).toBe(0);
    const root = (await UserModel.findOne({ username: 'admin@example.com' }).select('+passwordHash').lean())!;
    expect(root.passwordHash).toBe(hashBefore);
    expect((await request(t.app).get(`/admin/reset?token=${live}`)).status).toBe(200);
  });

  it('is closed in production unless MAIL_OUTBOX_IN_PRODUCTION is on', async () => {
    const prod = (extra: Record<string, string>) =>
      loadConfig({
        NODE_ENV: 'production',
        SESSION_SECRET: 'x'.repeat(40),
        DATA_DIR: '/tmp/portal-test-data',
        ...extra,
      });
    expect(prod({}).mail.outboxOpen).toBe(false);
    expect(prod({ MAIL_OUTBOX_IN_PRODUCTION: 'true' }).mail.outboxOpen).toBe(true);
    expect(loadConfig({ NODE_ENV: 'development', DATA_DIR: '/tmp/portal-test-data' }).mail.outboxOpen).toBe(true);
    const closed = createApp(
      { ...t.config, mail: { ...t.config.mail, outboxOpen: false } },
      t.db,
      pino({ level: 'silent' }),
    );
    const agent = await adminAgent(closed);
    const res = await agent.get('/admin/outbox');
    expect(res.status).toBe(403);
    expect(res.text).toContain('The mail outbox is off in production');
    expect(res.text).not.toContain('token=');
    expect((await agent.get('/admin')).text).not.toContain('href="/admin/outbox"');
    expect((await (await adminAgent(t.app)).get('/admin')).text).toContain('href="/admin/outbox"');
  });
});
