/**
 * Bulk actions in the database, through the worker's lease: a bulk upgrade with fewer seats than rows
 * uses exactly the free seats (the dry run said which rows) and fails the rest with a reason; a job cut
 * off by a crash mid-batch resumes under another worker without acting or auditing twice.
 */
import { trusted, Types } from 'mongoose';
import { startTestApp, type TestApp } from '../../helpers/app';
import { AuditEventModel, BulkActionJobModel, BulkActionRowModel, LicenseModel, ProfileModel, UserModel } from '../../../src/data/models';
import { createAdministrator } from '../../../src/users/bootstrap';
import { loadActor, systemContext, type Actor } from '../../../src/access/actor';
import { createUser } from '../../../src/users/users';
import { addContactAndAssociate } from '../../../src/qualification/qualification';
import { applyRow, dryRunBulk, planBulk, startBulk } from '../../../src/qualification/bulk-actions';
import { claimNextBulkJob, processAvailableBulkJobs, processBulkJob } from '../../../src/qualification/bulk-action-worker';

let t: TestApp;
let actor: Actor;
let ei: Types.ObjectId;
let community: Types.ObjectId;
beforeAll(async () => {
  t = await startTestApp('bulk-actions');
  const admin = (await createAdministrator({ username: 'bulk-admin@example.com', password: 'lantern-copper-wisdom-77', lastName: 'Admin' }))!;
  actor = (await loadActor(admin._id))!;
  ei = (await ProfileModel.findOne({ name: 'External Identity User' }).lean())!._id;
  community = (await ProfileModel.findOne({ name: 'Customer Community User' }).lean())!._id;
});
afterAll(() => t.stop());

const ctx = () => ({ actor, via: 'admin' as const });

async function users(prefix: string, n: number, withContact: boolean): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 1; i <= n; i++) {
    const u = await createUser({ lastName: `${prefix}${i}`, email: `${prefix}${i}@bulk.example`, profileId: ei }, systemContext);
    if (withContact) await addContactAndAssociate(u._id, { lastName: `${prefix}${i}`, accountName: `${prefix} Inc` }, systemContext);
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
  expect(await AuditEventModel.countDocuments({ action: 'user.upgraded', 'target.id': trusted({ $in: ids.slice(0, 3).map((i) => new Types.ObjectId(i)) }) })).toBe(3);
  expect(await BulkActionJobModel.findById(job._id).lean()).toMatchObject({ state: 'JobComplete', numberRecordsProcessed: 5, numberRecordsFailed: 2 });
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
  await applyRow(await planBulk({ action: 'deactivate', userIds: [ids[2]] }, ctx()), new Types.ObjectId(ids[2]), { actor, via: 'bulk' });

  // Nobody else can take the job while A's lease runs; after it expires, B can.
  expect(await claimNextBulkJob({ owner: 'worker-B', now: () => new Date(t0.getTime() + 1000) })).toBeNull();
  const B = { owner: 'worker-B', now: () => new Date(t0.getTime() + 61_000), batchSize: 2 };
  const taken = (await claimNextBulkJob(B))!;
  expect(await processBulkJob(taken, B)).toBe('completed');

  const rows = await BulkActionRowModel.find({ job: job._id }).sort({ row: 1 }).lean();
  expect(rows.map((r) => r.status)).toEqual(Array(5).fill('succeeded'));
  expect(rows[2].outcome).toBe('Already inactive; unchanged.');
  expect(await UserModel.countDocuments({ _id: trusted({ $in: ids }), isActive: false })).toBe(5);
  for (const id of ids) expect(await AuditEventModel.countDocuments({ action: 'user.deactivated', 'target.id': new Types.ObjectId(id) })).toBe(1);
  expect(await BulkActionJobModel.findById(job._id).lean()).toMatchObject({ state: 'JobComplete', numberRecordsProcessed: 5, numberRecordsFailed: 0, leaseOwner: null });
});
