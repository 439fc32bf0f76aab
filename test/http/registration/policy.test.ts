/**
 * The registration policy of a site over HTTP: open, closed, invite-only (by address, by domain),
 * allowed and blocked domains with their subdomains, disposable addresses (and privacy relays) on and
 * off. Each refusal says what to do (in the guest's language), is the same whether the address has an
 * account or not, writes nothing but its audit event, and is audited.
 */
import request from 'supertest';
import { trusted } from 'mongoose';
import { startTestApp, type TestApp } from '../../helpers/app';
import { csrfFrom, GOOD_PASSWORD, solvedPow, postForm } from '../../helpers/forms';
import { adminAgent, makeAdmin } from '../../helpers/admin';
import { AuditEventModel, RegistrationInvitationModel, SiteModel, UserModel } from '../../../src/data/models';

let t: TestApp;
let admin: request.Agent;
let siteId: string;
beforeAll(async () => {
  t = await startTestApp('registration-policy');
  await makeAdmin();
  admin = await adminAgent(t.app);
  siteId = String((await SiteModel.findOne({ slug: 'portal' }).lean())!._id);
});
afterAll(() => t.stop());
beforeEach(async () => {
  await UserModel.deleteMany({ username: trusted({ $ne: 'admin@example.com' }) });
  await RegistrationInvitationModel.deleteMany({});
  await AuditEventModel.deleteMany({ action: 'registration.refused' });
  await SiteModel.updateOne(
    { slug: 'portal' },
    {
      $set: {
        selfRegistrationEnabled: true,
        registrationPolicy: {
          mode: 'open',
          allowedDomains: [],
          blockedDomains: [],
          blockDisposable: false,
          allowPrivacyRelays: true,
          extraFields: [],
        },
      },
    },
  );
});

type Policy = Partial<{
  mode: string;
  allowedDomains: string[];
  blockedDomains: string[];
  blockDisposable: boolean;
  allowPrivacyRelays: boolean;
}>;
const setPolicy = (p: Policy) =>
  SiteModel.updateOne(
    { slug: 'portal' },
    { $set: Object.fromEntries(Object.entries(p).map(([k, v]) => [`registrationPolicy.${k}`, v])) },
  );

async function register(email: string, opts: { invitation?: string; lang?: string } = {}) {
  const agent = request.agent(t.app);
  const page = `/s/portal/register${opts.invitation ? `?invitation=${opts.invitation}` : ''}`;
  const form = await agent.get(page).set('Accept-Language', opts.lang ?? 'en');
  return agent
    .post('/s/portal/register')
    .set('Accept-Language', opts.lang ?? 'en')
    .type('form')
    .send({
      altcha: await solvedPow(agent),
      _csrf: csrfFrom(form.text),
      firstName: 'Ada',
      lastName: 'Lovelace',
      email,
      password: GOOD_PASSWORD,
      ...(opts.invitation ? { invitation: opts.invitation } : {}),
    });
}
const userWith = (email: string) => UserModel.findOne({ email }).lean();
const refusals = () => AuditEventModel.find({ action: 'registration.refused' }).lean();

/** Creates an invitation on the Sites page and returns the token from the link shown once. */
async function invite(fields: Record<string, string>): Promise<string> {
  const res = await postForm(admin, '/admin/sites', `/admin/sites/${siteId}/invitations`, {
    _form: `invite-${siteId}`,
    email: '',
    domain: '',
    ...fields,
  });
  expect(res.status).toBe(303);
  const page = await admin.get('/admin/sites');
  const m = /\/s\/portal\/register\?invitation=([A-Za-z0-9_-]+)/.exec(page.text);
  expect(m).not.toBeNull();
  return m![1];
}

describe('the policy on the Sites page', () => {
  it('saves mode, domains (normalised, subdomain rule explained) and the disposable switches, and audits the change', async () => {
    const res = await postForm(admin, '/admin/sites', `/admin/sites/${siteId}/registration-policy`, {
      _form: `policy-${siteId}`,
      mode: 'invite-only',
      allowedDomains: '@Example.COM\nexample.com, partner.org.',
      blockedDomains: 'bad.example.com',
      blockDisposable: 'on',
      extraFieldsShown: '1',
    });
    expect(res.status).toBe(303);
    const site = await SiteModel.findOne({ slug: 'portal' }).lean();
    expect(site!.registrationPolicy).toMatchObject({
      mode: 'invite-only',
      allowedDomains: ['example.com', 'partner.org'],
      blockedDomains: ['bad.example.com'],
      blockDisposable: true,
      allowPrivacyRelays: false,
    });
    const audit = await AuditEventModel.findOne({ action: 'site.registration_policy_changed' }).sort({ at: -1 }).lean();
    expect(audit!.after).toMatchObject({ mode: 'invite-only', allowedDomains: ['example.com', 'partner.org'] });
    const page = await admin.get('/admin/sites');
    expect(page.text).toContain('example.com also allows its subdomains');
  });

  it('refuses a list with something that is not a domain, naming it, and saves nothing', async () => {
    const res = await postForm(admin, '/admin/sites', `/admin/sites/${siteId}/registration-policy`, {
      _form: `policy-${siteId}`,
      mode: 'open',
      allowedDomains: 'example.com\nnot a domain!',
      blockedDomains: '',
    });
    expect(res.status).toBe(422);
    expect(res.text).toContain('These are not domains: not, a, domain!.');
    expect((await SiteModel.findOne({ slug: 'portal' }).lean())!.registrationPolicy!.allowedDomains).toEqual([]);
  });
});

describe('open, closed', () => {
  it('open: anyone registers', async () => {
    const res = await register('ada@anywhere.example');
    expect(res.status).toBe(201);
    expect(await userWith('ada@anywhere.example')).not.toBeNull();
  });

  it('closed: the page and the form say so and what to do, nothing is written, the attempt is audited', async () => {
    await setPolicy({ mode: 'closed' });
    const page = await request(t.app).get('/s/portal/register');
    expect(page.status).toBe(403);
    expect(page.text).toContain(
      'Registration on this site is closed. If you need an account, ask the site owner to create one for you.',
    );
    expect(page.text).not.toContain('name="password"');
    // A form loaded before the site closed is refused too.
    await setPolicy({ mode: 'open' });
    const agent = request.agent(t.app);
    const form = await agent.get('/s/portal/register');
    await setPolicy({ mode: 'closed' });
    const res = await agent
      .post('/s/portal/register')
      .type('form')
      .send({
        altcha: await solvedPow(agent),
        _csrf: csrfFrom(form.text),
        firstName: 'A',
        lastName: 'B',
        email: 'a@b.example',
        password: GOOD_PASSWORD,
      });
    expect(res.status).toBe(403);
    expect(res.text).toContain('Registration on this site is closed.');
    expect(await UserModel.countDocuments({ username: trusted({ $ne: 'admin@example.com' }) })).toBe(0);
    const audits = await refusals();
    expect(audits.map((a) => a.after)).toEqual([{ reason: 'registration_closed', emailDomain: 'b.example' }]);
  });

  it('says it in Japanese to a Japanese browser', async () => {
    await setPolicy({ mode: 'closed' });
    const page = await request(t.app).get('/s/portal/register').set('Accept-Language', 'ja');
    expect(page.text).toContain('このサイトでは現在登録を受け付けていません。');
  });
});

describe('allowed and blocked domains', () => {
  it('allowed: the domain and its subdomains register; another domain, or one that only ends alike, is refused beside the email field', async () => {
    await setPolicy({ allowedDomains: ['example.com'] });
    expect((await register('a@example.com')).status).toBe(201);
    expect((await register('b@mail.example.com')).status).toBe(201);
    for (const email of ['c@other.org', 'd@badexample.com']) {
      const res = await register(email);
      expect(res.status).toBe(403);
      expect(res.text).toContain(
        'This site does not take addresses at this domain. Register with your work or organisation address, or ask the site owner.',
      );
      expect(res.text).toMatch(/id="f-email-error">This site does not take addresses at this domain/);
      // What was typed stays, so the person corrects the address only.
      expect(res.text).toContain(`value="${email}"`);
      expect(await userWith(email)).toBeNull();
    }
    expect((await refusals()).map((a) => (a.after as { emailDomain: string }).emailDomain)).toEqual([
      'other.org',
      'badexample.com',
    ]);
  });

  it('blocked: the domain and its subdomains are refused, even when also allowed', async () => {
    await setPolicy({ allowedDomains: ['example.com'], blockedDomains: ['contractors.example.com'] });
    expect((await register('x@contractors.example.com')).status).toBe(403);
    expect((await register('y@eu.contractors.example.com')).status).toBe(403);
    expect((await register('z@staff.example.com')).status).toBe(201);
    expect(await UserModel.countDocuments({ email: /contractors/ })).toBe(0);
  });

  it('answers an address that has an account exactly as a new one (same status and words), creating nothing', async () => {
    expect((await register('owner@blocked.example')).status).toBe(201);
    await setPolicy({ blockedDomains: ['blocked.example'] });
    const taken = await register('owner@blocked.example');
    const fresh = await register('newcomer@blocked.example');
    expect(taken.status).toBe(fresh.status);
    const strip = (html: string) =>
      html.replace(/name="(_csrf|powWait)" value="[^"]+"/g, '').replace(/(owner|newcomer)@/g, 'x@');
    expect(strip(taken.text)).toBe(strip(fresh.text));
    expect(await UserModel.countDocuments({ email: /blocked\.example$/ })).toBe(1);
  });
});

describe('disposable addresses', () => {
  it('off: a disposable address registers', async () => {
    expect((await register('temp@mailinator.com')).status).toBe(201);
  });

  it('on: a disposable address (or its subdomain) is refused with what to do; an ordinary one registers', async () => {
    await setPolicy({ blockDisposable: true });
    const res = await register('temp@mailinator.com');
    expect(res.status).toBe(403);
    expect(res.text).toContain(
      'This site does not take disposable addresses. Register with an address you will keep reading.',
    );
    expect(await userWith('temp@mailinator.com')).toBeNull();
    expect((await register('x@eu.mailinator.com')).status).toBe(403);
    expect((await register('ada@example.com')).status).toBe(201);
    expect((await refusals()).map((a) => (a.after as { reason: string }).reason)).toEqual([
      'disposable_address',
      'disposable_address',
    ]);
  });

  it('privacy relays: let through when the site says so, refused with the disposable ones when not', async () => {
    await setPolicy({ blockDisposable: true, allowPrivacyRelays: true });
    expect((await register('me@duck.com')).status).toBe(201);
    expect((await register('me@privaterelay.appleid.com')).status).toBe(201);
    await setPolicy({ blockDisposable: true, allowPrivacyRelays: false });
    expect((await register('you@duck.com')).status).toBe(403);
  });
});

describe('invite-only', () => {
  beforeEach(() => setPolicy({ mode: 'invite-only' }));

  it('without an invitation: the page and a forged post are refused with what to do, nothing written', async () => {
    const page = await request(t.app).get('/s/portal/register');
    expect(page.status).toBe(403);
    expect(page.text).toContain(
      'This site is by invitation only. Open the link in your invitation, or ask the site owner for one.',
    );
    const res = await register('ada@example.com', { invitation: 'x'.repeat(43) });
    expect(res.status).toBe(403);
    expect(res.text).toContain('This invitation link is not valid any more');
    expect(await userWith('ada@example.com')).toBeNull();
  });

  it('by address: only that address registers, once; the link is then used up', async () => {
    const token = await invite({ email: 'Grace@Example.com' });
    const form = await request(t.app).get(`/s/portal/register?invitation=${token}`);
    expect(form.status).toBe(200);
    expect(form.text).toContain(`<input type="hidden" name="invitation" value="${token}">`);
    const other = await register('mallory@example.com', { invitation: token });
    expect(other.status).toBe(403);
    expect(other.text).toContain(
      'Your invitation is for another address. Register with the address it was sent to, or ask the site owner for a new one.',
    );
    expect(await userWith('mallory@example.com')).toBeNull();
    expect((await register('grace@example.com', { invitation: token })).status).toBe(201);
    const user = await userWith('grace@example.com');
    const inv = await RegistrationInvitationModel.findOne({ email: 'grace@example.com' }).lean();
    expect(inv!.usedBy).toEqual(user!._id);
    const again = await register('grace@example.com', { invitation: token });
    expect(again.status).toBe(403);
    expect(again.text).toContain('This invitation link is not valid any more (used, expired or withdrawn).');
    expect((await refusals()).map((a) => (a.after as { reason: string }).reason)).toEqual([
      'invitation_other_address',
      'invitation_invalid',
    ]);
  });

  it('by domain: every address at the domain or a subdomain registers with the one link; another domain is refused', async () => {
    const token = await invite({ domain: 'acme.example' });
    expect((await register('one@acme.example', { invitation: token })).status).toBe(201);
    expect((await register('two@eu.acme.example', { invitation: token })).status).toBe(201);
    expect((await register('three@acme.example.org', { invitation: token })).status).toBe(403);
    expect(await UserModel.countDocuments({ email: /acme/ })).toBe(2);
    expect((await RegistrationInvitationModel.findOne({ domain: 'acme.example' }).lean())!.usedAt).toBeNull();
  });

  it('a withdrawn invitation no longer works', async () => {
    const token = await invite({ email: 'kate@example.com' });
    const inv = (await RegistrationInvitationModel.findOne({ email: 'kate@example.com' }).lean())!;
    expect(
      (await postForm(admin, '/admin/sites', `/admin/sites/${siteId}/invitations/${inv._id}/revoke`, {})).status,
    ).toBe(303);
    const res = await register('kate@example.com', { invitation: token });
    expect(res.status).toBe(403);
    expect(await userWith('kate@example.com')).toBeNull();
    expect(await AuditEventModel.countDocuments({ action: 'site.registration_invitation_revoked' })).toBe(1);
  });

  it('an invitation needs exactly one of address or domain, and keeps only the hash of its link', async () => {
    const res = await postForm(admin, '/admin/sites', `/admin/sites/${siteId}/invitations`, {
      _form: `invite-${siteId}`,
      email: 'a@example.com',
      domain: 'example.com',
    });
    expect(res.status).toBe(422);
    expect(res.text).toContain('Enter either one address or one domain.');
    expect(await RegistrationInvitationModel.countDocuments()).toBe(0);
    const token = await invite({ email: 'b@example.com' });
    const stored = await RegistrationInvitationModel.findOne().lean();
    expect(JSON.stringify(stored)).not.toContain(token);
  });
});

describe('extra sign-up fields', () => {
  async function registerWith(fields: Record<string, string>) {
    const agent = request.agent(t.app);
    const form = await agent.get('/s/portal/register');
    return agent
      .post('/s/portal/register')
      .type('form')
      .send({
        altcha: await solvedPow(agent),
        _csrf: csrfFrom(form.text),
        firstName: 'Ada',
        lastName: 'Lovelace',
        email: 'ada@example.com',
        password: GOOD_PASSWORD,
        ...fields,
      });
  }
  const askCompanyThenPhone = () =>
    postForm(admin, '/admin/sites', `/admin/sites/${siteId}/registration-policy`, {
      _form: `policy-${siteId}`,
      mode: 'open',
      allowedDomains: '',
      blockedDomains: '',
      extraFieldsShown: '1',
      extra_phone: 'required',
      order_phone: '2',
      extra_companyName: 'optional',
      order_companyName: '1',
      extra_localeSidKey: 'off',
      extra_timeZoneSidKey: 'off',
    });

  it("are chosen on the Sites page, in the admin's order, each required or optional", async () => {
    expect((await askCompanyThenPhone()).status).toBe(303);
    const site = await SiteModel.findOne({ slug: 'portal' }).lean();
    expect(site!.registrationPolicy!.extraFields).toEqual([
      { field: 'companyName', required: false },
      { field: 'phone', required: true },
    ]);
  });

  it('are shown on the form after the password, in that order, the optional one marked', async () => {
    await askCompanyThenPhone();
    const page = await request(t.app).get('/s/portal/register');
    const at = (s: string) => page.text.indexOf(s);
    expect(at('<label for="f-companyName">Company (optional)</label>')).toBeGreaterThan(
      at('<label for="f-passwordConfirm">'),
    );
    expect(at('<label for="f-phone">Phone</label>')).toBeGreaterThan(at('<label for="f-companyName">'));
    expect(page.text).toContain('autocomplete="tel"');
    const ja = await request(t.app).get('/s/portal/register').set('Accept-Language', 'ja');
    expect(ja.text).toContain('<label for="f-companyName">会社名 (任意)</label>');
  });

  it('a missing required field or a malformed one is reported with the others, and nothing is written', async () => {
    await askCompanyThenPhone();
    const missing = await registerWith({ companyName: 'Analytical Engines', lastName: '' });
    expect(missing.status).toBe(422);
    expect(missing.text).toMatch(
      /<li><a href="#f-lastName">[^<]+<\/a><\/li><li><a href="#f-phone">Enter your phone number\.<\/a><\/li>/,
    );
    // What was typed is kept.
    expect(missing.text).toContain('value="Analytical Engines"');
    const malformed = await registerWith({ phone: 'call me maybe' });
    expect(malformed.status).toBe(422);
    expect(malformed.text).toContain('Enter a phone number with digits, like +81 3 1234 5678.');
    expect(await UserModel.countDocuments({ email: 'ada@example.com' })).toBe(0);
  });

  it('are stored on the user; an optional one left empty is not set', async () => {
    await askCompanyThenPhone();
    expect((await registerWith({ phone: '+44 20 7946 0000', companyName: '' })).status).toBe(201);
    const user = await UserModel.findOne({ email: 'ada@example.com' }).lean();
    expect(user!.phone).toBe('+44 20 7946 0000');
    expect(user).not.toHaveProperty('companyName');
  });

  it('a time zone asked as a field is a list and is stored; fields the site does not ask are ignored', async () => {
    await SiteModel.updateOne(
      { slug: 'portal' },
      { $set: { 'registrationPolicy.extraFields': [{ field: 'timeZoneSidKey', required: true }] } },
    );
    const page = await request(t.app).get('/s/portal/register');
    expect(page.text).toMatch(/<select id="f-timeZoneSidKey" name="timeZoneSidKey"/);
    expect(
      (await registerWith({ timeZoneSidKey: 'Asia/Tokyo', phone: '+81 3 1234 5678', companyName: 'Sneaky' })).status,
    ).toBe(201);
    const user = await UserModel.findOne({ email: 'ada@example.com' }).lean();
    expect(user!.timeZoneSidKey).toBe('Asia/Tokyo');
    expect(user).not.toHaveProperty('phone');
    expect(user).not.toHaveProperty('companyName');
  });
});
