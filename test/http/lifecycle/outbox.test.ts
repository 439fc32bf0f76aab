/** The outbox at /admin/outbox: its own permission, newest first, text with clickable links; the worker fills it. */
import pino from 'pino';
import request from 'supertest';
import { startTestApp, type TestApp } from '../../helpers/app';
import { adminAgent, makeAdmin, makeStaff } from '../../helpers/admin';
import { MailMessageModel } from '../../../src/data/models';
import { queueMail } from '../../../src/mail/queue';
import { startBackgroundWork } from '../../../src/jobs';
import { deliverToOutbox } from '../../helpers/mail';
import { outboxTransport } from '../../../src/mail/transport';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp('lifecycle-outbox');
  await makeAdmin();
  await makeStaff('auditor@example.com', ['viewAuditTrail', 'manageCustomerUsers']);
});
afterAll(() => t.stop());

const invite = (to: string, url: string) => queueMail({ to, template: 'invitation', locals: { name: 'Grace', username: to, url, expiresIn: '72 hours' } });

it('lists delivered messages newest first with recipient, subject, time and clickable links', async () => {
  await invite('first@example.com', 'http://localhost:3000/s/portal/welcome?token=one');
  await invite('second@example.com', 'http://localhost:3000/s/portal/welcome?token=two');
  expect(await deliverToOutbox()).toBe(2);
  const agent = await adminAgent(t.app);
  const res = await agent.get('/admin/outbox');
  expect(res.status).toBe(200);
  const order = [...res.text.matchAll(/<span class="mail-to">([^<]+)</g)].map((m) => m[1]);
  expect(order).toEqual(['second@example.com', 'first@example.com']);
  expect(res.text).toContain('You are invited: set your password');
  expect(res.text).toContain('<a href="http://localhost:3000/s/portal/welcome?token=two">');
  expect(res.text).toMatch(/<time datetime="\d{4}-/);
  const filtered = await agent.get('/admin/outbox?to=FIRST@example.com');
  expect([...filtered.text.matchAll(/<span class="mail-to">([^<]+)</g)].map((m) => m[1])).toEqual(['first@example.com']);
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
  const work = startBackgroundWork({ logger: pino({ level: 'silent' }), databaseUri: t.db.uri, mail: { settings: { ...t.config.mail, pollMs: 60_000 }, isProduction: false } });
  try {
    const delivered = new Promise<void>((resolve) => {
      const check = async () => ((await MailMessageModel.countDocuments({ state: 'sent', deliveredVia: 'outbox' })) === 1 ? resolve() : setImmediate(check));
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
  const mail = { from: 'a@b.c', to: 'log@example.com', subject: 'Reset your password', text: 'Open http://localhost:3000/s/portal/reset?token=SECRETTOKEN now', html: '', template: 'password-reset' };
  await outboxTransport(logger, { isProduction: true }).send(mail);
  await outboxTransport(logger, { isProduction: false }).send(mail);
  expect(lines[0]).toMatchObject({ level: 30, to: 'log@example.com', subject: 'Reset your password' });
  expect(JSON.stringify(lines[0])).not.toContain('SECRETTOKEN');
  expect(lines[1].links).toEqual(['http://localhost:3000/s/portal/reset?token=SECRETTOKEN']);
});
