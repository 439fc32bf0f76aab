/**
 * Terms and the consent ledger over HTTP: publishing versions, registration that requires accepting
 * the version in effect, a new version accepted at the next sign-in (two rows, the first unchanged),
 * the ledger refusing every change, its search and its CSV export.
 */
import request from 'supertest';
import { startTestApp, type TestApp } from '../../helpers/app';
import { csrfFrom, GOOD_PASSWORD, solvedPow, logIn, postForm } from '../../helpers/forms';
import { adminAgent, makeAdmin } from '../../helpers/admin';
import { AuditEventModel, ConsentModel, SiteModel, TermsVersionModel, UserModel } from '../../../src/data/models';
import mongoose, { trusted } from 'mongoose';
import { configureTermsClock } from '../../../src/registration';
import { pseudonymOf, sweepDueDeletions } from '../../../src/privacy';
import { secretFor } from '../../../src/config';

let t: TestApp;
let admin: request.Agent;
let siteId: string;
let now = new Date('2026-12-01T10:00:00Z');
beforeAll(async () => {
  t = await startTestApp('registration-terms');
  configureTermsClock(() => now);
  await makeAdmin();
  admin = await adminAgent(t.app);
  siteId = String((await SiteModel.findOne({ slug: 'portal' }).lean())!._id);
  await SiteModel.updateOne({ slug: 'portal' }, { $set: { selfRegistrationEnabled: true } });
});
afterAll(async () => {
  configureTermsClock();
  await t.stop();
});

const publish = (fields: Record<string, string>) =>
  postForm(admin, '/admin/terms', '/admin/terms', { siteId, ...fields });
const UA = 'Mozilla/5.0 (X11; Linux x86_64) Chrome/120.0 Safari/537.36';

async function register(email: string, fields: Record<string, string> = {}) {
  const agent = request.agent(t.app);
  const form = await agent.get('/s/portal/register');
  const version = /name="termsVersion" value="([0-9a-f]{24})"/.exec(form.text)?.[1] ?? '';
  const res = await agent
    .post('/s/portal/register')
    .set('User-Agent', UA)
    .type('form')
    .send({
      altcha: await solvedPow(agent),
      _csrf: csrfFrom(form.text),
      firstName: 'Ada',
      lastName: 'Lovelace',
      email,
      password: GOOD_PASSWORD,
      termsVersion: version,
      acceptTerms: 'on',
      ...fields,
    });
  return { agent, form, res };
}

describe('terms and the consent ledger', () => {
  it('admins publish a version; a version name is used once per site; both are audited or refused in words', async () => {
    const res = await publish({ version: '1.0', effectiveAt: '2026-11-01', text: 'Be kind.\nNo spam.' });
    expect(res.status).toBe(303);
    const page = await admin.get('/admin/terms');
    expect(page.text).toMatch(/<td data-label="Version">1\.0<\/td><td data-label="Takes effect">2026-11-01<\/td>/);
    expect(await AuditEventModel.countDocuments({ action: 'site.terms_published' })).toBe(1);
    const again = await publish({ version: '1.0', effectiveAt: '2026-11-02', text: 'Other' });
    expect(again.status).toBe(422);
    expect(again.text).toContain('This site already has a version with this name');
    const bad = await publish({ version: '', effectiveAt: 'next week', text: '' });
    expect(bad.status).toBe(422);
    expect(bad.text).toContain('Enter the date it takes effect as YYYY-MM-DD.');
    expect(await TermsVersionModel.countDocuments()).toBe(1);
  });

  it('registration shows the version in effect and refuses without acceptance, writing nothing', async () => {
    const form = await request(t.app).get('/s/portal/register');
    expect(form.text).toContain('Terms (version 1.0)');
    expect(form.text).toContain('Be kind.\nNo spam.');
    const { res } = await register('noaccept@example.com', { acceptTerms: '' });
    expect(res.status).toBe(422);
    expect(res.text).toMatch(/<a href="#f-acceptTerms">Accept the terms to register\.<\/a>/);
    expect(await UserModel.countDocuments({ email: 'noaccept@example.com' })).toBe(0);
    expect(await ConsentModel.countDocuments()).toBe(0);
  });

  it('registration records who accepted which version, when, from where and how', async () => {
    const { res } = await register('ada@example.com');
    expect(res.status).toBe(201);
    const user = await UserModel.findOne({ email: 'ada@example.com' }).lean();
    const rows = await ConsentModel.find().lean();
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      user: user!._id,
      username: 'ada@example.com',
      version: '1.0',
      how: 'registration',
      userAgent: UA,
    });
    expect(rows[0].ip).toMatch(/127\.0\.0\.1|::1/);
  });

  it('a new version takes effect: the person accepts it at their next sign-in before anything else, giving a second row and leaving the first as it was', async () => {
    const first = await ConsentModel.findOne().lean();
    expect((await publish({ version: '2.0', effectiveAt: '2026-12-05', text: 'Be kinder.' })).status).toBe(303);
    const agent = request.agent(t.app);
    // Before its date: nothing to accept.
    await logIn(agent, 'ada@example.com', GOOD_PASSWORD);
    expect((await agent.get('/s/portal/')).status).toBe(200);
    await agent
      .post('/s/portal/logout')
      .type('form')
      .send({ _csrf: csrfFrom((await agent.get('/s/portal/account')).text) });
    now = new Date('2026-12-05T00:00:01Z');
    const login = await logIn(agent, 'ada@example.com', GOOD_PASSWORD);
    expect(login.status).toBe(303);
    const home = await agent.get('/s/portal/account');
    expect(home.status).toBe(303);
    expect(home.headers.location).toBe('/s/portal/terms/accept?returnTo=%2Fs%2Fportal%2Faccount');
    const page = await agent.get(home.headers.location);
    expect(page.text).toContain('The terms of this site changed: version 2.0 is in effect since');
    expect(page.text).toContain('Be kinder.');
    const version = /name="termsVersion" value="([0-9a-f]{24})"/.exec(page.text)![1];
    // Not ticked: the page again, saying what to do; nothing recorded.
    const unticked = await agent
      .post('/s/portal/terms/accept')
      .type('form')
      .send({ _csrf: csrfFrom(page.text), termsVersion: version, returnTo: '/s/portal/account' });
    expect(unticked.headers.location).toContain('unticked=1');
    expect((await agent.get(unticked.headers.location)).text).toContain(
      'Tick the box to accept the terms, or sign out.',
    );
    expect(await ConsentModel.countDocuments()).toBe(1);
    const accepted = await agent
      .post('/s/portal/terms/accept')
      .set('User-Agent', UA)
      .type('form')
      .send({ _csrf: csrfFrom(page.text), termsVersion: version, returnTo: '/s/portal/account', accept: 'on' });
    expect(accepted.headers.location).toBe('/s/portal/account');
    expect((await agent.get('/s/portal/account')).status).toBe(200);
    const rows = await ConsentModel.find().sort({ acceptedAt: 1 }).lean();
    expect(rows.map((r) => [r.version, r.how])).toEqual([
      ['1.0', 'registration'],
      ['2.0', 're-accept'],
    ]);
    expect(rows[1].acceptedAt).toEqual(now);
    expect(rows[0]).toEqual(first);
  });

  it('a form opened before a new version took effect is refused: the new version is shown to accept', async () => {
    now = new Date('2026-12-06T00:00:00Z');
    const agent = request.agent(t.app);
    const form = await agent.get('/s/portal/register');
    const old = /name="termsVersion" value="([0-9a-f]{24})"/.exec(form.text)![1];
    await publish({ version: '3.0', effectiveAt: '2026-12-06', text: 'Version three.' });
    const res = await agent
      .post('/s/portal/register')
      .type('form')
      .send({
        altcha: await solvedPow(agent),
        _csrf: csrfFrom(form.text),
        firstName: 'Late',
        lastName: 'Comer',
        email: 'late@example.com',
        password: GOOD_PASSWORD,
        termsVersion: old,
        acceptTerms: 'on',
      });
    expect(res.status).toBe(422);
    expect(res.text).toContain('The terms changed while you were registering: read the new version and accept it.');
    expect(res.text).toContain('Version three.');
    expect(await UserModel.countDocuments({ email: 'late@example.com' })).toBe(0);
  });

  it('the ledger refuses every update and delete', async () => {
    const before = await ConsentModel.find().lean();
    await expect(ConsentModel.updateOne({ version: '1.0' }, { $set: { version: 'x' } })).rejects.toThrow('append-only');
    await expect(ConsentModel.deleteMany({})).rejects.toThrow('append-only');
    await expect(ConsentModel.findOneAndDelete({})).rejects.toThrow('append-only');
    const doc = await ConsentModel.findOne();
    doc!.version = 'changed';
    await expect(doc!.save()).rejects.toThrow('append-only');
    expect(await ConsentModel.find().lean()).toEqual(before);
  });

  it('admins search the ledger by user, version and date', async () => {
    await register('grace@example.com');
    const byUser = await admin.get('/admin/consents?user=ADA@example.com');
    expect((byUser.text.match(/<td data-label="User">ada@example\.com<\/td>/g) ?? []).length).toBe(2);
    expect(byUser.text).not.toContain('grace@example.com');
    const byVersion = await admin.get('/admin/consents?version=3.0');
    expect(byVersion.text).toContain('grace@example.com');
    expect(byVersion.text).not.toContain('<td data-label="User">ada@example.com');
    const byDate = await admin.get('/admin/consents?from=2026-12-05&to=2026-12-05');
    expect(byDate.text).toMatch(/<td data-label="Version">2\.0<\/td><td data-label="How">re-accept<\/td>/);
    expect(byDate.text).not.toContain('grace@example.com');
    const badDate = await admin.get('/admin/consents?from=2026-13-01');
    expect(badDate.status).toBe(400);
  });

  it('exports the ledger as CSV: a header, then every matching row, newest first', async () => {
    const res = await admin.get('/admin/consents.csv?user=ada@example.com');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/csv/);
    expect(res.headers['content-disposition']).toContain('consent-ledger.csv');
    const lines = res.text.trim().split('\n');
    expect(lines[0]).toBe('acceptedAt,username,userId,siteId,version,termsVersionId,how,ip,userAgent');
    expect(lines).toHaveLength(3);
    const user = await UserModel.findOne({ email: 'ada@example.com' }).lean();
    expect(lines[1]).toMatch(
      new RegExp(`^2026-12-05T00:00:01.000Z,ada@example.com,${user!._id},${siteId},2.0,[0-9a-f]{24},re-accept,`),
    );
    expect(lines[2]).toContain(',1.0,');
    expect(lines[2]).toContain(',registration,');
  });

  it("a person's export lists the terms they accepted: version, when, from where", async () => {
    const { res } = await register('erin@example.com');
    expect(res.status).toBe(201);
    const agent = request.agent(t.app);
    await logIn(agent, 'erin@example.com', GOOD_PASSWORD);
    const exported = await postForm(agent, '/s/portal/account', '/s/portal/account/export', {});
    expect(exported.status).toBe(200);
    const data = JSON.parse(exported.text) as { consents: Record<string, unknown>[] };
    expect(data.consents).toHaveLength(1);
    expect(data.consents[0]).toMatchObject({
      site: 'portal',
      version: '3.0',
      how: 'registration',
      acceptedAt: '2026-12-06T00:00:00.000Z',
      userAgent: UA,
    });
    expect(String(data.consents[0].ip)).toMatch(/127\.0\.0\.1|::1/);
  });

  it('erasure keeps the rows under the pseudonym, naming the person nowhere; every other change is still refused', async () => {
    const user = (await UserModel.findOne({ email: 'erin@example.com' }).lean())!;
    const v3Before = await ConsentModel.countDocuments({ version: '3.0' });
    const othersBefore = await ConsentModel.find({ username: trusted({ $ne: 'erin@example.com' }) }).lean();
    const agent = request.agent(t.app);
    await logIn(agent, 'erin@example.com', GOOD_PASSWORD);
    const asked = await postForm(agent, '/s/portal/account', '/s/portal/account/delete', {
      deletePassword: GOOD_PASSWORD,
    });
    expect(asked.status).toBe(202);
    const settings = { ...t.config.deletion, pseudonymKey: secretFor(t.config, 'audit-pseudonym') };
    const later = () => new Date(Date.now() + t.config.deletion.graceMs + 60_000);
    expect(await sweepDueDeletions(settings, { now: later })).toBe(1);

    // The collection itself, below the model: no row names the person by id, address or origin.
    const raw = await mongoose.connection.db!.collection('consents').find({}).toArray();
    const text = JSON.stringify(raw);
    expect(text).not.toContain(String(user._id));
    expect(text).not.toContain('erin@example.com');
    const pseudonym = pseudonymOf(user._id, settings.pseudonymKey);
    const theirs = raw.filter((r) => r.username === pseudonym);
    expect(theirs).toHaveLength(1);
    expect(theirs[0]).toMatchObject({ user: null, version: '3.0', how: 'registration', ip: null, userAgent: null });
    // Still counted for its version; everybody else's rows exactly as they were.
    expect(await ConsentModel.countDocuments({ version: '3.0' })).toBe(v3Before);
    expect(await ConsentModel.find({ username: trusted({ $ne: pseudonym }) }).lean()).toEqual(othersBefore);

    // The search and the CSV show the pseudonym, never the address.
    const search = await admin.get('/admin/consents?version=3.0');
    expect(search.text).toContain(pseudonym);
    expect(search.text).not.toContain('erin@example.com');
    const csv = await admin.get('/admin/consents.csv?version=3.0');
    expect(csv.text).toContain(`,${pseudonym},,${siteId},3.0,`);
    expect(csv.text).not.toContain('erin@example.com');

    // The exception is that one writer: an ordinary change of the pseudonymised row is still refused.
    await expect(ConsentModel.updateOne({ username: pseudonym }, { $set: { username: 'x' } })).rejects.toThrow(
      'append-only',
    );
    await expect(ConsentModel.deleteOne({ username: pseudonym })).rejects.toThrow('append-only');
    expect(await ConsentModel.countDocuments({ username: pseudonym })).toBe(1);
  });
});

describe('in the guest language', () => {
  afterAll(() =>
    SiteModel.updateOne({ slug: 'portal' }, { $set: { 'registrationPolicy.extraFields': [] } }).then(() => undefined),
  );

  it('a Japanese registration page missing a required extra field and the terms says both in Japanese', async () => {
    await SiteModel.updateOne(
      { slug: 'portal' },
      { $set: { 'registrationPolicy.extraFields': [{ field: 'phone', required: true }] } },
    );
    const agent = request.agent(t.app);
    const form = await agent.get('/s/portal/register').set('Accept-Language', 'ja');
    const version = /name="termsVersion" value="([0-9a-f]{24})"/.exec(form.text)![1];
    const res = await agent
      .post('/s/portal/register')
      .set('Accept-Language', 'ja')
      .type('form')
      .send({
        altcha: await solvedPow(agent),
        _csrf: csrfFrom(form.text),
        firstName: 'Hanako',
        lastName: 'Yamada',
        email: 'hanako@example.com',
        password: GOOD_PASSWORD,
        termsVersion: version,
      });
    expect(res.status).toBe(422);
    // Beside each field and in the summary at the top.
    expect(res.text).toMatch(/id="f-phone-error">電話番号を入力してください。/);
    expect(res.text).toMatch(/id="f-acceptTerms-error">登録するには利用規約に同意してください。/);
    expect(res.text).toContain('<a href="#f-phone">電話番号を入力してください。</a>');
    expect(res.text).toContain('<a href="#f-acceptTerms">登録するには利用規約に同意してください。</a>');
    expect(res.text).not.toContain('Enter your phone number.');
    expect(res.text).not.toContain('Accept the terms to register.');
    expect(await UserModel.countDocuments({ email: 'hanako@example.com' })).toBe(0);
  });
});
