/**
 * A job interrupted by a crash resumes without creating anyone twice: worker A claims the lease,
 * processes one batch, inserts part of the next batch's users and "dies" (its results never recorded,
 * its lease left to expire). Worker B, with the clock moved past the lease, takes over and finishes.
 */
import { Readable } from 'node:stream';
import { trusted, Types } from 'mongoose';
import { startTestApp, type TestApp } from '../../helpers/app';
import {
  ActionTokenModel,
  AuditEventModel,
  IngestJobModel,
  IngestJobRowModel,
  LicenseModel,
  MailMessageModel,
  ProfileModel,
  UserModel,
} from '../../../src/data/models';
import { recoverSeatHolds, takeHeldSeats } from '../../../src/qualification/seats';
import { createAdministrator } from '../../../src/users/bootstrap';
import { loadActor, type Actor } from '../../../src/access/actor';
import { changeIngestJobState, createIngestJob } from '../../../src/ingest/ingest-jobs';
import { uploadCsv } from '../../../src/ingest/ingest-upload';
import { claimNextJob, processJob, processAvailableJobs } from '../../../src/ingest/ingest-worker';
import { createUsersInBulk } from '../../../src/ingest/bulk-import';
import { rowToInput } from '../../../src/ingest/ingest-columns';

let t: TestApp;
let actor: Actor;
let ei: string;
beforeAll(async () => {
  t = await startTestApp('jobs-resume');
  const admin = (await createAdministrator({
    username: 'resume-admin@example.com',
    password: 'lantern-copper-wisdom-77',
    lastName: 'Admin',
  }))!;
  actor = (await loadActor(admin._id))!;
  ei = String((await ProfileModel.findOne({ name: 'External Identity User' }).lean())!._id);
});
afterAll(() => t.stop());

const ctx = () => ({ actor, via: 'api' as const });

async function readyJob(lines: string[]) {
  const job = await createIngestJob({ object: 'User', operation: 'insert' }, ctx());
  await uploadCsv(job, Readable.from([`LastName,Email,ProfileId\n${lines.join('\n')}\n`]), { maxBytes: 10_000_000 });
  await changeIngestJobState(String(job._id), 'UploadComplete', ctx());
  return job._id;
}

it('resumes after a crash with no duplicate users and exact counts', async () => {
  // 25 rows: row 7 repeats row 3's email (a genuine duplicate), the rest are distinct.
  const lines = Array.from(
    { length: 25 },
    (_, i) => `Resume${i + 1},${i === 6 ? 'resume3' : `resume${i + 1}`}@example.com,${ei}`,
  );
  const jobId = await readyJob(lines);
  const license = (await LicenseModel.findOne({ name: 'External Identity' }).lean())!;
  const t0 = new Date('2030-01-01T00:00:00Z');
  const at = (ms: number) => () => new Date(t0.getTime() + ms);
  const A = { owner: 'worker-A', now: at(0), leaseMs: 60_000, batchSize: 10 };

  const claimed = (await claimNextJob(A))!;
  expect(String(claimed._id)).toBe(String(jobId));
  expect(await processJob(claimed, { ...A, maxBatches: 1 })).toBe('paused');
  expect(await IngestJobModel.findById(jobId).lean()).toMatchObject({
    processedThrough: 10,
    numberRecordsProcessed: 10,
    numberRecordsFailed: 1,
    leaseOwner: 'worker-A',
  });

  // A inserts the users of rows 11..15 of its next batch, then dies before recording any result.
  const rows = await IngestJobRowModel.find({ job: jobId, row: trusted({ $gte: 11, $lte: 15 }) })
    .sort({ row: 1 })
    .lean();
  const columns = ['LastName', 'Email', 'ProfileId'];
  const partial = await createUsersInBulk(
    rows.map((r) => ({ userId: r.userId, input: rowToInput(columns, r.raw.split(',')) })),
    { actor, via: 'bulk' },
  );
  expect(partial.every((r) => r.ok)).toBe(true);

  // Another worker cannot take the job while A's lease runs...
  const B = { owner: 'worker-B', leaseMs: 60_000, batchSize: 10 };
  expect(await claimNextJob({ ...B, now: at(30_000) })).toBeNull();
  // ...and takes it over once the lease has expired.
  const resumed = (await claimNextJob({ ...B, now: at(61_000) }))!;
  expect(resumed).toMatchObject({ leaseOwner: 'worker-B', attempts: 2, processedThrough: 10 });

  // A wakes up and tries to go on: every write of its is refused (it no longer holds the lease).
  expect(await processJob(claimed, { ...A, now: at(62_000) })).toBe('lost');

  expect(await processJob(resumed, { ...B, now: at(62_000) })).toBe('completed');
  const job = (await IngestJobModel.findById(jobId).lean())!;
  expect(job).toMatchObject({
    state: 'JobComplete',
    numberRecordsProcessed: 25,
    numberRecordsFailed: 1,
    leaseOwner: null,
  });

  // 24 distinct users, each once; the users A made before dying are reported as created by their rows.
  expect(await UserModel.countDocuments({ email: /^resume\d+@example\.com$/ })).toBe(24);
  const ok = await IngestJobRowModel.find({ job: jobId, status: 'pending' }).lean(); // counted and not failed: succeeded
  expect(ok).toHaveLength(24);
  for (const r of rows) expect(ok.some((o) => o.userId.equals(r.userId))).toBe(true);
  expect(await UserModel.countDocuments({ _id: trusted({ $in: ok.map((r) => r.userId) }) })).toBe(24);
  expect((await LicenseModel.findById(license._id).lean())!.usedSeats).toBe(license.usedSeats + 24);
  const failed = await IngestJobRowModel.find({ job: jobId, status: 'failed' }).lean();
  expect(failed.map((f) => [f.row, f.error?.split(':')[0]])).toEqual([[7, 'username_taken']]);
});

it('a row whose result was recorded before the crash keeps it and is counted once', async () => {
  const jobId = await readyJob([`Kept,kept1@example.com,${ei}`, `Kept,kept2@example.com,${ei}`]);
  const t0 = new Date('2031-01-01T00:00:00Z');
  const A = { owner: 'A2', now: () => t0, leaseMs: 1000 };
  await claimNextJob(A);
  // A recorded row 1 as failed (say) but died before moving the job's counters.
  await IngestJobRowModel.updateOne(
    { job: jobId, row: 1 },
    { $set: { status: 'failed', error: 'validation_failed: recorded earlier' } },
  );
  const finished = await processAvailableJobs({ owner: 'B2', now: () => new Date(t0.getTime() + 5000) });
  expect(finished).toBeGreaterThanOrEqual(1);
  expect(await IngestJobModel.findById(jobId).lean()).toMatchObject({
    state: 'JobComplete',
    numberRecordsProcessed: 2,
    numberRecordsFailed: 1,
  });
  expect(await UserModel.exists({ username: 'kept1@example.com' })).toBeNull();
  expect(await UserModel.exists({ username: 'kept2@example.com' })).toBeTruthy();
});

it('a job interrupted too many times is marked Failed, its rows left unprocessed', async () => {
  const jobId = await readyJob([`Crashy,crashy@example.com,${ei}`]);
  let clock = new Date('2032-01-01T00:00:00Z').getTime();
  for (let i = 0; i < 6; i++) {
    expect(await claimNextJob({ owner: `crash-${i}`, now: () => new Date(clock), leaseMs: 1000 })).not.toBeNull();
    clock += 2000;
  }
  await processAvailableJobs({ owner: 'last', now: () => new Date(clock) });
  expect(await IngestJobModel.findById(jobId).lean()).toMatchObject({ state: 'Failed', numberRecordsProcessed: 0 });
  expect(await UserModel.exists({ username: 'crashy@example.com' })).toBeNull();
});

it('a worker asked to stop (shutdown) finishes its batch and hands the job back for anyone to resume at once', async () => {
  const jobId = await readyJob(Array.from({ length: 6 }, (_, i) => `Stop${i},stop${i}@example.com,${ei}`));
  const now = () => new Date('2033-01-01T00:00:00Z');
  const claimed = (await claimNextJob({ owner: 'stopping', now }))!;
  let batches = 0;
  const outcome = await processJob(claimed, { owner: 'stopping', now, batchSize: 2, shouldStop: () => ++batches > 1 });
  expect(outcome).toBe('released');
  expect(await IngestJobModel.findById(jobId).lean()).toMatchObject({
    state: 'InProgress',
    processedThrough: 2,
    leaseOwner: null,
    leaseExpiresAt: null,
  });
  // No lease to wait for: another instance claims it with the same clock and finishes it.
  expect(await processAvailableJobs({ owner: 'next', now })).toBe(1);
  expect(await IngestJobModel.findById(jobId).lean()).toMatchObject({
    state: 'JobComplete',
    numberRecordsProcessed: 6,
  });
  expect(await UserModel.countDocuments({ username: /^stop\d@example\.com$/ })).toBe(6);
});

it('a batch cut off between taking seats and recording its users leaks no seat and loses no audit event', async () => {
  const jobId = await readyJob(Array.from({ length: 6 }, (_, i) => `Held${i},held${i}@example.com,${ei}`));
  const license = (await LicenseModel.findOne({ name: 'External Identity' }).lean())!;
  const profile = (await ProfileModel.findById(ei).lean())!;
  const t0 = new Date('2034-01-01T00:00:00Z');
  const claimed = (await claimNextJob({ owner: 'dies', now: () => t0, leaseMs: 1000 }))!;

  // The state a crash leaves: seats held for rows 1-5 under the job's key, users of rows 1-2 inserted,
  // no audit event written, the hold never settled, no row counted.
  const rows = await IngestJobRowModel.find({ job: jobId }).sort({ row: 1 }).lean();
  const key = `ingest:${claimed._id.toHexString()}:dies`;
  expect(
    await takeHeldSeats(
      license._id,
      key,
      rows.slice(0, 5).map((r) => r.userId),
    ),
  ).toBe(true);
  expect(await takeHeldSeats(license._id, key, [rows[5].userId])).toBe(false); // one hold per key
  for (const r of rows.slice(0, 2)) {
    const [lastName, email] = r.raw.split(',');
    await UserModel.create({
      _id: r.userId,
      lastName,
      email,
      username: email,
      alias: 'held',
      communityNickname: `held-${r.row}`,
      profile: profile._id,
      license: license._id,
      userType: profile.userType,
    });
  }
  expect((await LicenseModel.findById(license._id).lean())!.usedSeats).toBe(license.usedSeats + 5);

  expect(await processAvailableJobs({ owner: 'resumes', now: () => new Date(t0.getTime() + 5000) })).toBe(1);
  expect(await IngestJobModel.findById(jobId).lean()).toMatchObject({
    state: 'JobComplete',
    numberRecordsProcessed: 6,
    numberRecordsFailed: 0,
  });
  const ids = rows.map((r) => r.userId);
  expect(await UserModel.countDocuments({ _id: trusted({ $in: ids }) })).toBe(6);
  // Exactly one seat per user: the three held for users never created came back.
  const after = (await LicenseModel.findById(license._id).select('+seatHolds').lean())!;
  expect(after.usedSeats).toBe(license.usedSeats + 6);
  expect(after.seatHolds ?? []).toEqual([]);
  // Every user has exactly one user.created event, the two the crash skipped included.
  const events = await AuditEventModel.find({ action: 'user.created', 'target.id': trusted({ $in: ids }) }).lean();
  expect(events.map((e) => String(e.target!.id)).sort()).toEqual(ids.map(String).sort());
  expect(events.find((e) => String(e.target!.id) === String(ids[0]))).toMatchObject({
    via: 'bulk',
    after: { username: 'held0@example.com', profile: 'External Identity User' },
  });
});

it('recoverSeatHolds is idempotent: settling twice gives seats back once', async () => {
  const license = (await LicenseModel.findOne({ name: 'External Identity' }).lean())!;
  const ghost = [new Types.ObjectId(), new Types.ObjectId()];
  expect(await takeHeldSeats(license._id, 'test:twice:a', ghost)).toBe(true);
  expect(await takeHeldSeats(license._id, 'test:other:a', [new Types.ObjectId()])).toBe(true);
  // Only keys with the prefix (the regex characters in it taken literally) are settled.
  expect(await recoverSeatHolds('test:twi.e:')).toBe(0);
  expect(await recoverSeatHolds('test:twice:')).toBe(2);
  expect(await recoverSeatHolds('test:twice:')).toBe(0);
  expect((await LicenseModel.findById(license._id).lean())!.usedSeats).toBe(license.usedSeats + 1);
  expect(await recoverSeatHolds('test:other:')).toBe(1);
  expect((await LicenseModel.findById(license._id).lean())!.usedSeats).toBe(license.usedSeats);
});

it('invites every user of a resumed batch once: those it inserts from memory, those an earlier attempt inserted read back', async () => {
  const emails = Array.from({ length: 5 }, (_, i) => `invitee${i + 1}@example.com`);
  const jobId = await readyJob(emails.map((e, i) => `Invitee${i + 1},${e},${ei}`));
  // An earlier attempt inserted the users of rows 2 and 4, then died before inviting them.
  const rows = await IngestJobRowModel.find({ job: jobId, row: trusted({ $in: [2, 4] }) }).lean();
  const columns = ['LastName', 'Email', 'ProfileId'];
  const partial = await createUsersInBulk(
    rows.map((r) => ({ userId: r.userId, input: rowToInput(columns, r.raw.split(',')) })),
    { actor, via: 'bulk' },
  );
  expect(partial.every((r) => r.ok)).toBe(true);
  expect(await MailMessageModel.countDocuments({ to: trusted({ $in: emails }) })).toBe(0);

  expect(await processAvailableJobs({ owner: 'inviter', now: () => new Date('2032-01-01T00:00:00Z') })).toBe(1);
  const users = await UserModel.find({ email: trusted({ $in: emails }) }).lean();
  expect(users).toHaveLength(5);
  for (const u of users) {
    const mails = await MailMessageModel.find({ user: u._id, template: 'invitation' }).lean();
    expect(mails.map((m) => [m.to, m.state])).toEqual([[u.email, 'queued']]);
    expect(mails[0].text).toContain(u.username);
    expect(await ActionTokenModel.countDocuments({ user: u._id, purpose: 'invite', usedAt: null })).toBe(1);
    expect(await AuditEventModel.countDocuments({ action: 'user.invitation_sent', 'target.id': u._id })).toBe(1);
    expect(await AuditEventModel.countDocuments({ action: 'user.created', 'target.id': u._id })).toBe(1);
  }
});

it('a batch inserted in several commands fails exactly the rows that collide, wherever they fall', async () => {
  // 130 rows: more than one insert command's worth. Row 128 repeats row 2's address.
  const rows = Array.from({ length: 130 }, (_, i) => ({
    userId: new Types.ObjectId(),
    input: { lastName: `Slice${i + 1}`, email: `slice${i === 127 ? 2 : i + 1}@example.com`, profileId: ei },
  }));
  const results = await createUsersInBulk(rows, { actor, via: 'bulk' });
  expect(results.map((r, i) => (r.ok ? null : [i, r.code])).filter(Boolean)).toEqual([[127, 'username_taken']]);
  expect(await UserModel.countDocuments({ email: /^slice\d+@example\.com$/ })).toBe(129);
  expect(await UserModel.exists({ _id: rows[127].userId })).toBeNull();
  expect(await UserModel.exists({ _id: rows[129].userId })).toBeTruthy();
});
