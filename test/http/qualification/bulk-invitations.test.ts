/**
 * "Send invitations" as a bulk action, on the admin page and over the API: each selected user who can
 * receive one gets the same invitation mail as the one-by-one "Send invitation again" (queued, delivered
 * to the outbox, its link opening the set-password page) with its user.invitation_sent audit event; the
 * others are reported per row as skipped with why (already set up, deactivated, no address), and a
 * user above the admin fails forbidden, mailed nothing. The dry run says the same and sends nothing.
 */
import request from 'supertest';
import { trusted, Types } from 'mongoose';
import { startTestApp, type TestApp } from '../../helpers/app';
import { adminAgent, makeAdmin, makeStaff } from '../../helpers/admin';
import { csrfFrom } from '../../helpers/forms';
import { deliverToOutbox, linkIn } from '../../helpers/mail';
import { adminToken } from '../api/tokens';
import { AuditEventModel, MailMessageModel, ProfileModel, UserModel } from '../../../src/data/models';
import { createUser } from '../../../src/users/users';
import { systemContext } from '../../../src/access/actor';
import { processAvailableBulkJobs } from '../../../src/qualification/bulk-action-worker';

let t: TestApp;
let staff: request.Agent;
let adminId: Types.ObjectId;
let ei: Types.ObjectId;
beforeAll(async () => {
  t = await startTestApp('bulk-invitations');
  adminId = (await makeAdmin())!._id;
  await makeStaff('invite-staff@example.com', ['manageInternalUsers', 'manageCustomerUsers', 'manageExternalUsers']);
  staff = await adminAgent(t.app, 'invite-staff@example.com');
  ei = (await ProfileModel.findOne({ name: 'External Identity User' }).lean())!._id;
});
afterAll(() => t.stop());

const worker = { owner: 'invite-test' };
async function person(name: string, opts: { password?: string } = {}) {
  const u = await createUser(
    { lastName: name, email: `${name.toLowerCase()}@invite.example`, profileId: ei, ...opts },
    systemContext,
  );
  return u._id;
}
/** Invitable twice, already set up, deactivated, without an address, and the System Administrator. */
async function mixedSelection() {
  const tag = new Types.ObjectId().toHexString().slice(-6);
  const fresh = [await person(`Fresh${tag}a`), await person(`Fresh${tag}b`)];
  const setUp = await person(`Setup${tag}`, { password: 'violet-harbor-tractor-91' });
  const inactive = await person(`Inactive${tag}`);
  await UserModel.updateOne({ _id: inactive }, { $set: { isActive: false } });
  const noAddress = await person(`Noaddr${tag}`);
  // A record written around the schema (an old import): no address at all.
  await UserModel.collection.updateOne({ _id: noAddress }, { $unset: { email: '' } });
  return { fresh, setUp, inactive, noAddress, all: [...fresh, setUp, inactive, noAddress, adminId].map(String) };
}
const invitationsTo = (ids: Types.ObjectId[]) =>
  MailMessageModel.countDocuments({ user: trusted({ $in: ids }), template: 'invitation' });

it('admin page: the dry run says who would be mailed and who skipped and why, sending nothing; the run mails the same', async () => {
  const s = await mixedSelection();
  const everyone = [...s.fresh, s.setUp, s.inactive, s.noAddress, adminId];
  const csrf = csrfFrom((await staff.get('/admin')).text);
  const fields = { _csrf: csrf, action: 'sendInvitations', scope: 'selection', userIds: s.all };

  const dry = await staff.post('/admin/qualify/dry-run').type('form').send(fields);
  expect(dry.status).toBe(200);
  expect(dry.text).toContain('2 of 6 users would succeed, 3 would be skipped, 1 would fail (reasons below).');
  const first = (await UserModel.findById(s.fresh[0]).lean())!;
  expect(dry.text).toContain(`Would be sent the invitation to set a password, to ${first.email}.`);
  expect(dry.text).toContain('password_already_set: This user has already set a password');
  expect(dry.text).toContain('user_inactive: This user is inactive');
  expect(dry.text).toContain('no_address: This user has no email address');
  expect(dry.text).toContain('Would be skipped');
  expect(await invitationsTo(everyone)).toBe(0);

  const run = await staff.post('/admin/qualify/run').type('form').send(fields);
  expect(run.status).toBe(303);
  expect(await processAvailableBulkJobs(worker)).toBe(1);
  const page = await staff.get(run.headers.location);
  expect(page.text).toMatch(/id="job-status">JobComplete</);
  expect(page.text).toMatch(/id="job-skipped">3</);

  const lines = (await staff.get(`${run.headers.location}/results.csv`)).text.trim().split('\n');
  expect(lines).toHaveLength(7);
  expect(lines[1]).toMatch(/^1,.*,succeeded,Invitation sent to fresh.*a@invite\.example\.$/);
  expect(lines[2]).toMatch(/^2,.*,succeeded,Invitation sent to /);
  expect(lines[3]).toMatch(/^3,.*,skipped,password_already_set: /);
  expect(lines[4]).toMatch(/^4,.*,skipped,user_inactive: /);
  expect(lines[5]).toMatch(/^5,.*,skipped,no_address: /);
  expect(lines[6]).toMatch(/^6,.*,failed,"forbidden: admin@example.com holds permissions you do not/);

  // Exactly the two invitable users were mailed, once each, with the one-by-one audit event.
  expect(await invitationsTo(everyone)).toBe(2);
  expect(await invitationsTo(s.fresh)).toBe(2);
  const events = await AuditEventModel.find({ action: 'user.invitation_sent', 'target.id': trusted({ $in: everyone }) })
    .sort({ at: 1 })
    .lean();
  expect(events.map((e) => [String(e.target?.id), e.actor?.username])).toEqual(
    s.fresh.map((id) => [String(id), 'invite-staff@example.com']),
  );
  // Delivered to the outbox like any mail, and the link opens the set-password page.
  expect(await deliverToOutbox()).toBeGreaterThanOrEqual(2);
  const fresh = (await UserModel.findById(s.fresh[0]).lean())!;
  const link = await linkIn(fresh.email, /./);
  expect(link).toMatch(/\/welcome\?token=/);
  expect((await request(t.app).get(link)).status).toBe(200);
});

it('API: the dry run and the per-row report say the same, with skips counted apart from failures', async () => {
  const { token } = await adminToken('invite-api@example.com');
  const s = await mixedSelection();
  const auth = (r: request.Test) => r.set('Authorization', `Bearer ${token}`);
  const dry = await auth(request(t.app).post('/api/v1/bulk-actions')).send({
    action: 'sendInvitations',
    dryRun: true,
    userIds: s.all,
  });
  expect(dry.status).toBe(200);
  // This token's admin is a System Administrator too, so the other one is not above it: set up, skipped.
  expect(dry.body).toMatchObject({ wouldSucceed: 2, wouldSkip: 4, wouldFail: 0 });
  expect(dry.body.rows.map((r: { skipped: boolean }) => r.skipped)).toEqual([false, false, true, true, true, true]);

  const run = await auth(request(t.app).post('/api/v1/bulk-actions')).send({
    action: 'sendInvitations',
    dryRun: false,
    userIds: s.all,
  });
  expect(run.status).toBe(201);
  await processAvailableBulkJobs(worker);
  const job = await auth(request(t.app).get(run.headers.location));
  expect(job.body).toMatchObject({
    state: 'JobComplete',
    numberRecordsProcessed: 6,
    numberRecordsSkipped: 4,
    numberRecordsFailed: 0,
  });
  const report = await auth(request(t.app).get(`${run.headers.location}/results`));
  expect(
    report.body.records.map((r: { status: string; outcome: string }) => [r.status, r.outcome.split(':')[0]]),
  ).toEqual([
    ['succeeded', 'Invitation sent to ' + (await UserModel.findById(s.fresh[0]).lean())!.email + '.'],
    ['succeeded', 'Invitation sent to ' + (await UserModel.findById(s.fresh[1]).lean())!.email + '.'],
    ['skipped', 'password_already_set'],
    ['skipped', 'user_inactive'],
    ['skipped', 'no_address'],
    ['skipped', 'password_already_set'],
  ]);
  expect(await invitationsTo(s.fresh)).toBe(2);
  expect(await invitationsTo([s.setUp, s.inactive, s.noAddress, adminId])).toBe(0);
});
