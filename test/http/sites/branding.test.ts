/**
 * Per-site branding: set on the admin Sites page, checked on the server (nothing is written when a value
 * is refused), used by the site's pages (a stylesheet of its own, its logo), its mails (header, sender)
 * and the authenticator label of its users.
 */
import type request from 'supertest';
import { startTestApp, type TestApp } from '../../helpers/app';
import { csrfFrom, postForm, registerGuest } from '../../helpers/forms';
import { adminAgent, makeAdmin } from '../../helpers/admin';
import { startSmtpCapture, type SmtpCapture } from '../../helpers/smtp';
import { AuditEventModel, MailMessageModel, SiteModel, UserModel } from '../../../src/data/models';
import { deliverDueMail } from '../../../src/mail/worker';
import { smtpTransport } from '../../../src/mail/transport';
import { settleDetached } from '../../../src/shared/detached';
import { startEnrolment } from '../../../src/signin/two-factor';

let t: TestApp;
let admin: request.Agent;
let smtp: SmtpCapture;
let siteId: string;
// A 1x1 PNG.
const PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII=',
  'base64',
);

beforeAll(async () => {
  t = await startTestApp('site-branding');
  smtp = await startSmtpCapture();
  await makeAdmin();
  admin = await adminAgent(t.app);
  siteId = String((await SiteModel.findOne({ slug: 'portal' }).lean())!._id);
});
afterAll(async () => {
  await smtp.close();
  await t.stop();
});

/** Runs the delivery worker over SMTP, as a portal with SMTP_URL (and MAIL_FROM Portal <no-reply@portal.test>) does. */
async function deliverOverSmtp(): Promise<void> {
  await settleDetached();
  const tr = smtpTransport(`smtp://127.0.0.1:${smtp.port}`, { connectionTimeoutMs: 5000 });
  try {
    await deliverDueMail({ transport: tr, from: 'Portal <no-reply@portal.test>' });
  } finally {
    tr.close();
  }
}

const brand = (fields: Record<string, string>) =>
  postForm(admin, '/admin/sites', `/admin/sites/${siteId}/branding`, { _form: `branding-${siteId}`, ...fields });
const brandingOf = async () => (await SiteModel.findById(siteId).lean())!.branding;

async function uploadLogo(body: Buffer, type: string) {
  const page = await admin.get('/admin/sites');
  return admin
    .post(`/admin/sites/${siteId}/logo`)
    .set('Content-Type', type)
    .set('X-CSRF-Token', csrfFrom(page.text))
    .send(body);
}

describe('the admin Sites page', () => {
  it('refuses colours that are not #rrggbb or too light for white text, foreign logo addresses and unsafe senders, writing nothing', async () => {
    const before = await brandingOf();
    const cases: [Record<string, string>, string][] = [
      [{ primaryColor: 'red' }, 'primaryColor'],
      [{ primaryColor: '#fff' }, 'primaryColor'],
      [{ primaryColor: '#ffff00' }, 'primaryColor'],
      [{ headerColor: '#12345g' }, 'headerColor'],
      [{ headerColor: 'url(javascript:x)' }, 'headerColor'],
      [{ logoUrl: 'https://elsewhere.example/logo.png' }, 'logoUrl'],
      [{ logoUrl: '//elsewhere.example/logo.png' }, 'logoUrl'],
      [{ senderName: 'Evil" <x@y.z>' }, 'senderName'],
      [{ senderName: 'Line\r\nBcc: x@y.z' }, 'senderName'],
      [{ senderAddress: 'not-an-address' }, 'senderAddress'],
      [{ defaultLanguage: 'fr' }, 'defaultLanguage'],
    ];
    for (const [fields, field] of cases) {
      const res = await brand({ primaryColor: '#0b5cad', ...fields });
      expect([fields, res.status]).toEqual([fields, 422]);
      expect(res.text).toContain(`id="branding-${siteId}-${field}-error"`);
    }
    expect(await brandingOf()).toEqual(before);
    expect(await AuditEventModel.countDocuments({ action: 'site.branding_changed' })).toBe(0);
  });

  it('saves the branding, which the site then uses through its own stylesheet (no inline styles)', async () => {
    const res = await brand({
      primaryColor: '#7A1F5C',
      headerColor: '#fafafa',
      logoUrl: '/favicon.svg',
      senderName: 'Acme Support',
      senderAddress: 'Support@Acme.test',
      defaultLanguage: 'en',
    });
    expect(res.status).toBe(303);
    expect(await brandingOf()).toMatchObject({
      primaryColor: '#7a1f5c',
      headerColor: '#fafafa',
      logoUrl: '/favicon.svg',
      senderName: 'Acme Support',
      senderAddress: 'support@acme.test',
    });
    expect(await AuditEventModel.countDocuments({ action: 'site.branding_changed' })).toBe(1);
    const page = await admin.get('/s/portal/login');
    const css = /<link rel="stylesheet" href="(\/s\/portal\/brand\.css\?v=[a-z0-9]+)">/.exec(page.text);
    expect(css).not.toBeNull();
    expect(page.text).toContain('<img src="/favicon.svg" alt="" class="brand-logo" height="32"> Customer Portal</a>');
    expect(page.text).not.toMatch(/style=/);
    const sheet = await admin.get(css![1]);
    expect(sheet.headers['content-type']).toMatch(/^text\/css/);
    expect(sheet.text).toContain('--accent: #7a1f5c;');
    expect(sheet.text).toContain('--accent-fg: #ffffff;');
    expect(sheet.text).toContain('--topbar-bg: #fafafa;');
    expect(sheet.text).toContain('--topbar-fg: #000000;');
  });

  it('stores an uploaded logo and serves it with its type and a CSP; refuses SVG, a false type and oversized files', async () => {
    for (const [body, type, status] of [
      [Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'), 'image/svg+xml', 415],
      [PNG, 'image/jpeg', 415],
      [Buffer.concat([PNG, Buffer.alloc(101 * 1024)]), 'image/png', 413],
    ] as const) {
      const res = await uploadLogo(body, type);
      expect([type, res.status]).toEqual([type, status]);
    }
    expect((await brandingOf())?.logo).toBeNull();
    expect((await uploadLogo(PNG, 'image/png')).status).toBe(303);
    const page = await admin.get('/s/portal/');
    const src = /<img src="(\/s\/portal\/logo\?v=[a-z0-9]+)"/.exec(page.text);
    expect(src).not.toBeNull();
    const logo = await admin.get(src![1]).buffer(true);
    expect(logo.headers['content-type']).toBe('image/png');
    expect(logo.headers['content-security-policy']).toContain("default-src 'none'");
    expect(Buffer.compare(logo.body as Buffer, PNG)).toBe(0);
    expect((await postForm(admin, '/admin/sites', `/admin/sites/${siteId}/logo/remove`, {})).status).toBe(303);
    expect(await brandingOf()).toMatchObject({ logo: null, logoUrl: null });
    expect((await admin.get('/s/portal/logo')).status).toBe(404);
  });
});

describe("the site's mails and authenticator label", () => {
  it('sends a mail from the site with its sender, and its name in the header', async () => {
    await brand({ primaryColor: '#7a1f5c', senderName: 'Acme Support', senderAddress: 'support@acme.test' });
    await registerGuest(t.app, { email: 'branded@example.com' });
    await deliverOverSmtp();
    const mail = smtp.received.find((r) => r.to.includes('branded@example.com'))!;
    expect(mail.from).toBe('support@acme.test');
    expect(mail.raw).toMatch(/^From: Acme Support <support@acme\.test>$/m);
    const html = mail.raw.replace(/=\r?\n/g, '').replace(/=3D/g, '=');
    expect(html).toContain('id="mail-brand">Customer Portal</p>');
    expect(html).toContain('background: #7a1f5c;');
    expect(html).not.toContain('Identity Portal');
  });

  it("uses the site name and MAIL_FROM's address when the site names no sender", async () => {
    await brand({ senderName: '', senderAddress: '' });
    await registerGuest(t.app, { email: 'plain@example.com' });
    expect(await MailMessageModel.findOne({ to: 'plain@example.com' }).lean()).toMatchObject({
      fromName: 'Customer Portal',
      fromAddress: null,
    });
    await deliverOverSmtp();
    const mail = smtp.received.find((r) => r.to.includes('plain@example.com'))!;
    expect(mail.from).toBe('no-reply@portal.test');
    expect(mail.raw).toMatch(/^From: Customer Portal <no-reply@portal\.test>$/m);
  });

  it("labels the authenticator entry of a site's user with the site's name", async () => {
    await SiteModel.updateOne({ _id: siteId }, { $set: { name: 'Acme Customers' } });
    await registerGuest(t.app, { email: 'totp@example.com' });
    const user = (await UserModel.findOne({ username: 'totp@example.com' }))!;
    const { uri } = await startEnrolment(user, {});
    expect(new URL(uri).searchParams.get('issuer')).toBe('Acme Customers');
    expect(uri).toContain('otpauth://totp/Acme%20Customers:totp%40example.com');
    await SiteModel.updateOne({ _id: siteId }, { $set: { name: 'Customer Portal' } });
  });
});
