/**
 * Invitations: users created without a password through the API, SCIM or a bulk job are mailed a
 * set-password link unless the request declines; admins resend it (page and API); accepting it sets the
 * password, verifies the email and signs in. The admin "Reset password" mails a reset link.
 */
import request from 'supertest';
import { startTestApp, type TestApp } from '../../helpers/app';
import { adminAgent, makeAdmin } from '../../helpers/admin';
import { csrfFrom, postForm } from '../../helpers/forms';
import { adminToken, staffToken } from '../api/tokens';
import { deliverToOutbox, linkIn, mailTo, tokenOf } from '../../helpers/mail';
import { ActionTokenModel, AuditEventModel, ProfileModel, UserModel } from '../../../src/data/models';
import { processAvailableJobs } from '../../../src/ingest/ingest-worker';
import { SCIM } from '../../../src/scim/schemas';

let t: TestApp;
let token: string;
let ei: string;
beforeAll(async () => {
  t = await startTestApp('lifecycle-invitations');
  token = (await adminToken()).token;
  await makeAdmin();
  ei = String((await ProfileModel.findOne({ name: 'External Identity User' }).lean())!._id);
});
afterAll(() => t.stop());

const api = (method: 'get' | 'post' | 'put' | 'patch', path: string, tk = token) =>
  request(t.app)[method](`/api${path}`).set('Authorization', `Bearer ${tk}`);
const createViaApi = (body: Record<string, unknown>) =>
  api('post', '/v1/users').send({ lastName: 'Invited', profileId: ei, ...body });
const PASSWORD = 'welcome-garden-falcon-37';

describe('POST /api/v1/users', () => {
  it('mails an invitation to a user created without a password, valid INVITE_TOKEN_HOURS', async () => {
    const before = Date.now();
    const res = await createViaApi({ firstName: 'Ivy', email: 'ivy@example.com' });
    expect(res.status).toBe(201);
    const mails = await mailTo('ivy@example.com');
    expect(mails.map((m) => m.subject)).toEqual(['You are invited: set your password']);
    expect(mails[0].text).toContain('Hello Ivy,');
    expect(mails[0].text).toContain('expires in 3 days');
    expect(await linkIn('ivy@example.com', /invited/)).toMatch(/^\/s\/portal\/welcome\?token=[A-Za-z0-9_-]{43}$/);
    const tok = await ActionTokenModel.findOne({ user: res.body.id, purpose: 'invite' }).lean();
    expect(tok!.expiresAt.getTime() - before).toBeGreaterThanOrEqual(72 * 3_600_000 - 1000);
    expect(tok!.expiresAt.getTime() - before).toBeLessThan(72 * 3_600_000 + 60_000);
    expect(await AuditEventModel.countDocuments({ action: 'user.invitation_sent', 'target.id': tok!.user })).toBe(1);
  });

  it('sends none with "sendInvitation": false or with a password, and refuses a non-boolean', async () => {
    expect((await createViaApi({ email: 'quiet@example.com', sendInvitation: false })).status).toBe(201);
    expect((await createViaApi({ email: 'haspw@example.com', password: PASSWORD })).status).toBe(201);
    const bad = await createViaApi({ email: 'bad-flag@example.com', sendInvitation: 'yes' });
    expect(bad.status).toBe(400);
    expect(bad.body.error.fields.sendInvitation).toBe('Send true or false.');
    expect(await UserModel.exists({ username: 'bad-flag@example.com' })).toBeNull();
    for (const to of ['quiet@example.com', 'haspw@example.com', 'bad-flag@example.com'])
      expect(await mailTo(to)).toHaveLength(0);
  });
});

describe('accepting an invitation', () => {
  it('sets the password, verifies the email and signs in; the link then is spent', async () => {
    await createViaApi({ firstName: 'Una', email: 'una@example.com' });
    const link = await linkIn('una@example.com', /invited/);
    const agent = request.agent(t.app);
    const form = await agent.get(link);
    expect(form.status).toBe(200);
    expect(form.text).toContain('<h1>Set your password</h1>');
    const res = await agent
      .post('/s/portal/welcome')
      .type('form')
      .send({ _csrf: csrfFrom(form.text), token: tokenOf(link), password: PASSWORD, passwordConfirm: PASSWORD });
    expect(res.status).toBe(303);
    expect((await agent.get('/s/portal/')).text).toContain('Welcome, Una!');
    const user = await UserModel.findOne({ username: 'una@example.com' }).lean();
    expect(user!.emailVerifiedAt).toBeInstanceOf(Date);
    expect(await AuditEventModel.countDocuments({ action: 'user.invitation_accepted', 'target.id': user!._id })).toBe(
      1,
    );
    expect((await request(t.app).get(link)).status).toBe(410);
    // A reset link is not an invitation link, nor the other way round.
    expect((await request(t.app).get(link.replace('/welcome', '/reset'))).status).toBe(404);
  });
});

describe('sending it again', () => {
  it('POST /api/v1/users/{id}/invitation sends a new link that replaces the old one', async () => {
    const created = await createViaApi({ email: 'again@example.com' });
    const first = await linkIn('again@example.com', /invited/);
    const res = await api('post', `/v1/users/${created.body.id}/invitation`);
    expect(res.status).toBe(202);
    expect(res.body.id).toBe(created.body.id);
    expect(await mailTo('again@example.com')).toHaveLength(2);
    const second = await linkIn('again@example.com', /invited/);
    expect(second).not.toBe(first);
    expect((await request(t.app).get(first)).status).toBe(404);
    expect((await request(t.app).get(second)).status).toBe(200);
  });

  it('refuses users who have a password (409), are inactive (409), unknown (404), or out of the caller’s sight (404, like an unknown id)', async () => {
    const withPw = await createViaApi({ email: 'set@example.com', password: PASSWORD });
    const r1 = await api('post', `/v1/users/${withPw.body.id}/invitation`);
    expect(r1.status).toBe(409);
    expect(r1.body.error.code).toBe('password_already_set');
    const inactive = await createViaApi({ email: 'sleeping@example.com', isActive: false });
    expect(await mailTo('sleeping@example.com')).toHaveLength(0);
    expect((await api('post', `/v1/users/${inactive.body.id}/invitation`)).body.error.code).toBe('user_inactive');
    expect((await api('post', '/v1/users/0123456789abcdef01234567/invitation')).status).toBe(404);
    const weak = await staffToken('weak@example.com', ['manageInternalUsers']);
    const r4 = await api(
      'post',
      `/v1/users/${(await createViaApi({ email: 'target@example.com', sendInvitation: false })).body.id}/invitation`,
      weak.token,
    );
    // Staff without Manage Customer Users can't see a customer user: answered like an unknown id.
    expect(r4.status).toBe(404);
    expect(r4.body.error.message).toBe('No user has this id.');
    expect(await mailTo('target@example.com')).toHaveLength(0);
  });

  it('offers "Send invitation" on the admin user page of a user without a password', async () => {
    const created = await createViaApi({ email: 'page@example.com', sendInvitation: false });
    const admin = await adminAgent(t.app);
    const page = await admin.get(`/admin/users/${created.body.id}`);
    expect(page.text).toContain('<dd id="password-state">Not set (invited)</dd>');
    expect(page.text).toContain('>Send invitation</button>');
    expect(page.text).not.toContain('>Reset password</button>');
    const res = await postForm(
      admin,
      `/admin/users/${created.body.id}`,
      `/admin/users/${created.body.id}/invitation`,
      {},
    );
    expect(res.status).toBe(303);
    expect((await admin.get(`/admin/users/${created.body.id}`)).text).toContain(
      'An invitation to set a password was sent to page@example.com.',
    );
    expect(await mailTo('page@example.com')).toHaveLength(1);
  });
});

describe('SCIM and bulk', () => {
  it('invites a user provisioned by SCIM', async () => {
    const res = await request(t.app)
      .post('/scim/v2/Users')
      .set('Authorization', `Bearer ${token}`)
      .set('Content-Type', 'application/scim+json')
      .send(
        JSON.stringify({
          schemas: [SCIM.core, SCIM.extension],
          userName: 'scimmy@example.com',
          name: { givenName: 'Sky', familyName: 'Walker' },
          emails: [{ value: 'scimmy@example.com', primary: true }],
          [SCIM.extension]: { accountName: 'Invited Co' },
        }),
      );
    expect(res.status).toBe(201);
    expect((await mailTo('scimmy@example.com')).map((m) => m.template)).toEqual(['invitation']);
  });

  it('invites bulk rows unless SendInvitation is false, and fails a row with an unreadable value', async () => {
    const job = await api('post', '/v1/jobs/ingest').send({ object: 'User', operation: 'insert' });
    const csv = [
      'LastName,Email,ProfileId,SendInvitation',
      `Yes,bulk-yes@example.com,${ei},true`,
      `Blank,bulk-blank@example.com,${ei},`,
      `No,bulk-no@example.com,${ei},false`,
      `Odd,bulk-odd@example.com,${ei},maybe`,
    ].join('\n');
    expect(
      (await api('put', `/v1/jobs/ingest/${job.body.id}/batches`).set('Content-Type', 'text/csv').send(csv)).status,
    ).toBe(201);
    expect((await api('patch', `/v1/jobs/ingest/${job.body.id}`).send({ state: 'UploadComplete' })).status).toBe(200);
    expect(await processAvailableJobs({ owner: 'test-worker' })).toBe(1);
    const done = (await api('get', `/v1/jobs/ingest/${job.body.id}`)).body;
    expect(done).toMatchObject({ state: 'JobComplete', numberRecordsProcessed: 4, numberRecordsFailed: 1 });
    const failed = (await api('get', `/v1/jobs/ingest/${job.body.id}/failedResults`)).text;
    expect(failed).toContain('SendInvitation: Use true or false.');
    expect((await mailTo('bulk-yes@example.com')).map((m) => m.template)).toEqual(['invitation']);
    expect((await mailTo('bulk-blank@example.com')).map((m) => m.template)).toEqual(['invitation']);
    expect(await mailTo('bulk-no@example.com')).toHaveLength(0);
    expect(await UserModel.exists({ username: 'bulk-odd@example.com' })).toBeNull();
    const link = await linkIn('bulk-yes@example.com', /invited/);
    expect((await request(t.app).get(link)).status).toBe(200);
  });
});

describe('a staff member created in the admin area', () => {
  it('gets a set-password invitation instead of a temporary password, and signs in with the password they chose', async () => {
    await makeAdmin('creator@example.com');
    const agent = await adminAgent(t.app, 'creator@example.com');
    const internal = (await ProfileModel.findOne({ name: 'System Administrator' }).lean())!;
    const created = await postForm(agent, '/admin/users', '/admin/users', {
      firstName: 'New',
      lastName: 'Staff',
      email: 'new.staff@example.com',
      profileId: String(internal._id),
    });
    expect(created.status).toBe(303);
    const staff = (await UserModel.findOne({ username: 'new.staff@example.com' }).select('+passwordHash').lean())!;
    expect(staff.passwordHash ?? null).toBeNull();
    expect((await agent.get(created.headers.location)).text).toContain('created and invited');
    await deliverToOutbox();
    const link = await linkIn('new.staff@example.com', /./);
    expect(link).toMatch(/^\/admin\/welcome\?token=/);
  });
});
