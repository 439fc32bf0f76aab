/**
 * Changing the email: the password is asked again; the new address gets a confirmation link and the old
 * one a notice; nothing changes until the link is used (once); the username follows only where the
 * site says so; a clash is reported at confirmation without changing anything.
 */
import request from 'supertest';
import { startTestApp, type TestApp } from '../../helpers/app';
import { makeAdmin } from '../../helpers/admin';
import { GOOD_PASSWORD, logIn, postForm, registerGuest } from '../../helpers/forms';
import { linkIn, mailTo, tokenOf } from '../../helpers/mail';
import { AuditEventModel, SiteModel, UserModel } from '../../../src/data/models';
import { maskEmail } from '../../../src/account/email-change';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp('lifecycle-email-change', { env: { TRUST_PROXY: '1' } });
  await makeAdmin();
});
afterAll(() => t.stop());

const change = (agent: request.Agent, fields: Record<string, string | string[]>) =>
  postForm(agent, '/s/portal/account', '/s/portal/account/email', fields);
/** Confirms as the signed-in owner (`agent`): the page behind the link, then its button. */
const confirm = (agent: request.Agent, link: string) =>
  postForm(agent, '/s/portal/account', '/s/portal/confirm-email', { token: tokenOf(link) });

it('asks for the password, mails a link to the new address and a notice to the old; changes on confirmation only', async () => {
  const { agent } = await registerGuest(t.app, { email: 'old@example.com' });
  const wrong = await change(agent, { newEmail: 'new@example.org', password: 'not-my-password' });
  expect(wrong.status).toBe(422);
  expect(wrong.text).toContain('Your current password is not correct.');
  expect(await mailTo('new@example.org')).toHaveLength(0);
  const bad = await change(agent, { newEmail: 'not-an-address', password: GOOD_PASSWORD });
  expect(bad.status).toBe(422);
  expect(bad.text).toContain('Enter a valid email address');
  const same = await change(agent, { newEmail: 'OLD@example.com', password: GOOD_PASSWORD });
  expect(same.text).toContain('This is already your email address.');
  expect((await change(agent, { newEmail: ['a@example.com', 'b@example.com'], password: GOOD_PASSWORD })).status).toBe(
    422,
  );
  expect((await change(agent, { newEmail: `${'x'.repeat(300)}@example.com`, password: GOOD_PASSWORD })).status).toBe(
    422,
  );

  const ok = await change(agent, { newEmail: 'New@Example.org', password: GOOD_PASSWORD });
  expect(ok.status).toBe(303);
  expect((await agent.get('/s/portal/account?saved=email')).text).toContain('We sent a link to your new address.');
  const notice = (await mailTo('old@example.com')).find((m) => m.template === 'email-changed-notice')!;
  expect(notice.text).toContain(`to ${maskEmail('new@example.org')}`);
  expect(notice.text).not.toContain('new@example.org');
  expect(notice.text).not.toMatch(/token=/);
  const user = await UserModel.findOne({ username: 'old@example.com' }).lean();
  expect(user!.email).toBe('old@example.com');

  const link = await linkIn('new@example.org', /Confirm your new email/);
  expect(link).toMatch(/^\/s\/portal\/confirm-email\?token=/);
  expect((await agent.get(link)).text).toContain(
    'Make <strong>new@example.org</strong> the email address of your account?',
  );
  const done = await confirm(agent, link);
  expect(done.status).toBe(200);
  expect(done.text).toContain('Your email address is now <strong>new@example.org</strong>.');
  const after = await UserModel.findById(user!._id).lean();
  // "Your email is your username": by default the username follows the confirmed address.
  expect(after).toMatchObject({ email: 'new@example.org', username: 'new@example.org' });
  expect(after!.emailVerifiedAt).toBeInstanceOf(Date);
  // The admin search follows the new address (its terms are rewritten with the change).
  const terms = (await UserModel.findById(user!._id).select('+searchTerms').lean())!.searchTerms as string[];
  expect(terms).toContain('new@example.org');
  expect(await AuditEventModel.findOne({ action: 'user.email_changed', 'target.id': user!._id }).lean()).toMatchObject({
    before: { email: 'old@example.com', username: 'old@example.com' },
    after: { email: 'new@example.org', username: 'new@example.org' },
  });
  expect((await confirm(agent, link)).status).toBe(410);
  // The person signs in with the new address; the old one names nobody any more.
  const signedIn = request.agent(t.app);
  expect((await logIn(signedIn, 'new@example.org', GOOD_PASSWORD, '10.5.0.1')).status).toBe(303);
  expect((await signedIn.get('/s/portal/')).text).toContain('as <strong>new@example.org</strong>');
  expect((await logIn(request.agent(t.app), 'old@example.com', GOOD_PASSWORD, '10.5.0.1')).status).toBe(401);
});

describe('where the site keeps usernames as they are', () => {
  beforeAll(() => SiteModel.updateOne({ slug: 'portal' }, { $set: { usernameFollowsEmail: false } }));
  afterAll(() => SiteModel.updateOne({ slug: 'portal' }, { $set: { usernameFollowsEmail: true } }));

  it('changes only the email; the person signs in with the new address or the old username', async () => {
    const { agent } = await registerGuest(t.app, { email: 'stay@example.com' });
    await change(agent, { newEmail: 'moved@example.com', password: GOOD_PASSWORD });
    expect((await confirm(agent, await linkIn('moved@example.com', /Confirm your new email/))).status).toBe(200);
    expect(await UserModel.exists({ username: 'stay@example.com', email: 'moved@example.com' })).not.toBeNull();
    expect((await logIn(request.agent(t.app), 'moved@example.com', GOOD_PASSWORD, '10.5.0.2')).status).toBe(303);
    expect((await logIn(request.agent(t.app), 'stay@example.com', GOOD_PASSWORD, '10.5.0.2')).status).toBe(303);
  });
});

it("refuses at confirmation an address that is another account's email (one address, one account); the request tells nothing", async () => {
  await registerGuest(t.app, { email: 'taken@example.com' });
  const { agent } = await registerGuest(t.app, { email: 'clash@example.com' });
  const res = await change(agent, { newEmail: 'taken@example.com', password: GOOD_PASSWORD });
  expect(res.status).toBe(303);
  const link = await linkIn('taken@example.com', /Confirm your new email/);
  const refused = await confirm(agent, link);
  expect(refused.status).toBe(409);
  expect(refused.text).toContain(
    'This address belongs to another account, so it cannot become yours. Your email address was not changed.',
  );
  expect(await UserModel.exists({ username: 'clash@example.com', email: 'clash@example.com' })).not.toBeNull();
  expect(await UserModel.countDocuments({ email: 'taken@example.com' })).toBe(1);
});

it("keeps the username when the new address is another account's username, and changes the email", async () => {
  // An account whose username is an address it no longer uses as its email.
  const { agent: other } = await registerGuest(t.app, { email: 'was@example.com' });
  await SiteModel.updateOne({ slug: 'portal' }, { $set: { usernameFollowsEmail: false } });
  await change(other, { newEmail: 'now@example.com', password: GOOD_PASSWORD });
  expect((await confirm(other, await linkIn('now@example.com', /Confirm your new email/))).status).toBe(200);
  await SiteModel.updateOne({ slug: 'portal' }, { $set: { usernameFollowsEmail: true } });
  const { agent } = await registerGuest(t.app, { email: 'mover@example.com' });
  await change(agent, { newEmail: 'was@example.com', password: GOOD_PASSWORD });
  expect((await confirm(agent, await linkIn('was@example.com', /Confirm your new email/))).status).toBe(200);
  expect(await UserModel.exists({ username: 'mover@example.com', email: 'was@example.com' })).not.toBeNull();
  expect(await UserModel.exists({ username: 'was@example.com', email: 'now@example.com' })).not.toBeNull();
});

it('refuses forged, truncated and superseded links', async () => {
  const { agent } = await registerGuest(t.app, { email: 'twice@example.com' });
  await change(agent, { newEmail: 'first@example.com', password: GOOD_PASSWORD });
  const first = await linkIn('first@example.com', /Confirm your new email/);
  await change(agent, { newEmail: 'second@example.com', password: GOOD_PASSWORD });
  expect((await confirm(agent, first)).status).toBe(404);
  expect((await request(t.app).get(`/s/portal/confirm-email?token=${tokenOf(first).slice(0, 20)}`)).status).toBe(404);
  expect((await UserModel.findOne({ username: 'twice@example.com' }).lean())!.email).toBe('twice@example.com');
  // Signed out, the form is not there: the post goes to the login page, and nothing changes.
  const signedOut = await request(t.app)
    .post('/s/portal/account/email')
    .type('form')
    .send({ newEmail: 'x@example.com' });
  expect(signedOut.status).toBe(302);
  expect(signedOut.headers.location).toMatch(/^\/s\/portal\/login\?returnTo=/);
  expect((await UserModel.findOne({ username: 'twice@example.com' }).lean())!.email).toBe('twice@example.com');
});
