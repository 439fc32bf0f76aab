/**
 * Every path that mails, end to end through a real SMTP server (smtp-server on loopback): the request
 * queues the mail, the delivery worker sends it over SMTP, the message arrives with a link, and the
 * link opens its page. Site (registration, forgot password, email change), admin (new user, reset
 * link, invitation again), API (create user, invitation again), SCIM (create) and a bulk ingest job.
 */
import request from 'supertest';
import { trusted } from 'mongoose';
import { startTestApp, type TestApp } from '../../helpers/app';
import { startSmtpCapture, type SmtpCapture } from '../../helpers/smtp';
import { adminAgent, makeAdmin } from '../../helpers/admin';
import { GOOD_PASSWORD, postForm, registerGuest } from '../../helpers/forms';
import { adminToken } from '../api/tokens';
import { MailMessageModel, ProfileModel, UserModel } from '../../../src/data/models';
import { deliverDueMail } from '../../../src/mail/worker';
import { smtpTransport } from '../../../src/mail/transport';
import { settleDetached } from '../../../src/shared/detached';
import { processAvailableJobs } from '../../../src/ingest/ingest-worker';
import { SCIM } from '../../../src/scim/schemas';

let t: TestApp;
let smtp: SmtpCapture;
let port = 0;
let token: string;
let ei: string;

beforeAll(async () => {
  t = await startTestApp('lifecycle-mail-smtp');
  smtp = await startSmtpCapture();
  port = smtp.port;
  token = (await adminToken()).token;
  await makeAdmin();
  ei = String((await ProfileModel.findOne({ name: 'External Identity User' }).lean())!._id);
});
afterAll(async () => {
  await smtp.close();
  await t.stop();
});
beforeEach(() => {
  smtp.received.length = 0;
});

/** Runs the delivery worker over SMTP, as a portal with SMTP_URL does. */
async function deliverOverSmtp(): Promise<number> {
  await settleDetached();
  const tr = smtpTransport(`smtp://127.0.0.1:${port}`, { connectionTimeoutMs: 5000 });
  try {
    return (await deliverDueMail({ transport: tr, from: 'Portal <no-reply@portal.test>' })).sent;
  } finally {
    tr.close();
  }
}

/** The link of the message that arrived for `to` (text part, quoted-printable undone), as a path. */
function arrivedLink(to: string, subject: RegExp): string {
  const mail = smtp.received
    .filter((r) => r.to.includes(to))
    .find((r) => subject.test(/^Subject: (.*)$/m.exec(r.raw)?.[1] ?? ''));
  if (!mail)
    throw new Error(
      `no mail to ${to} matching ${subject} arrived; got ${smtp.received.map((r) => r.to.join()).join(' ')}`,
    );
  const text = mail.raw.replace(/=\r?\n/g, '').replace(/=3D/g, '=');
  const m = /https?:\/\/[^\s"<]+\?token=[A-Za-z0-9_-]{43}/.exec(text);
  if (!m) throw new Error('no link in the mail');
  const url = new URL(m[0]);
  return url.pathname + url.search;
}

const api = (method: 'post' | 'put' | 'patch' | 'get', path: string) =>
  request(t.app)[method](`/api${path}`).set('Authorization', `Bearer ${token}`);

/** A link works when its page opens (200) and shows its form, not an error page. */
async function expectWorkingLink(link: string, agent = request.agent(t.app)) {
  const page = await agent.get(link);
  expect(page.status).toBe(200);
  expect(page.text).toContain(`name="token" value="${new URL(link, 'http://x').searchParams.get('token')}"`);
}

describe('site', () => {
  it('registration: the verification link arrives and works', async () => {
    await registerGuest(t.app, { email: 'reg@example.com' });
    expect(await deliverOverSmtp()).toBe(1);
    await expectWorkingLink(arrivedLink('reg@example.com', /Confirm/i));
  });

  it('forgot password: the reset link arrives and works', async () => {
    await postForm(request.agent(t.app), '/s/portal/forgot', '/s/portal/forgot', { email: 'reg@example.com' });
    expect(await deliverOverSmtp()).toBe(1);
    await expectWorkingLink(arrivedLink('reg@example.com', /Reset/i));
  });

  it('email change: the confirmation link arrives at the new address and works for its owner', async () => {
    const { agent } = await registerGuest(t.app, { email: 'mover@example.com' });
    const res = await postForm(agent, '/s/portal/account', '/s/portal/account/email', {
      newEmail: 'moved@example.com',
      password: GOOD_PASSWORD,
    });
    expect(res.status).toBe(303);
    expect(await deliverOverSmtp()).toBe(3); // verification of the registration, confirmation, notice to the old address
    expect(
      smtp.received.some((r) => r.to.includes('mover@example.com') && /n\*\*\*|m\*\*\*@e\*\*\*\.com/.test(r.raw)),
    ).toBe(true);
    await expectWorkingLink(arrivedLink('moved@example.com', /./), agent);
  });
});

describe('admin', () => {
  it('a new user created in the admin area: the invitation arrives and works', async () => {
    const agent = await adminAgent(t.app);
    const internal = (await ProfileModel.findOne({ name: 'System Administrator' }).lean())!;
    const created = await postForm(agent, '/admin/users', '/admin/users', {
      firstName: 'New',
      lastName: 'Hire',
      email: 'hire@example.com',
      profileId: String(internal._id),
    });
    expect(created.status).toBe(303);
    expect(await deliverOverSmtp()).toBe(1);
    await expectWorkingLink(arrivedLink('hire@example.com', /invited/i));
  });

  it('Reset password and Send invitation: the links arrive and work', async () => {
    const agent = await adminAgent(t.app);
    const reg = (await UserModel.findOne({ username: 'reg@example.com' }).lean())!;
    expect(
      (await postForm(agent, `/admin/users/${reg._id}`, `/admin/users/${reg._id}/reset-password`, {})).status,
    ).toBe(303);
    const hire = (await UserModel.findOne({ username: 'hire@example.com' }).lean())!;
    expect((await postForm(agent, `/admin/users/${hire._id}`, `/admin/users/${hire._id}/invitation`, {})).status).toBe(
      303,
    );
    expect(await deliverOverSmtp()).toBe(2);
    await expectWorkingLink(arrivedLink('reg@example.com', /Reset/i));
    await expectWorkingLink(arrivedLink('hire@example.com', /invited/i));
  });
});

describe('API and SCIM', () => {
  it('POST /api/v1/users and POST /api/v1/users/{id}/invitation: the invitations arrive and work', async () => {
    const res = await api('post', '/v1/users').send({ lastName: 'Api', email: 'api-user@example.com', profileId: ei });
    expect(res.status).toBe(201);
    expect(await deliverOverSmtp()).toBe(1);
    await expectWorkingLink(arrivedLink('api-user@example.com', /invited/i));
    smtp.received.length = 0;
    expect((await api('post', `/v1/users/${res.body.id}/invitation`)).status).toBeLessThan(300);
    expect(await deliverOverSmtp()).toBe(1);
    await expectWorkingLink(arrivedLink('api-user@example.com', /invited/i));
  });

  it('SCIM create: the invitation arrives and works', async () => {
    const res = await request(t.app)
      .post('/scim/v2/Users')
      .set('Authorization', `Bearer ${token}`)
      .set('Content-Type', 'application/scim+json')
      .send(
        JSON.stringify({
          schemas: [SCIM.core, SCIM.extension],
          userName: 'scim-mail@example.com',
          name: { givenName: 'Sky', familyName: 'Mail' },
          emails: [{ value: 'scim-mail@example.com', primary: true }],
          [SCIM.extension]: { accountName: 'Mail Co' },
        }),
      );
    expect(res.status).toBe(201);
    expect(await deliverOverSmtp()).toBe(1);
    await expectWorkingLink(arrivedLink('scim-mail@example.com', /invited/i));
  });
});

describe('bulk ingest', () => {
  it('every invited row gets its invitation delivered, and the queued mail is in the state the worker claims', async () => {
    const job = await api('post', '/v1/jobs/ingest').send({ object: 'User', operation: 'insert' });
    const csv = ['LastName,Email,ProfileId', `One,bulk-one@example.com,${ei}`, `Two,bulk-two@example.com,${ei}`].join(
      '\n',
    );
    expect(
      (await api('put', `/v1/jobs/ingest/${job.body.id}/batches`).set('Content-Type', 'text/csv').send(csv)).status,
    ).toBe(201);
    expect((await api('patch', `/v1/jobs/ingest/${job.body.id}`).send({ state: 'UploadComplete' })).status).toBe(200);
    expect(await processAvailableJobs({ owner: 'test-worker' })).toBe(1);
    const queued = await MailMessageModel.find({
      to: trusted({ $in: ['bulk-one@example.com', 'bulk-two@example.com'] }),
    }).lean();
    expect(queued.map((m) => [m.state, m.attempts])).toEqual([
      ['queued', 0],
      ['queued', 0],
    ]);
    expect(await deliverOverSmtp()).toBe(2);
    await expectWorkingLink(arrivedLink('bulk-one@example.com', /invited/i));
    await expectWorkingLink(arrivedLink('bulk-two@example.com', /invited/i));
    expect(
      await MailMessageModel.countDocuments({
        to: trusted({ $in: ['bulk-one@example.com', 'bulk-two@example.com'] }),
        state: 'sent',
        deliveredVia: 'smtp',
      }),
    ).toBe(2);
  });
});
