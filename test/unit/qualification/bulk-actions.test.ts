/**
 * Bulk actions in the database, through the worker's lease: a bulk upgrade with fewer seats than rows
 * uses exactly the free seats (the dry run said which rows) and fails the rest with a reason; a job cut
 * off by a crash mid-batch resumes under another worker without acting or auditing twice.
 */
import { trusted, Types } from 'mongoose';
import { startTestApp, type TestApp } from '../../helpers/app';
import {
  AuditEventModel,
  BulkActionJobModel,
  BulkActionRowModel,
  LicenseModel,
  ProfileModel,
  UserModel,
} from '../../../src/data/models';
import { createAdministrator } from '../../../src/users/bootstrap';
import { loadActor, systemContext, type Actor } from '../../../src/access/actor';
import { createUser } from '../../../src/users/users';
import { addContactAndAssociate } from '../../../src/qualification/qualification';
import { applyRow, applyUpgradeBatch, dryRunBulk, planBulk, startBulk } from '../../../src/qualification/bulk-actions';
import { takeSeatsUpTo } from '../../../src/qualification/seats';
import { loadUserFor, loadUsersFor } from '../../../src/access';
import { makeStaff } from '../../helpers/admin';
import { isDomainError } from '../../../src/shared/errors';
import {
  claimNextBulkJob,
  processAvailableBulkJobs,
  processBulkJob,
} from '../../../src/qualification/bulk-action-worker';

let t: TestApp;
let actor: Actor;
let ei: Types.ObjectId;
let community: Types.ObjectId;
beforeAll(async () => {
  t = await startTestApp('bulk-actions');
  const admin = (await createAdministrator({
    username: 'bulk-admin@example.com',
    password: 'lantern-copper-wisdom-77',
    lastName: 'Admin',
  }))!;
  actor = (await loadActor(admin._id))!;
  ei = (await ProfileModel.findOne({ name: 'External Identity User' }).lean())!._id;
  community = (await ProfileModel.findOne({ name: 'Customer Community User' }).lean())!._id;
});
afterAll(() => t.stop());

const ctx = () => ({ actor, via: 'admin' as const });

async function users(prefix: string, n: number, withContact: boolean): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 1; i <= n; i++) {
    const u = await createUser(
      { lastName: `${prefix}${i}`, email: `${prefix}${i}@bulk.example`, profileId: ei },
      systemContext,
    );
    if (withContact)
      await addContactAndAssociate(u._id, { lastName: `${prefix}${i}`, accountName: `${prefix} Inc` }, systemContext);
    ids.push(String(u._id));
  }
  return ids;
}

it('a bulk upgrade with 3 free seats for 5 users upgrades exactly the first 3 and fails 2 with no_seats_left', async () => {
  const ids = await users('seat', 5, true);
  const license = (await LicenseModel.findOne({ name: 'Customer Community' }).lean())!;
  await LicenseModel.updateOne({ _id: license._id }, { $set: { totalSeats: license.usedSeats + 3 } });

  const dry = await dryRunBulk({ action: 'upgrade', userIds: ids, profileId: String(community) }, ctx());
  expect(dry.seats).toEqual({ license: 'Customer Community', needed: 5, free: 3, suffice: false });
  expect(dry.rows.map((r) => r.ok)).toEqual([true, true, true, false, false]);
  expect(dry.rows[3].outcome).toMatch(/^no_seats_left: /);
  // The dry run wrote nothing.
  expect(await UserModel.countDocuments({ _id: trusted({ $in: ids }), profile: community })).toBe(0);
  expect((await LicenseModel.findById(license._id).lean())!.usedSeats).toBe(license.usedSeats);

  const job = await startBulk({ action: 'upgrade', userIds: ids, profileId: String(community) }, ctx());
  expect(await processAvailableBulkJobs({ owner: 'w1', batchSize: 2 })).toBe(1);
  const rows = await BulkActionRowModel.find({ job: job._id }).sort({ row: 1 }).lean();
  expect(rows.map((r) => r.status)).toEqual(['succeeded', 'succeeded', 'succeeded', 'failed', 'failed']);
  expect(rows[4].outcome).toMatch(/^no_seats_left: No Customer Community seat is left/);
  const after = (await LicenseModel.findById(license._id).lean())!;
  expect(after.usedSeats).toBe(after.totalSeats);
  expect(await UserModel.countDocuments({ _id: trusted({ $in: ids }), profile: community })).toBe(3);
  expect(
    await AuditEventModel.countDocuments({
      action: 'user.upgraded',
      'target.id': trusted({ $in: ids.slice(0, 3).map((i) => new Types.ObjectId(i)) }),
    }),
  ).toBe(3);
  expect(await BulkActionJobModel.findById(job._id).lean()).toMatchObject({
    state: 'JobComplete',
    numberRecordsProcessed: 5,
    numberRecordsFailed: 2,
  });
});

it('resumes after a crash mid-batch: nobody is acted on or audited twice, counts exact', async () => {
  const ids = await users('crash', 5, false);
  const job = await startBulk({ action: 'deactivate', userIds: ids }, ctx());
  const t0 = new Date('2031-01-01T00:00:00Z');
  const A = { owner: 'worker-A', now: () => t0, leaseMs: 60_000, batchSize: 2 };
  const claimed = (await claimNextBulkJob(A))!;
  expect(String(claimed._id)).toBe(String(job._id));
  expect(await processBulkJob(claimed, { ...A, maxBatches: 1 })).toBe('paused');
  // A does row 3 of its next batch, then dies before recording it.
  await applyRow(await planBulk({ action: 'deactivate', userIds: [ids[2]] }, ctx()), new Types.ObjectId(ids[2]), {
    actor,
    via: 'bulk',
  });

  // Nobody else can take the job while A's lease runs; after it expires, B can.
  expect(await claimNextBulkJob({ owner: 'worker-B', now: () => new Date(t0.getTime() + 1000) })).toBeNull();
  const B = { owner: 'worker-B', now: () => new Date(t0.getTime() + 61_000), batchSize: 2 };
  const taken = (await claimNextBulkJob(B))!;
  expect(await processBulkJob(taken, B)).toBe('completed');

  const rows = await BulkActionRowModel.find({ job: job._id }).sort({ row: 1 }).lean();
  expect(rows.map((r) => r.status)).toEqual(Array(5).fill('succeeded'));
  expect(rows[2].outcome).toBe('Already inactive; unchanged.');
  expect(await UserModel.countDocuments({ _id: trusted({ $in: ids }), isActive: false })).toBe(5);
  for (const id of ids)
    expect(
      await AuditEventModel.countDocuments({ action: 'user.deactivated', 'target.id': new Types.ObjectId(id) }),
    ).toBe(1);
  expect(await BulkActionJobModel.findById(job._id).lean()).toMatchObject({
    state: 'JobComplete',
    numberRecordsProcessed: 5,
    numberRecordsFailed: 0,
    leaseOwner: null,
  });
});

describe('an upgrade batch written at once', () => {
  const seatsOf = async (name: string) => (await LicenseModel.findOne({ name }).select('+seatHolds').lean())!;
  const ei = 'External Identity';
  beforeAll(async () => {
    await LicenseModel.updateOne({ name: 'Customer Community' }, { $set: { totalSeats: 10_000 } });
  });

  it('gives each row the single-user outcome, moves the seats of those switched only, and audits each once', async () => {
    const [a, b] = await users('batch', 2, true);
    const [contactless] = await users('batchless', 1, false);
    const [already] = await users('batchdone', 1, true);
    await applyRow(
      await planBulk({ action: 'upgrade', userIds: [already], profileId: String(community) }, ctx()),
      new Types.ObjectId(already),
      { actor, via: 'bulk' },
    );
    const nobody = new Types.ObjectId();
    const [cc, old] = [await seatsOf('Customer Community'), await seatsOf(ei)];
    const plan = await planBulk({ action: 'upgrade', userIds: [a], profileId: String(community) }, ctx());
    const ids = [a, contactless, already, String(nobody), b].map((i) => new Types.ObjectId(i));
    const results = await applyUpgradeBatch(plan, ids, 'bulk:test:1', { actor, via: 'bulk' });
    expect(results.map((r) => r.status)).toEqual(['succeeded', 'failed', 'succeeded', 'failed', 'succeeded']);
    expect(results[0].outcome).toBe('Now Customer Community User (Customer Community).');
    expect(results[1].outcome).toMatch(/^contact_required: /);
    expect(results[2].outcome).toBe('Already Customer Community User; unchanged.');
    expect(results[3].outcome).toMatch(/^not_found: /);
    expect(await UserModel.countDocuments({ _id: trusted({ $in: [a, b] }), profile: community })).toBe(2);
    expect(await UserModel.countDocuments({ _id: new Types.ObjectId(contactless), profile: community })).toBe(0);
    const [cc2, old2] = [await seatsOf('Customer Community'), await seatsOf(ei)];
    expect(cc2.usedSeats).toBe(cc.usedSeats + 2);
    expect(old2.usedSeats).toBe(Math.max(0, old.usedSeats - 2));
    expect(cc2.seatHolds ?? []).toEqual([]);
    for (const id of [a, b])
      expect(
        await AuditEventModel.countDocuments({ action: 'user.upgraded', 'target.id': new Types.ObjectId(id) }),
      ).toBe(1);
    expect(
      await AuditEventModel.countDocuments({ action: 'user.upgraded', 'target.id': new Types.ObjectId(already) }),
    ).toBe(1);
  });

  it('redone after a crash between its seats and its writes: the hold is settled, nobody switched twice, each audited once, seats exact', async () => {
    const [a, b] = await users('redo', 2, true);
    const plan = await planBulk({ action: 'upgrade', userIds: [a], profileId: String(community) }, ctx());
    const before = (await seatsOf('Customer Community')).usedSeats;
    const ids = [a, b].map((i) => new Types.ObjectId(i));
    // The cut-off attempt: seats for both held, only the first user switched, no audit, then the crash.
    expect(await takeSeatsUpTo(plan.license!._id, 'bulk:redo:1', ids)).toBe(2);
    await UserModel.updateOne({ _id: ids[0] }, { $set: { profile: community, license: plan.license!._id } });
    const results = await applyUpgradeBatch(plan, ids, 'bulk:redo:1', { actor, via: 'bulk' });
    expect(results).toEqual([
      { status: 'succeeded', outcome: 'Already Customer Community User; unchanged.' },
      { status: 'succeeded', outcome: 'Now Customer Community User (Customer Community).' },
    ]);
    const after = await seatsOf('Customer Community');
    expect(after.usedSeats).toBe(before + 2);
    expect(after.seatHolds ?? []).toEqual([]);
    // Each switch audited exactly once, the one the crash left unaudited included.
    for (const id of ids)
      expect(await AuditEventModel.countDocuments({ action: 'user.upgraded', 'target.id': id })).toBe(1);
    expect(
      (await AuditEventModel.findOne({ action: 'user.upgraded', 'target.id': ids[0] }).lean())!.after,
    ).toMatchObject({ recoveredAfterCrash: true });
  });
});

it('loadUsersFor answers each user as loadUserFor does (a user above the actor, one of a kind they may not manage, none)', async () => {
  const staff = (await loadActor(
    (await makeStaff('batch-staff@example.com', ['manageInternalUsers', 'manageCustomerUsers']))._id,
  ))!;
  const partnerProfile = (await ProfileModel.findOne({ name: 'External Identity Partner User' }).lean())!._id;
  const partner = (
    await createUser({ lastName: 'Partner', email: 'partner@batch.example', profileId: partnerProfile }, systemContext)
  )._id;
  const [customer] = await users('batchcheck', 1, true);
  const ids = [actor.id, partner, new Types.ObjectId(customer), new Types.ObjectId()];
  const staffCtx = { actor: staff, via: 'bulk' as const };
  const answer = (x: unknown) =>
    isDomainError(x) ? `${x.code}: ${x.message}` : String((x as { _id: Types.ObjectId })._id);
  const single = [];
  for (const id of ids) single.push(await loadUserFor('changeLicense', id, staffCtx).then(answer, answer));
  const batch = await loadUsersFor('changeLicense', ids, staffCtx);
  expect(ids.map((id) => answer(batch.get(String(id))))).toEqual(single);
  expect(single[2]).toBe(customer);
  expect(single.filter((x) => x.includes(':')).length).toBe(3);
});
