/**
 * Bulk actions over REST (/api/v1/bulk-actions), on the same services as the queue's admin page: the dry
 * run's body says what each row would become and whether seats suffice (and writes nothing); the real
 * run's per-row results as JSON and CSV; a seat-short run never oversells (counted in the database);
 * a queue search as the selection; abort; permission refusals (a token without Manage Internal Users,
 * a row above the token's admin); bad bodies answered 400 JSON naming the field, with nothing written.
 */
import request from 'supertest';
import { trusted, Types } from 'mongoose';
import { startTestApp, type TestApp } from '../../helpers/app';
import { adminToken, staffToken } from './tokens';
import {
  AuditEventModel,
  BulkActionJobModel,
  BulkActionRowModel,
  LicenseModel,
  ProfileModel,
  UserModel,
} from '../../../src/data/models';
import { createUser } from '../../../src/users/users';
import { systemContext } from '../../../src/access/actor';
import { addContactAndAssociate } from '../../../src/qualification/qualification';
import { processAvailableBulkJobs } from '../../../src/qualification/bulk-action-worker';

let t: TestApp;
let token: string;
let adminId: Types.ObjectId;
let ei: Types.ObjectId;
let community: Types.ObjectId;
beforeAll(async () => {
  t = await startTestApp('api-bulk-actions');
  ({ token, userId: adminId } = await adminToken());
  ei = (await ProfileModel.findOne({ name: 'External Identity User' }).lean())!._id;
  community = (await ProfileModel.findOne({ name: 'Customer Community User' }).lean())!._id;
});
afterAll(() => t.stop());

const auth = (r: request.Test, tk = token) => r.set('Authorization', `Bearer ${tk}`);
const create = (body: unknown, tk = token) =>
  auth(request(t.app).post('/api/v1/bulk-actions'), tk).send(body as object);
const worker = { owner: 'api-bulk-test' };

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
const communityUsers = (ids: string[]) =>
  UserModel.countDocuments({ _id: trusted({ $in: ids.map((i) => new Types.ObjectId(i)) }), profile: community });

describe('an upgrade with fewer free seats than rows', () => {
  let ids: string[];
  let licenseId: Types.ObjectId;
  let usedBefore: number;
  beforeAll(async () => {
    ids = await users('seat', 4, true);
    const license = (await LicenseModel.findOne({ name: 'Customer Community' }).lean())!;
    licenseId = license._id;
    usedBefore = license.usedSeats;
    await LicenseModel.updateOne({ _id: license._id }, { $set: { totalSeats: license.usedSeats + 2 } });
  });

  it('dry run: each row says what it would become, the seats do not suffice, and nothing is written', async () => {
    const res = await create({ action: 'upgrade', dryRun: true, userIds: ids, profileId: String(community) });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      dryRun: true,
      action: 'upgrade',
      numberRecords: 4,
      wouldSucceed: 2,
      wouldFail: 2,
      seats: { license: 'Customer Community', needed: 4, free: 2, suffice: false },
    });
    expect(res.body.rows[0]).toEqual({
      row: 1,
      userId: ids[0],
      username: 'seat1@bulk.example',
      ok: true,
      skipped: false,
      takesSeat: true,
      outcome: 'Would become Customer Community User (Customer Community), taking a seat.',
    });
    expect(res.body.rows[3]).toMatchObject({
      ok: false,
      takesSeat: false,
      outcome: expect.stringMatching(/^no_seats_left: /),
    });
    expect(await communityUsers(ids)).toBe(0);
    expect((await LicenseModel.findById(licenseId).lean())!.usedSeats).toBe(usedBefore);
    expect(await BulkActionJobModel.countDocuments()).toBe(0);
  });

  it('the run upgrades exactly the free seats, never more, and reports each row as JSON and CSV', async () => {
    const res = await create({ action: 'upgrade', dryRun: false, userIds: ids, profileId: String(community) });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ action: 'upgrade', state: 'Queued', numberRecords: 4, numberRecordsProcessed: 0 });
    expect(res.headers.location).toBe(`/api/v1/bulk-actions/${res.body.id}`);
    expect(await processAvailableBulkJobs({ ...worker, batchSize: 3 })).toBe(1);

    const job = await auth(request(t.app).get(res.headers.location));
    expect(job.body).toMatchObject({ state: 'JobComplete', numberRecordsProcessed: 4, numberRecordsFailed: 2 });
    // Counted in the database: two users switched, the license exactly full.
    expect(await communityUsers(ids)).toBe(2);
    const license = (await LicenseModel.findById(licenseId).lean())!;
    expect(license.usedSeats).toBe(usedBefore + 2);
    expect(license.usedSeats).toBeLessThanOrEqual(license.totalSeats);
    expect(await AuditEventModel.countDocuments({ action: 'user.upgraded' })).toBe(2);

    const json = await auth(request(t.app).get(`${res.headers.location}/results`));
    expect(json.body.done).toBe(true);
    expect(json.body.records.map((r: { status: string }) => r.status)).toEqual([
      'succeeded',
      'succeeded',
      'failed',
      'failed',
    ]);
    expect(json.body.records[0]).toEqual({
      row: 1,
      userId: ids[0],
      username: 'seat1@bulk.example',
      status: 'succeeded',
      outcome: 'Now Customer Community User (Customer Community).',
    });
    expect(json.body.records[2].outcome).toMatch(/^no_seats_left: No Customer Community seat is left/);
    const page = await auth(request(t.app).get(`${res.headers.location}/results?after=1&limit=2`));
    expect(page.body).toMatchObject({ done: false, nextAfter: 3 });
    expect(page.body.records.map((r: { row: number }) => r.row)).toEqual([2, 3]);

    const csv = await auth(request(t.app).get(`${res.headers.location}/results.csv`));
    expect(csv.headers['content-type']).toMatch(/^text\/csv/);
    const lines = csv.text.trim().split('\n');
    expect(lines[0]).toBe('Row,UserId,Username,Status,Outcome');
    expect(lines[1]).toBe(`1,${ids[0]},seat1@bulk.example,succeeded,Now Customer Community User (Customer Community).`);
    expect(lines[4]).toMatch(new RegExp(`^4,${ids[3]},seat4@bulk.example,failed,no_seats_left: `));
  });
});

describe('selections, abort and refusals', () => {
  it('a queue search as the selection covers the users the queue lists', async () => {
    const ids = await users('queue', 2, false);
    const res = await create({ action: 'endSessions', dryRun: true, filter: { sort: 'oldest' } });
    expect(res.status).toBe(200);
    const listed = res.body.rows.map((r: { userId: string }) => r.userId);
    expect(listed).toEqual(expect.arrayContaining(ids));
    // Users with a contact are not in the queue (it lists contactless users).
    const withContact = await UserModel.find({ contact: trusted({ $ne: null }) })
      .select('_id')
      .lean();
    expect(withContact.length).toBeGreaterThan(0);
    for (const u of withContact) expect(listed).not.toContain(String(u._id));
  });

  it('aborts a queued job: nothing is done, its rows stay pending, a finished job cannot be aborted', async () => {
    const ids = await users('abort', 2, false);
    const res = await create({ action: 'deactivate', dryRun: false, userIds: ids });
    const url = res.headers.location;
    const aborted = await auth(request(t.app).patch(url)).send({ state: 'Aborted' });
    expect(aborted.status).toBe(200);
    expect(aborted.body).toMatchObject({ state: 'Aborted', numberRecordsProcessed: 0 });
    expect(await processAvailableBulkJobs(worker)).toBe(0);
    expect(await UserModel.countDocuments({ _id: trusted({ $in: ids }), isActive: false })).toBe(0);
    const results = await auth(request(t.app).get(`${url}/results`));
    expect(results.body.records.map((r: { status: string }) => r.status)).toEqual(['pending', 'pending']);
    expect(await AuditEventModel.countDocuments({ action: 'bulk_action.aborted', 'target.id': res.body.id })).toBe(1);
    const again = await auth(request(t.app).patch(url)).send({ state: 'Aborted' });
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('invalid_state');
  });

  it('a token whose admin lacks Manage Internal Users gets 403 JSON and no job', async () => {
    const staff = await staffToken('bulk-staff@example.com', ['manageCustomerUsers', 'manageExternalUsers']);
    const ids = await users('refused', 1, false);
    const before = await BulkActionJobModel.countDocuments();
    for (const dryRun of [true, false]) {
      const res = await create({ action: 'deactivate', dryRun, userIds: ids }, staff.token);
      expect(res.status).toBe(403);
      expect(res.headers['content-type']).toMatch(/json/);
      expect(res.body.error).toMatchObject({ code: 'forbidden' });
    }
    expect(await BulkActionJobModel.countDocuments()).toBe(before);
    expect(await UserModel.countDocuments({ _id: trusted({ $in: ids }), isActive: false })).toBe(0);
  });

  it('nobody acts on a user with more rights: the row of the System Administrator fails, others go on', async () => {
    const staff = await staffToken('bulk-miu@example.com', [
      'manageInternalUsers',
      'manageCustomerUsers',
      'manageExternalUsers',
    ]);
    const [ok] = await users('above', 1, false);
    const res = await create({ action: 'deactivate', dryRun: false, userIds: [ok, String(adminId)] }, staff.token);
    expect(res.status).toBe(201);
    await processAvailableBulkJobs(worker);
    const results = await auth(request(t.app).get(`${res.headers.location}/results`), staff.token);
    expect(results.body.records.map((r: { status: string }) => r.status)).toEqual(['succeeded', 'failed']);
    expect(results.body.records[1].outcome).toMatch(/^forbidden: .*holds permissions you do not/);
    expect(await UserModel.findById(adminId).lean()).toMatchObject({ isActive: true });
    // Another admin's token cannot read the job (404, as for an id nobody has).
    expect((await auth(request(t.app).get(res.headers.location))).status).toBe(404);
  });

  it.each([
    ['no action', { dryRun: true, userIds: ['0123456789abcdef01234567'] }, 'action'],
    ['an unknown action', { action: 'delete', dryRun: true, userIds: ['0123456789abcdef01234567'] }, 'action'],
    ['dryRun as text', { action: 'deactivate', dryRun: 'yes', userIds: ['0123456789abcdef01234567'] }, 'dryRun'],
    ['a bad id', { action: 'deactivate', dryRun: false, userIds: ['nope'] }, 'userIds.0'],
    ['an operator as an id', { action: 'deactivate', dryRun: false, userIds: [{ $ne: null }] }, 'userIds.0'],
    ['no selection', { action: 'deactivate', dryRun: false }, 'userIds'],
    ['both selections', { action: 'deactivate', dryRun: false, userIds: [], filter: {} }, 'userIds'],
    [
      'an unknown field',
      { action: 'deactivate', dryRun: false, userIds: ['0123456789abcdef01234567'], isActive: false },
      'isActive',
    ],
    ['a bad filter', { action: 'deactivate', dryRun: false, filter: { minScore: 'high' } }, 'filter.minScore'],
  ])('a body with %s is 400 JSON naming the field, nothing written', async (_name, body, field) => {
    const before = await BulkActionJobModel.countDocuments();
    const res = await create(body);
    expect(res.status).toBe(400);
    expect(res.body.error.fields).toHaveProperty([field]);
    expect(await BulkActionJobModel.countDocuments()).toBe(before);
  });

  it('a rule the domain checks (an upgrade without a profile) is 400 naming it, nothing written', async () => {
    const before = await BulkActionJobModel.countDocuments();
    const res = await create({ action: 'upgrade', dryRun: false, userIds: ['0123456789abcdef01234567'] });
    expect(res.status).toBe(400);
    expect(res.body.error.fields).toHaveProperty(['profileId']);
    expect(await BulkActionJobModel.countDocuments()).toBe(before);
    expect(await BulkActionRowModel.countDocuments({ userId: new Types.ObjectId('0123456789abcdef01234567') })).toBe(0);
  });
});
