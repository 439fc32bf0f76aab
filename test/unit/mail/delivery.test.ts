/**
 * Mail delivery against a real SMTP server (smtp-server from the nodemailer project, on loopback): a
 * queued message arrives with its text and HTML parts, a refused delivery is retried after its backoff
 * (the clock is moved, never waited for), a worker that died mid-delivery is taken over after its lease,
 * and a message that keeps failing ends as failed.
 */
import { startTestApp, type TestApp } from '../../helpers/app';
import { startSmtpCapture, type Received, type SmtpCapture } from '../../helpers/smtp';
import { MailMessageModel } from '../../../src/data/models';
import { queueMail } from '../../../src/mail/queue';
import { deliverDueMail, backoffMs } from '../../../src/mail/worker';
import { smtpTransport, type MailTransport } from '../../../src/mail/transport';

let t: TestApp;
let smtp: SmtpCapture;
let port = 0;
let received: Received[] = [];
/** The next deliveries the server refuses with a temporary error. */
let refuseNext = 0;

beforeAll(async () => {
  t = await startTestApp('mail-delivery');
  // The next `refuseNext` deliveries are refused with a temporary error.
  smtp = await startSmtpCapture(() => (refuseNext > 0 ? (refuseNext--, true) : false));
  port = smtp.port;
  received = smtp.received;
});
afterAll(async () => {
  await smtp.close();
  await t.stop();
});
beforeEach(async () => {
  received.length = 0;
  refuseNext = 0;
  await MailMessageModel.deleteMany({});
});

const transport = (): MailTransport => smtpTransport(`smtp://127.0.0.1:${port}`, { connectionTimeoutMs: 5000 });
const FROM = 'Portal <no-reply@portal.test>';
const reset = (to: string) =>
  queueMail({
    to,
    template: 'password-reset',
    locals: {
      name: 'Ada',
      username: to,
      url: 'https://portal.test/s/portal/reset?token=abc123',
      expiresIn: '60 minutes',
    },
  });

it('delivers a queued message over SMTP with a text and an HTML part, then drops its bodies', async () => {
  const id = await reset('ada@example.com');
  const tr = transport();
  const counts = await deliverDueMail({ transport: tr, from: FROM });
  tr.close();
  expect(counts).toEqual({ sent: 1, retried: 0, failed: 0 });
  expect(received).toHaveLength(1);
  expect(received[0].from).toBe('no-reply@portal.test');
  expect(received[0].to).toEqual(['ada@example.com']);
  expect(received[0].raw).toMatch(/^Subject: Reset your password/m);
  expect(received[0].raw).toContain('Content-Type: text/plain');
  expect(received[0].raw).toContain('Content-Type: text/html');
  expect(received[0].raw.replace(/=\r?\n/g, '')).toContain('https://portal.test/s/portal/reset?token=3Dabc123');
  const stored = await MailMessageModel.findById(id).lean();
  expect(stored).toMatchObject({
    state: 'sent',
    deliveredVia: 'smtp',
    attempts: 1,
    text: null,
    html: null,
    leaseOwner: null,
  });
});

it('retries a refused delivery after its backoff, and not before', async () => {
  refuseNext = 1;
  const t0 = new Date();
  const id = await reset('retry@example.com');
  const tr = transport();
  try {
    expect(await deliverDueMail({ transport: tr, from: FROM, now: () => t0 })).toEqual({
      sent: 0,
      retried: 1,
      failed: 0,
    });
    const waiting = await MailMessageModel.findById(id).lean();
    expect(waiting).toMatchObject({ state: 'queued', attempts: 1 });
    expect(waiting!.lastError).toMatch(/Mailbox busy/);
    expect(waiting!.nextAttemptAt.getTime()).toBe(t0.getTime() + backoffMs(1));
    expect(waiting!.text).toContain('token=abc123');

    // Before the backoff has passed nothing is sent.
    expect(
      await deliverDueMail({ transport: tr, from: FROM, now: () => new Date(t0.getTime() + backoffMs(1) - 1000) }),
    ).toEqual({ sent: 0, retried: 0, failed: 0 });
    expect(received).toHaveLength(0);

    expect(
      await deliverDueMail({ transport: tr, from: FROM, now: () => new Date(t0.getTime() + backoffMs(1)) }),
    ).toEqual({ sent: 1, retried: 0, failed: 0 });
    expect(received.map((r) => r.to)).toEqual([['retry@example.com']]);
    expect(await MailMessageModel.findById(id).lean()).toMatchObject({ state: 'sent', attempts: 2, lastError: null });
  } finally {
    tr.close();
  }
});

it('keeps mail queued while the SMTP server is down, and sends it once it is back', async () => {
  const id = await reset('down@example.com');
  const t0 = new Date();
  const closed = smtpTransport('smtp://127.0.0.1:1', { connectionTimeoutMs: 2000 });
  expect(await deliverDueMail({ transport: closed, from: FROM, now: () => t0 })).toEqual({
    sent: 0,
    retried: 1,
    failed: 0,
  });
  closed.close();
  expect((await MailMessageModel.findById(id).lean())!.lastError).toMatch(/ECONNREFUSED/);
  const tr = transport();
  expect(
    await deliverDueMail({ transport: tr, from: FROM, now: () => new Date(t0.getTime() + backoffMs(1)) }),
  ).toMatchObject({ sent: 1 });
  tr.close();
  expect(received).toHaveLength(1);
});

it('takes over a message whose worker died mid-delivery once the lease has expired', async () => {
  const id = await reset('lease@example.com');
  const t0 = new Date();
  // A worker claimed it and died before settling.
  await MailMessageModel.updateOne(
    { _id: id },
    {
      $set: { state: 'sending', leaseOwner: 'dead-worker', leaseExpiresAt: new Date(t0.getTime() + 60_000) },
      $inc: { attempts: 1 },
    },
  );
  const tr = transport();
  try {
    expect(await deliverDueMail({ transport: tr, from: FROM, now: () => t0 })).toEqual({
      sent: 0,
      retried: 0,
      failed: 0,
    });
    expect(await deliverDueMail({ transport: tr, from: FROM, now: () => new Date(t0.getTime() + 60_000) })).toEqual({
      sent: 1,
      retried: 0,
      failed: 0,
    });
  } finally {
    tr.close();
  }
  expect(await MailMessageModel.findById(id).lean()).toMatchObject({ state: 'sent', attempts: 2 });
});

it('marks a message failed after the last attempt', async () => {
  refuseNext = 2;
  const id = await reset('fails@example.com');
  const tr = transport();
  try {
    let now = new Date();
    expect(await deliverDueMail({ transport: tr, from: FROM, now: () => now, maxAttempts: 2 })).toMatchObject({
      retried: 1,
    });
    now = new Date(now.getTime() + backoffMs(1));
    expect(await deliverDueMail({ transport: tr, from: FROM, now: () => now, maxAttempts: 2 })).toMatchObject({
      failed: 1,
    });
    now = new Date(now.getTime() + 24 * 3_600_000);
    expect(await deliverDueMail({ transport: tr, from: FROM, now: () => now, maxAttempts: 2 })).toEqual({
      sent: 0,
      retried: 0,
      failed: 0,
    });
  } finally {
    tr.close();
  }
  expect(await MailMessageModel.findById(id).lean()).toMatchObject({ state: 'failed', attempts: 2 });
  expect(received).toHaveLength(0);
});

it('backs off 30 s, 1 min, 2 min ... up to an hour', () => {
  expect([1, 2, 3, 4].map(backoffMs)).toEqual([30_000, 60_000, 120_000, 240_000]);
  expect(backoffMs(20)).toBe(3_600_000);
});
