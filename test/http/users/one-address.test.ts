/**
 * Issue 26 item 2, one address one account, on every path that creates a user or changes an email:
 * admin create, API create and PATCH, bulk ingest rows, SCIM create/replace/patch (self-registration and
 * the email change have their own files). Each refusal writes nothing. Then what the rule buys: sign-in
 * by email, one reset link, and the migration that reports addresses shared from before.
 */
import request from 'supertest';
import mongoose from 'mongoose';
import { startTestApp, type TestApp } from '../../helpers/app';
import { adminToken } from '../api/tokens';
import { adminAgent, makeAdmin } from '../../helpers/admin';
import { GOOD_PASSWORD, logIn, postForm, registerGuest } from '../../helpers/forms';
import { mailTo } from '../../helpers/mail';
import { MigrationModel, ProfileModel, SiteModel, UserModel } from '../../../src/data/models';
import { processAvailableJobs } from '../../../src/ingest/ingest-worker';
import { SCIM } from '../../../src/scim/schemas';
import { claimEmailKeys } from '../../../src/data/migrations';
import { settleDetached } from '../../../src/shared/detached';

let t: TestApp;
let token: string;
let ei: string;
beforeAll(async () => {
  t = await startTestApp('api-one-address', { env: { TRUST_PROXY: '1' } });
  token = (await adminToken()).token;
  await makeAdmin();
  ei = String((await ProfileModel.findOne({ name: 'External Identity User' }).lean())!._id);
  await registerGuest(t.app, { email: 'owner@example.com', firstName: 'Olive' });
});
afterAll(() => t.stop());

const api = (method: 'post' | 'patch' | 'put' | 'get', path: string) =>
  request(t.app)[method](path).set('Authorization', `Bearer ${token}`);
const holders = (email: string) => UserModel.countDocuments({ email });

describe('every path that creates a user or changes an email refuses a taken address', () => {
  it('API create: 409 email_taken naming the field, whatever the case and the username, nothing written', async () => {
    const res = await api('post', '/api/v1/users').send({
      lastName: 'Copy',
      email: 'Owner@Example.com',
      username: 'copy@example.com',
    });
    expect(res.status).toBe(409);
    expect(res.body.error).toMatchObject({
      code: 'email_taken',
      fields: { email: 'Another account already uses this email address.' },
    });
    expect(await holders('owner@example.com')).toBe(1);
    expect(await UserModel.exists({ username: 'copy@example.com' })).toBeNull();
  });

  it('API create: of two concurrent creates of one address under different usernames, exactly one is made', async () => {
    const answers = await Promise.all(
      ['race-a', 'race-b', 'race-c'].map((u) =>
        api('post', '/api/v1/users').send({
          lastName: 'Race',
          email: 'race@example.com',
          username: `${u}@example.com`,
          sendInvitation: false,
        }),
      ),
    );
    expect(answers.map((a) => a.status).sort()).toEqual([201, 409, 409]);
    expect(await holders('race@example.com')).toBe(1);
  });

  it("API PATCH: another account's address is refused (409) and the user keeps theirs", async () => {
    const made = await api('post', '/api/v1/users').send({
      lastName: 'Patch',
      email: 'patch@example.com',
      sendInvitation: false,
    });
    const res = await api('patch', `/api/v1/users/${made.body.id}`).send({ email: 'OWNER@example.com' });
    expect(res.status).toBe(409);
    expect(res.body.error.code).toBe('email_taken');
    expect((await UserModel.findById(made.body.id).lean())!.email).toBe('patch@example.com');
    // Its own address in another case is no change, and not a clash with itself.
    expect((await api('patch', `/api/v1/users/${made.body.id}`).send({ email: 'Patch@Example.com' })).status).toBe(200);
  });

  it('admin create (New external user): the form again with the message on the email field, nothing created', async () => {
    const admin = await adminAgent(t.app);
    const portal = (await SiteModel.findOne({ slug: 'portal' }).lean())!;
    const res = await postForm(admin, '/admin/users', '/admin/users/external', {
      siteId: String(portal._id),
      firstName: 'O',
      lastName: 'Again',
      email: 'owner@example.com',
    });
    expect(res.status).toBe(409);
    expect(res.text).toContain('A user with this email already exists');
    expect(await holders('owner@example.com')).toBe(1);
  });

  it('bulk ingest: a row with a taken address and the second of two rows sharing one fail with email_taken; the rest are created', async () => {
    const job = (await api('post', '/api/v1/jobs/ingest').send({ object: 'User', operation: 'insert' })).body as {
      id: string;
    };
    const csv = [
      'LastName,Email,Username,ProfileId',
      `Taken,owner@example.com,bulk-taken@example.com,${ei}`,
      `First,twin@example.com,twin1@example.com,${ei}`,
      `Second,TWIN@example.com,twin2@example.com,${ei}`,
      `Fine,fine.bulk@example.com,,${ei}`,
    ].join('\n');
    expect(
      (await api('put', `/api/v1/jobs/ingest/${job.id}/batches`).set('Content-Type', 'text/csv').send(csv)).status,
    ).toBe(201);
    expect((await api('patch', `/api/v1/jobs/ingest/${job.id}`).send({ state: 'UploadComplete' })).status).toBe(200);
    await processAvailableJobs({ owner: 'one-address-test' });
    const failed = (await api('get', `/api/v1/jobs/ingest/${job.id}/failedResults`).buffer(true)).text;
    expect(failed).toContain('bulk-taken@example.com');
    expect(failed).toContain('twin2@example.com');
    expect(failed.match(/email_taken|Another account already uses this email address/g)?.length).toBeGreaterThanOrEqual(
      2,
    );
    expect(await holders('owner@example.com')).toBe(1);
    expect(await holders('twin@example.com')).toBe(1);
    expect(await UserModel.exists({ username: 'fine.bulk@example.com' })).not.toBeNull();
  });

  describe('SCIM', () => {
    const scim = (method: 'post' | 'put' | 'patch', path: string, body: unknown) =>
      request(t.app)
        [method](`/scim/v2${path}`)
        .set('Authorization', `Bearer ${token}`)
        .set('Content-Type', 'application/scim+json')
        .send(JSON.stringify(body));
    const body = (userName: string, email: string) => ({
      schemas: [SCIM.core, SCIM.extension],
      userName,
      name: { givenName: 'Sky', familyName: 'Scim' },
      emails: [{ value: email, type: 'work', primary: true }],
      active: true,
      [SCIM.extension]: { accountName: 'Scim Co' },
    });

    it('create: 409 uniqueness for a taken address, nothing written (no user, no contact left)', async () => {
      const res = await scim('post', '/Users', body('scim-copy@example.com', 'owner@example.com'));
      expect(res.status).toBe(409);
      expect(JSON.parse(res.text)).toMatchObject({ scimType: 'uniqueness', status: '409' });
      expect(await UserModel.exists({ username: 'scim-copy@example.com' })).toBeNull();
      expect(await mongoose.connection.db!.collection('contacts').countDocuments({ email: 'owner@example.com' })).toBe(
        0,
      );
    });

    it("replace (PUT) and patch: another account's address is refused with 409 uniqueness, the user unchanged", async () => {
      const made = JSON.parse(
        (await scim('post', '/Users', body('scim-own@example.com', 'scim-own@example.com'))).text,
      ) as { id: string };
      const put = await scim('put', `/Users/${made.id}`, body('scim-own@example.com', 'owner@example.com'));
      expect(put.status).toBe(409);
      expect(JSON.parse(put.text).scimType).toBe('uniqueness');
      const patch = await scim('patch', `/Users/${made.id}`, {
        schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
        Operations: [{ op: 'replace', path: 'emails[type eq "work"].value', value: 'owner@example.com' }],
      });
      expect(patch.status).toBe(409);
      expect((await UserModel.findById(made.id).lean())!.email).toBe('scim-own@example.com');
    });
  });
});

describe('what one address per account buys', () => {
  it('signs in by email or by username, with the same answer for an unknown name and a wrong password, and one throttle count for both names', async () => {
    // A user whose username is not their address.
    const made = await api('post', '/api/v1/users').send({
      lastName: 'Both',
      email: 'both.mail@example.com',
      username: 'both.name@example.com',
      password: GOOD_PASSWORD,
      siteId: String((await SiteModel.findOne({ slug: 'portal' }).lean())!._id),
      profileId: ei,
    });
    expect(made.status).toBe(201);
    expect((await logIn(request.agent(t.app), 'Both.Mail@example.com', GOOD_PASSWORD, '198.51.100.9')).status).toBe(
      303,
    );
    expect((await logIn(request.agent(t.app), 'both.name@example.com', GOOD_PASSWORD, '198.51.100.9')).status).toBe(
      303,
    );
    const wrong = await logIn(request.agent(t.app), 'both.mail@example.com', 'not-the-password-at-all', '198.51.100.9');
    const unknown = await logIn(request.agent(t.app), 'nobody@example.com', 'not-the-password-at-all', '198.51.100.9');
    expect(wrong.status).toBe(401);
    expect(unknown.status).toBe(401);
    const alertOf = (html: string) => /role="alert"[^>]*>([^<]+)</.exec(html)?.[1];
    expect(alertOf(wrong.text)).toBe(alertOf(unknown.text));
    // Alternating the two names gives no extra guesses: they share the account's count.
    for (let i = 0; i < 2; i++)
      await logIn(request.agent(t.app), 'both.name@example.com', 'not-the-password-at-all', '198.51.100.9');
    for (let i = 0; i < 2; i++)
      await logIn(request.agent(t.app), 'both.mail@example.com', 'not-the-password-at-all', '198.51.100.9');
    expect((await logIn(request.agent(t.app), 'both.name@example.com', GOOD_PASSWORD, '198.51.100.9')).status).toBe(
      429,
    );
  });

  it("mails one reset link for an address, even where another account's username is that address", async () => {
    // "shadow@" is the username of one account and the email of another.
    await api('post', '/api/v1/users').send({
      lastName: 'Shadow',
      email: 'shadow.mail@example.com',
      username: 'shadow@example.com',
      sendInvitation: false,
      profileId: ei,
    });
    await api('post', '/api/v1/users').send({
      lastName: 'Other',
      email: 'shadow@example.com',
      username: 'other.shadow@example.com',
      sendInvitation: false,
      profileId: ei,
    });
    const before = (await mailTo('shadow@example.com')).length + (await mailTo('shadow.mail@example.com')).length;
    expect(
      (await postForm(request.agent(t.app), '/s/portal/forgot', '/s/portal/forgot', { email: 'shadow@example.com' }))
        .status,
    ).toBe(200);
    // The mail is queued after the answer: wait for that work to finish.
    await settleDetached();
    const after = (await mailTo('shadow@example.com')).length + (await mailTo('shadow.mail@example.com')).length;
    expect(after - before).toBe(1);
    // The one link goes to the account whose username the address is (the username wins, as at sign-in).
    expect((await mailTo('shadow.mail@example.com')).filter((m) => m.template === 'password-reset')).toHaveLength(1);
  });

  it('the migration gives the key to the oldest holder of a shared address and reports the others, without failing', async () => {
    // Two users sharing an address, as before the rule (written around the model's guards).
    const now = new Date();
    const base = {
      lastName: 'Legacy',
      alias: 'legacy',
      localeSidKey: 'en_US',
      languageLocaleKey: 'en_US',
      timeZoneSidKey: 'GMT',
      emailEncodingKey: 'UTF-8',
      userType: 'customer',
      isActive: true,
      createdAt: now,
      updatedAt: now,
    };
    const profile = (await ProfileModel.findById(ei).lean())!;
    await UserModel.collection.insertMany([
      {
        ...base,
        email: 'shared@example.com',
        username: 'shared-1@example.com',
        communityNickname: 'shared1',
        profile: profile._id,
        license: profile.license,
      },
      {
        ...base,
        email: 'shared@example.com',
        username: 'shared-2@example.com',
        communityNickname: 'shared2',
        profile: profile._id,
        license: profile.license,
      },
    ]);
    const report = await claimEmailKeys();
    expect(report.sharedAddresses).toEqual([
      { email: 'shared@example.com', kept: 'shared-1@example.com', others: ['shared-2@example.com'] },
    ]);
    const keys = await UserModel.find({ email: 'shared@example.com' })
      .select('username +emailKey')
      .sort({ username: 1 })
      .lean();
    expect(keys.map((u) => u.emailKey ?? null)).toEqual(['shared@example.com', null]);
    // Idempotent, and the rule now holds for that address too.
    expect((await claimEmailKeys()).sharedAddresses).toHaveLength(1);
    expect(
      (
        await api('post', '/api/v1/users').send({
          lastName: 'Third',
          email: 'shared@example.com',
          username: 'shared-3@example.com',
        })
      ).status,
    ).toBe(409);
    expect(await MigrationModel.exists({ _id: '2027-01-one-account-per-email' })).not.toBeNull();
  });
});
