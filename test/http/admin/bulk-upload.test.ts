/**
 * Bulk upload and user export in the admin area: a multipart CSV upload becomes an ingest job, its
 * page follows it to JobComplete and gives the API's own result files; a broken upload (an invalid CSV,
 * a body cut short, a header without rows, a stream that errors as an aborted request does) ends the
 * job Failed with the reason on its page, and GET /api/v1/jobs/ingest/:id says the same; no CSRF token
 * or no permission: nothing made. The user export is the API search's users as spreadsheet-safe CSV.
 */
import { Readable } from 'node:stream';
import request from 'supertest';
import { parse } from 'csv-parse/sync';
import { startTestApp, type TestApp } from '../../helpers/app';
import { adminAgent, makeAdmin, makeStaff } from '../../helpers/admin';
import { csrfFrom } from '../../helpers/forms';
import { createApiToken } from '../../../src/api/api-tokens';
import { loadActor } from '../../../src/access/actor';
import { AuditEventModel, IngestJobModel, IngestJobRowModel, ProfileModel, UserModel } from '../../../src/data/models';
import { processAvailableJobs } from '../../../src/ingest/ingest-worker';
import { ingestInOneStep } from '../../../src/ingest/one-step-upload';

let t: TestApp;
let admin: request.Agent;
let token: string;
let ei: string;
beforeAll(async () => {
  t = await startTestApp('admin-bulk-upload', { env: { INGEST_MAX_UPLOAD_MB: '0.05' } });
  const root = (await makeAdmin())!;
  admin = await adminAgent(t.app);
  await admin.get('/admin'); // the first page after sign-in settles the session its CSRF tokens are bound to
  token = (await createApiToken('t', { actor: (await loadActor(root._id))!, via: 'admin' })).token;
  ei = String((await ProfileModel.findOne({ name: 'External Identity User' }).lean())!._id);
});
afterAll(() => t.stop());

const csrf = async (agent = admin) => csrfFrom((await agent.get('/admin/bulk')).text);
const upload = async (csv: string | Buffer, agent = admin, matchBy = '') =>
  agent
    .post('/admin/bulk/upload')
    .field('_csrf', await csrf(agent))
    .field('matchBy', matchBy)
    .attach('file', Buffer.from(csv), { filename: 'users.csv', contentType: 'text/csv' });
const apiJob = async (id: string) =>
  (await request(t.app).get(`/api/v1/jobs/ingest/${id}`).set('Authorization', `Bearer ${token}`)).body;
const idOf = (location: string) => location.split('/').pop()!;

it('an upload becomes a job whose page follows it to JobComplete and gives the same result files as the API', async () => {
  const csv = `FirstName,LastName,Email,ProfileId\nAnn,"Lee, Jr.",ann.page@example.com,${ei}\nBad,Row,not-an-email,${ei}\n`;
  const res = await upload(csv);
  expect([res.status, res.status === 303 ? '' : res.text]).toEqual([303, '']);
  const id = idOf(res.headers.location);
  expect(res.headers.location).toBe(`/admin/bulk/jobs/${id}`);
  const queued = await admin.get(res.headers.location);
  expect(queued.text).toMatch(/id="job-status">UploadComplete</);
  expect(queued.text).toContain('data-refresh-seconds="3"');
  expect(await IngestJobRowModel.countDocuments({ job: id })).toBe(2);

  expect(await processAvailableJobs({ owner: 'page-test' })).toBe(1);
  const done = await admin.get(res.headers.location);
  expect(done.text).toMatch(/id="job-status">JobComplete</);
  expect(done.text).toMatch(/id="job-failed">1</);
  expect(done.text).not.toContain('data-refresh-seconds');
  expect(await UserModel.countDocuments({ email: 'ann.page@example.com' })).toBe(1);

  for (const kind of ['successfulResults', 'failedResults', 'unprocessedrecords']) {
    const page = await admin.get(`${res.headers.location}/${kind}.csv`);
    const api = await request(t.app).get(`/api/v1/jobs/ingest/${id}/${kind}`).set('Authorization', `Bearer ${token}`);
    expect(page.headers['content-type']).toMatch(/^text\/csv/);
    expect([kind, page.text]).toEqual([kind, api.text]);
  }
  const failed = parse((await admin.get(`${res.headers.location}/failedResults.csv`)).text, { columns: true });
  expect(failed).toEqual([expect.objectContaining({ Email: 'not-an-email', LastName: 'Row' })]);
});

describe('a broken upload ends the job Failed with the reason, on its page and over the API', () => {
  it.each([
    ['an unclosed quote', `LastName,Email,ProfileId\n"Open,x@example.com,${ei}\n`, 'The CSV could not be read.'],
    ['a header without rows', 'LastName,Email,ProfileId\n', 'The CSV has a header but no rows'],
    ['a missing column', 'FirstName\nX\n', 'LastName'],
    ['a file too large', `LastName,Email,ProfileId\n${`Big,big@example.com,${ei}\n`.repeat(3000)}`, 'larger than'],
  ])('%s', async (_name, csv, reason) => {
    const res = await upload(csv);
    expect(res.status).toBe(303);
    const id = idOf(res.headers.location);
    const page = await admin.get(res.headers.location);
    expect(page.text).toMatch(/id="job-status">Failed</);
    expect(page.text).toContain(reason);
    expect(page.text).not.toContain('data-refresh-seconds');
    const job = await apiJob(id);
    expect(job).toMatchObject({ state: 'Failed', numberRecordsProcessed: 0 });
    expect(job.errorMessage).toContain(reason);
    expect(await IngestJobRowModel.countDocuments({ job: id })).toBe(0);
    // The worker has nothing to take: it never becomes complete.
    expect(await processAvailableJobs({ owner: 'page-test' })).toBe(0);
    expect((await IngestJobModel.findById(id).lean())!.state).toBe('Failed');
  });

  it('a multipart body cut short (no closing boundary): Failed, nothing imported', async () => {
    const boundary = '----cut';
    const token = await csrf();
    const body =
      `--${boundary}\r\nContent-Disposition: form-data; name="_csrf"\r\n\r\n${token}\r\n` +
      `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="u.csv"\r\nContent-Type: text/csv\r\n\r\n` +
      `LastName,Email,ProfileId\nCut,cut.one@example.com,${ei}\nCut,cut.two@exa`;
    const res = await admin
      .post('/admin/bulk/upload')
      .set('Content-Type', `multipart/form-data; boundary=${boundary}`)
      .send(body);
    expect(res.status).toBe(303);
    const job = await apiJob(idOf(res.headers.location));
    expect(job.state).toBe('Failed');
    expect(job.errorMessage).toContain('ended before the whole file arrived');
    expect(await UserModel.countDocuments({ email: /^cut\./ })).toBe(0);
  });

  it('a body that errors midway, as an aborted request does: Failed with the reason', async () => {
    const actor = (await loadActor((await UserModel.findOne({ username: 'admin@example.com' }).lean())!._id))!;
    const body = new Readable({ read() {} });
    body.on('error', () => undefined); // as multipartFile guards the file's stream
    body.push(`LastName,Email,ProfileId\nAbort,abort.one@example.com,${ei}\n`);
    process.nextTick(() => body.destroy(new Error('aborted')));
    const job = await ingestInOneStep({}, body, { maxBytes: 10_000 }, { actor, via: 'admin' });
    expect(job.state).toBe('Failed');
    expect((await apiJob(String(job._id))).errorMessage).toContain('ended before the whole file arrived');
    expect(await IngestJobRowModel.countDocuments({ job: job._id })).toBe(0);
    expect(await AuditEventModel.countDocuments({ action: 'ingest_job.failed', 'target.id': job._id })).toBe(1);
  });
});

it('the API: an upload of a header alone is refused, so the job cannot be closed and never completes with 0 rows', async () => {
  const auth = (r: request.Test) => r.set('Authorization', `Bearer ${token}`);
  const job = (await auth(request(t.app).post('/api/v1/jobs/ingest')).send({ object: 'User', operation: 'insert' }))
    .body;
  const put = await auth(request(t.app).put(`/api/v1/jobs/ingest/${job.id}/batches`))
    .set('Content-Type', 'text/csv')
    .send('LastName,Email,ProfileId\n');
  expect(put.status).toBe(400);
  const close = await auth(request(t.app).patch(`/api/v1/jobs/ingest/${job.id}`)).send({ state: 'UploadComplete' });
  expect(close.status).toBe(409);
  expect(close.body.error.message).toContain('no rows');
  expect((await apiJob(job.id)).state).toBe('Open');
});

it('refuses without a CSRF token or the permission, and without a file, making no job', async () => {
  const before = await IngestJobModel.countDocuments();
  const noToken = await admin
    .post('/admin/bulk/upload')
    .attach('file', Buffer.from(`LastName,Email,ProfileId\nA,a.nocsrf@example.com,${ei}\n`), 'u.csv');
  expect(noToken.status).toBe(403);
  await makeStaff('no-miu-bulk@example.com', ['manageCustomerUsers']);
  const staff = await adminAgent(t.app, 'no-miu-bulk@example.com');
  expect((await staff.get('/admin/bulk')).status).toBe(403);
  const token = csrfFrom((await staff.get('/admin')).text);
  const refused = await staff
    .post('/admin/bulk/upload')
    .field('_csrf', token)
    .attach('file', Buffer.from(`LastName,Email,ProfileId\nA,a.nomiu@example.com,${ei}\n`), 'u.csv');
  expect(refused.status).toBe(403);
  const noFile = await admin
    .post('/admin/bulk/upload')
    .field('_csrf', await csrf())
    .field('matchBy', '');
  expect(noFile.status).toBe(422);
  expect(noFile.text).toContain('Choose a CSV file to upload.');
  expect(await IngestJobModel.countDocuments()).toBe(before);
  expect(await UserModel.countDocuments({ email: /^a\.no/ })).toBe(0);
});

it('exports the users the API search finds, with its filters, spreadsheet-safe', async () => {
  await upload(`LastName,Email,ProfileId\n=SUM(1),formula.export@example.com,${ei}\n`);
  await processAvailableJobs({ owner: 'page-test' });
  const all = await admin.get('/admin/bulk/users.csv');
  expect(all.status).toBe(200);
  expect(all.headers['content-disposition']).toContain('users.csv');
  const rows = parse(all.text, { columns: true }) as Record<string, string>[];
  expect(Object.keys(rows[0])).toEqual([
    'Id',
    'Username',
    'Email',
    'FirstName',
    'LastName',
    'UserType',
    'Profile',
    'License',
    'ContactId',
    'SiteId',
    'IsActive',
    'CreatedDate',
    'LastLoginDate',
  ]);
  expect(rows.length).toBe(await UserModel.countDocuments());
  expect(rows.find((r) => r.Email === 'formula.export@example.com')!.LastName).toBe("'=SUM(1)");
  const contactless = parse((await admin.get('/admin/bulk/users.csv?contactless=yes&q=formula')).text, {
    columns: true,
  }) as Record<string, string>[];
  expect(contactless.map((r) => r.Email)).toEqual(['formula.export@example.com']);
  expect((await admin.get('/admin/bulk/users.csv?license=nope')).status).toBe(422);
  expect((await admin.get('/admin/bulk/users.csv?q=a&q=b')).status).toBe(422);
});

it('the worker: a job that reaches it with no row at all (closed before uploads needed rows) ends Failed, not complete', async () => {
  const auth = (r: request.Test) => r.set('Authorization', `Bearer ${token}`);
  const job = (await auth(request(t.app).post('/api/v1/jobs/ingest')).send({ object: 'User', operation: 'insert' }))
    .body;
  // As the old rule let it be: closed with an upload of a header alone.
  await IngestJobModel.updateOne(
    { _id: job.id },
    { $set: { state: 'UploadComplete', uploadState: 'uploaded', numberRecordsUploaded: 0 } },
  );
  expect(await processAvailableJobs({ owner: 'page-test' })).toBe(1);
  const seen = await apiJob(job.id);
  expect(seen).toMatchObject({ state: 'Failed', numberRecordsProcessed: 0 });
  expect(seen.errorMessage).toContain('The job has no rows');
});
