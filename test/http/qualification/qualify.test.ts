/**
 * The qualification queue over HTTP: ranking with reasons, filters, hostile queries; contact proposals;
 * bulk actions on a selection with hostile members (a user above the actor, an id of another kind, a
 * repeated id, a repeated field), dry run writing nothing, the run's per-row report, spreadsheet-safe.
 */
import request from 'supertest';
import { trusted, Types } from 'mongoose';
import { startTestApp, type TestApp } from '../../helpers/app';
import { adminAgent, makeAdmin, makeStaff } from '../../helpers/admin';
import { csrfFrom } from '../../helpers/forms';
import {
  AccountModel,
  AuditEventModel,
  BulkActionJobModel,
  ContactModel,
  ProfileModel,
  SavedSearchModel,
  UserModel,
} from '../../../src/data/models';
import { createUser } from '../../../src/users/users';
import { systemContext } from '../../../src/access/actor';
import { processAvailableBulkJobs } from '../../../src/qualification/bulk-action-worker';

let t: TestApp;
let admin: request.Agent;
let staff: request.Agent;
let adminId: Types.ObjectId;
let ei: Types.ObjectId;
let acme: Types.ObjectId;
beforeAll(async () => {
  t = await startTestApp('admin-qualify');
  adminId = (await makeAdmin())!._id;
  admin = await adminAgent(t.app);
  await makeStaff('queue-staff@example.com', ['manageInternalUsers', 'manageCustomerUsers', 'manageExternalUsers']);
  staff = await adminAgent(t.app, 'queue-staff@example.com');
  ei = (await ProfileModel.findOne({ name: 'External Identity User' }).lean())!._id;
  acme = (await AccountModel.create({ name: 'Acme' }))._id;
  await ContactModel.create({ firstName: 'Known', lastName: 'Person', email: 'known@acme.example', account: acme });
});
afterAll(() => t.stop());

async function registrant(lastName: string, email: string, signals: Record<string, unknown> = {}) {
  const u = await createUser({ firstName: 'Reg', lastName, email, profileId: ei }, systemContext);
  // Straight to the collection: mongoose keeps createdAt immutable. The raw write skips the model's hooks,
  // so it marks the queue's stored ranking stale itself, as every write through the model does.
  if (Object.keys(signals).length)
    await UserModel.collection.updateOne(
      { _id: u._id },
      { $set: { ...signals, queueStaleAt: new Date(0) }, $inc: { queueVersion: 1 } },
    );
  return u._id;
}
const rowsOrder = (html: string, ids: Types.ObjectId[]) =>
  ids.map((id) => html.indexOf(`value="${id}"`)).map((i) => (i < 0 ? Infinity : i));
const token = async (agent: request.Agent) => csrfFrom((await agent.get('/admin/qualify')).text);

describe('the queue', () => {
  let strong: Types.ObjectId, company: Types.ObjectId, plain: Types.ObjectId;
  beforeAll(async () => {
    strong = await registrant('Strong', 'known@acme.example', { emailVerifiedAt: new Date(), lastLoginAt: new Date() });
    company = await registrant('Company', 'someone@acme.example');
    plain = await registrant('Plain', 'plain@gmail.com', { createdAt: new Date(Date.now() - 90 * 86_400_000) });
  });

  it('ranks contactless users by score, each row saying why, and leaves out internal users', async () => {
    const res = await staff.get('/admin/qualify');
    expect(res.status).toBe(200);
    const [a, b, c] = rowsOrder(res.text, [strong, company, plain]);
    expect(a).toBeLessThan(b);
    expect(b).toBeLessThan(c);
    expect(c).toBeLessThan(Infinity);
    expect(res.text).toContain('Email matches an existing contact (+35)');
    expect(res.text).toContain('Email verified (+25)');
    expect(res.text).toContain('Email domain matches an existing account&#39;s domain (+20)');
    expect(res.text).toContain('<strong>100</strong>');
    expect(res.text).not.toContain(`value="${adminId}"`);
  });

  it('filters by verified email and minimum score, and sorts by registration', async () => {
    const verified = await staff.get('/admin/qualify?verified=yes');
    expect(rowsOrder(verified.text, [strong, company, plain])).toEqual([expect.any(Number), Infinity, Infinity]);
    const min = await staff.get('/admin/qualify?minScore=20');
    expect(rowsOrder(min.text, [plain])).toEqual([Infinity]);
    expect(rowsOrder(min.text, [company])[0]).toBeLessThan(Infinity);
    const oldest = await staff.get('/admin/qualify?sort=oldest');
    const [s, , p] = rowsOrder(oldest.text, [strong, company, plain]);
    expect(p).toBeLessThan(s);
  });

  it('answers 422 for hostile filters (not a number, a repeated field, an unknown sort), never a 500', async () => {
    for (const q of [
      'minScore=abc',
      'minScore=101',
      'siteId=nope',
      'siteId=a&siteId=b',
      'sort=%24where',
      'verified=maybe',
    ]) {
      const res = await staff.get(`/admin/qualify?${q}`);
      expect([q, res.status]).toEqual([q, 422]);
    }
  });

  it('is refused (403) to staff without Manage Internal Users, and exports the search as spreadsheet-safe CSV', async () => {
    await makeStaff('no-miu@example.com', ['manageCustomerUsers']);
    const res = await (await adminAgent(t.app, 'no-miu@example.com')).get('/admin/qualify');
    expect(res.status).toBe(403);
    await registrant('=HYPERLINK("http://evil")', 'formula@example.com');
    const csv = await staff.get('/admin/qualify/export.csv');
    expect(csv.status).toBe(200);
    expect(csv.headers['content-type']).toMatch(/^text\/csv/);
    expect(csv.text.split('\n')[0]).toBe('UserId,Username,Name,Email,Site,Registered,Score,Reasons');
    expect(csv.text).toContain(`"'Reg =HYPERLINK(""http://evil"")"`.replace("'Reg ", 'Reg '));
    expect(csv.text).not.toMatch(/(^|,)=HYPERLINK/m);
  });

  it('proposes the contact with the same email, with the reason', async () => {
    const res = await staff.get(`/admin/qualify/users/${strong}`);
    expect(res.status).toBe(200);
    expect(res.text).toContain('Known Person');
    expect(res.text).toContain('Same email as this user');
    expect(res.text).toContain('Associate Known Person');
    expect((await staff.get(`/admin/qualify/users/${adminId}`)).status).toBe(403);
  });

  it('saves a search per admin, refusing a repeated name', async () => {
    const csrf = await token(staff);
    const saved = await staff
      .post('/admin/qualify/searches')
      .type('form')
      .send({ _csrf: csrf, name: 'Verified', query: 'verified=yes' });
    expect(saved.status).toBe(303);
    expect((await staff.get('/admin/qualify')).text).toContain('<a href="/admin/qualify?verified=yes">Verified</a>');
    const again = await staff
      .post('/admin/qualify/searches')
      .type('form')
      .send({ _csrf: csrf, name: 'Verified', query: '' });
    expect(again.status).toBe(409);
    expect(await SavedSearchModel.countDocuments({ name: 'Verified' })).toBe(1);
  });
});

describe('bulk actions', () => {
  it('a dry run on a hostile selection says why each row would fail and writes nothing; the run does the same', async () => {
    const ok = await registrant('Bulk', 'bulk1@example.com');
    const contact = await ContactModel.findOne({ email: 'known@acme.example' }).lean();
    const csrf = await token(staff);
    // The System Administrator holds more than the staff; a contact id is no user; `ok` is sent twice.
    const selection = [String(ok), String(adminId), String(contact!._id), String(ok)];
    const fields = { _csrf: csrf, action: 'deactivate', scope: 'selection', userIds: selection };
    const dry = await staff.post('/admin/qualify/dry-run').type('form').send(fields);
    expect(dry.status).toBe(200);
    expect(dry.text).toContain('1 of 3 users would succeed, 2 would fail');
    expect(dry.text).toContain('holds permissions you do not');
    expect(dry.text).toContain('not_found: No user has this id.');
    expect(await UserModel.countDocuments({ _id: trusted({ $in: [ok, adminId] }), isActive: false })).toBe(0);
    expect(await BulkActionJobModel.countDocuments()).toBe(0);

    const repeated = await staff
      .post('/admin/qualify/run')
      .type('form')
      .send({ ...fields, action: ['deactivate', 'endSessions'] });
    expect(repeated.status).toBe(422);
    expect(await BulkActionJobModel.countDocuments()).toBe(0);

    const run = await staff.post('/admin/qualify/run').type('form').send(fields);
    expect(run.status).toBe(303);
    const jobUrl = run.headers.location;
    expect(await processAvailableBulkJobs({ owner: 'http-test' })).toBe(1);
    expect((await staff.get(jobUrl)).text).toMatch(/id="job-status">JobComplete</);
    const csv = await staff.get(`${jobUrl}/results.csv`);
    const lines = csv.text.trim().split('\n');
    expect(lines[0]).toBe('Row,UserId,Username,Status,Outcome');
    expect(lines).toHaveLength(4);
    expect(lines[1]).toMatch(new RegExp(`^1,${ok},bulk1@example.com,succeeded,Deactivated and signed out.$`));
    expect(lines[2]).toMatch(/^2,.*,failed,"forbidden: admin@example.com holds permissions you do not/);
    expect(lines[3]).toMatch(/^3,.*,,failed,not_found: No user has this id\.$/);
    expect(await UserModel.findById(adminId).lean()).toMatchObject({ isActive: true });
    expect(await AuditEventModel.countDocuments({ action: 'user.deactivated', 'target.id': ok })).toBe(1);
    // Another admin cannot read this job or its report.
    expect((await admin.get(jobUrl)).status).toBe(404);
    expect((await admin.get(`${jobUrl}/results.csv`)).status).toBe(404);
  });

  it('the report is spreadsheet-safe: a username that starts with = comes back with a leading quote', async () => {
    const u = await createUser(
      { lastName: 'Formula', email: 'f@example.com', username: '=cmd@example.com', profileId: ei },
      systemContext,
    );
    const run = await staff
      .post('/admin/qualify/run')
      .type('form')
      .send({ _csrf: await token(staff), action: 'endSessions', userIds: String(u._id) });
    expect(run.status).toBe(303);
    await processAvailableBulkJobs({ owner: 'http-test' });
    const csv = await staff.get(`${run.headers.location}/results.csv`);
    expect(csv.text).toContain(",'=cmd@example.com,succeeded,");
  });
});
