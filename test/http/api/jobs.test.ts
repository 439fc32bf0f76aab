import request from 'supertest';
import { parse } from 'csv-parse/sync';
import { startTestApp, type TestApp } from '../../helpers/app';
import { adminToken, staffToken } from './tokens';
import { IngestJobModel, IngestJobRowModel, LicenseModel, ProfileModel, UserModel } from '../../../src/data/models';
import { processAvailableJobs } from '../../../src/ingest/ingest-worker';

let t: TestApp;
let token: string;
let ei: string;
let community: string;
beforeAll(async () => {
  t = await startTestApp('api-jobs', { env: { INGEST_MAX_UPLOAD_MB: '0.05' } });
  token = (await adminToken()).token;
  ei = String((await ProfileModel.findOne({ name: 'External Identity User' }).lean())!._id);
  community = String((await ProfileModel.findOne({ name: 'Customer Community User' }).lean())!._id);
});
afterAll(() => t.stop());

const auth = (r: request.Test, tk = token) => r.set('Authorization', `Bearer ${tk}`);
const createJob = async (tk = token) =>
  (await auth(request(t.app).post('/api/v1/jobs/ingest'), tk).send({ object: 'User', operation: 'insert' })).body as {
    id: string;
    state: string;
  };
const upload = (id: string, csv: string | Buffer, type = 'text/csv') =>
  auth(request(t.app).put(`/api/v1/jobs/ingest/${id}/batches`))
    .set('Content-Type', type)
    .send(csv);
const close = (id: string, state = 'UploadComplete') =>
  auth(request(t.app).patch(`/api/v1/jobs/ingest/${id}`)).send({ state });
const job = (id: string) => auth(request(t.app).get(`/api/v1/jobs/ingest/${id}`));
const results = (id: string, kind: string) =>
  auth(request(t.app).get(`/api/v1/jobs/ingest/${id}/${kind}`))
    .buffer(true)
    .parse((res, cb) => {
      let s = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (s += c));
      res.on('end', () => cb(null, s));
    });
const worker = { owner: 'test-worker' };

describe('an ingest job from Open to JobComplete', () => {
  it('creates good rows, fails bad ones with reasons, and keeps quoted values intact', async () => {
    const created = await createJob();
    expect(created.state).toBe('Open');
    const csv = [
      'FirstName,LastName,Email,Alias,Username,CommunityNickname,LocaleSidKey,TimeZoneSidKey,ProfileId,LanguageLocaleKey,EmailEncodingKey',
      `Zoë,"O'Brien, Jr.",zoe.bulk@example.com,,,,fr_FR,Europe/Paris,${ei},fr,UTF-8`,
      `"Ann ""Nan""","Multi\nLine",ann.bulk@example.com,annb,,AnnB,,,${ei},,`,
      `José,Núñez,jose.bulk@example.com,,,,,,${ei},,`,
      `Bad,Email,not-an-email,,,,,,${ei},,`,
      `Dup,User,zoe.bulk@example.com,,,,,,${ei},,`,
      `No,Contact,nc.bulk@example.com,,,,,,${community},,`,
      `No,Profile,np.bulk@example.com,,,,,,0123456789abcdef01234567,,`,
      `Bad,Zone,bz.bulk@example.com,,,,,Mars/Base,${ei},,`,
      `Nick,Taken,nick.bulk@example.com,,,annb,,,${ei},,`,
    ].join('\r\n');
    const up = await upload(created.id, csv);
    expect(up.status).toBe(201);
    expect(up.body.numberRecordsUploaded).toBe(9);
    expect((await upload(created.id, csv)).status).toBe(409); // one upload per job
    const closed = await close(created.id);
    expect(closed.body.state).toBe('UploadComplete');

    expect(await processAvailableJobs(worker)).toBe(1);
    const done = (await job(created.id)).body;
    expect(done).toMatchObject({
      state: 'JobComplete',
      numberRecordsProcessed: 9,
      numberRecordsFailed: 6,
      numberRecordsUploaded: 9,
    });

    const ok = parse((await results(created.id, 'successfulResults')).body, { columns: true }) as Record<
      string,
      string
    >[];
    expect(ok.map((r) => r.Email)).toEqual(['zoe.bulk@example.com', 'ann.bulk@example.com', 'jose.bulk@example.com']);
    expect(ok[0]).toMatchObject({ sf__Created: 'true', LastName: "O'Brien, Jr.", FirstName: 'Zoë' });
    expect(ok[1]).toMatchObject({ FirstName: 'Ann "Nan"', LastName: 'Multi\nLine' });
    const zoe = (await UserModel.findById(ok[0].sf__Id).lean())!;
    expect(zoe).toMatchObject({
      lastName: "O'Brien, Jr.",
      firstName: 'Zoë',
      timeZoneSidKey: 'Europe/Paris',
      contact: null,
      username: 'zoe.bulk@example.com',
    });
    expect((await UserModel.findById(ok[1].sf__Id).lean())!).toMatchObject({
      lastName: 'Multi\nLine',
      firstName: 'Ann "Nan"',
      communityNickname: 'AnnB',
    });
    expect((await UserModel.findById(ok[2].sf__Id).lean())!.lastName).toBe('Núñez');

    const failedText = (await results(created.id, 'failedResults')).body as string;
    expect(failedText.split('\n')[0]).toBe(
      'sf__Id,sf__Error,FirstName,LastName,Email,Alias,Username,CommunityNickname,LocaleSidKey,TimeZoneSidKey,ProfileId,LanguageLocaleKey,EmailEncodingKey',
    );
    const failed = parse(failedText, { columns: true }) as Record<string, string>[];
    const reasons = Object.fromEntries(failed.map((r) => [r.Email, r.sf__Error]));
    expect(reasons['not-an-email']).toMatch(/^validation_failed: .*Email: /);
    expect(reasons['zoe.bulk@example.com']).toMatch(/^username_taken/);
    expect(reasons['nc.bulk@example.com']).toMatch(/^contact_required/);
    expect(reasons['np.bulk@example.com']).toMatch(/ProfileId: No profile has this id/);
    expect(reasons['bz.bulk@example.com']).toMatch(/TimeZoneSidKey: /);
    expect(reasons['nick.bulk@example.com']).toMatch(/^nickname_taken/);
    expect(failed.every((r) => r.sf__Id === '')).toBe(true);
    expect((await results(created.id, 'unprocessedrecords')).body).toBe(
      'FirstName,LastName,Email,Alias,Username,CommunityNickname,LocaleSidKey,TimeZoneSidKey,ProfileId,LanguageLocaleKey,EmailEncodingKey\n',
    );
    expect(await UserModel.countDocuments({ email: /bulk@example.com$/ })).toBe(3);
  });

  it('gives back the seats of rows that failed', async () => {
    const license = (await LicenseModel.findOne({ name: 'External Identity' }).lean())!;
    const id = (await createJob()).id;
    await upload(
      id,
      `LastName,Email,ProfileId\nSeat,seat1@example.com,${ei}\nSeat,seat1@example.com,${ei}\nSeat,bad-email,${ei}\n`,
    );
    await close(id);
    await processAvailableJobs(worker);
    expect((await LicenseModel.findById(license._id).lean())!.usedSeats).toBe(license.usedSeats + 1);
  });

  it('fails rows beyond the seats left with no_seats_left', async () => {
    const plus = (await ProfileModel.findOne({ name: 'Customer Community Plus User' }).lean())!;
    const license = (await LicenseModel.findById(plus.license).lean())!;
    await LicenseModel.updateOne({ _id: license._id }, { $set: { totalSeats: license.usedSeats + 1 } });
    const contacts = [];
    for (let i = 0; i < 3; i++) {
      const u = await auth(request(t.app).post('/api/v1/users')).send({
        lastName: `Holder${i}`,
        email: `holder${i}@example.com`,
      });
      const c = await auth(request(t.app).post(`/api/v1/users/${u.body.id}/contact`)).send({
        lastName: `C${i}`,
        accountName: 'Seats Inc',
      });
      await auth(request(t.app).post(`/api/v1/users/${u.body.id}/downgrade`)).send({});
      contacts.push(c.body.contactId);
    }
    const id = (await createJob()).id;
    await upload(
      id,
      `LastName,Email,ProfileId,ContactId\n${contacts.map((c, i) => `Plus${i},plus${i}@example.com,${plus._id},${c}`).join('\n')}\n`,
    );
    await close(id);
    await processAvailableJobs(worker);
    expect((await job(id)).body).toMatchObject({ numberRecordsProcessed: 3, numberRecordsFailed: 2 });
    const failed = parse((await results(id, 'failedResults')).body, { columns: true }) as Record<string, string>[];
    expect(failed.map((f) => f.sf__Error.split(':')[0])).toEqual(['no_seats_left', 'no_seats_left']);
    expect((await LicenseModel.findById(license._id).lean())!.usedSeats).toBe(license.usedSeats + 1);
  });
});

describe('upload refusals', () => {
  it('refuses a bad header, a malformed CSV, a wrong content type and an oversized upload, leaving no rows', async () => {
    const id = (await createJob()).id;
    const header = await upload(id, 'LastName,Email,ProfileId,PasswordHash\nX,x@example.com,1,2\n');
    expect(header.status).toBe(400);
    expect(header.body.error.fields.header).toContain('PasswordHash');
    const missing = await upload(id, 'FirstName\nX\n');
    expect(missing.status).toBe(400);
    expect(missing.body.error.fields.columns).toContain('LastName');
    const unclosed = await upload(id, `LastName,Email,ProfileId\n"Open,x@example.com,${ei}\n`);
    expect(unclosed.status).toBe(400);
    expect(unclosed.body.error.fields.csv).toBeDefined();
    const columns = await upload(id, `LastName,Email,ProfileId\nA,a@example.com,${ei}\nB,b@example.com\n`);
    expect(columns.status).toBe(400);
    const json = await upload(id, JSON.stringify({ rows: [] }), 'application/json');
    expect(json.status).toBe(415);
    const big = await upload(id, `LastName,Email,ProfileId\n${`Big,big@example.com,${ei}\n`.repeat(3000)}`);
    expect(big.status).toBe(413);
    expect(await IngestJobRowModel.countDocuments({ job: id })).toBe(0);
    // After refused uploads the job still takes its one good upload.
    expect((await upload(id, `LastName,Email,ProfileId\nGood,good.after@example.com,${ei}\n`)).status).toBe(201);
  });

  it('refuses to close a job with no data, and after a refused upload says why on the job', async () => {
    const id = (await createJob()).id;
    const empty = await close(id);
    expect(empty.status).toBe(409);
    expect(empty.body.error.code).toBe('no_data');
    expect(empty.body.error.message).toContain('upload its CSV');
    expect((await IngestJobModel.findById(id).lean())!.state).toBe('Open');
    const refused = await upload(id, 'FirstName\nX\n');
    expect(refused.status).toBe(400);
    const seen = (await job(id)).body;
    expect(seen.state).toBe('Open');
    expect(seen.errorMessage).toContain('The last upload was refused');
    expect(seen.errorMessage).toContain('LastName');
    const closing = await close(id);
    expect(closing.status).toBe(409);
    expect(closing.body.error.message).toContain('LastName');
    expect((await IngestJobModel.findById(id).lean())!.state).toBe('Open');
    // A good upload clears the refusal and the job closes.
    expect((await upload(id, `LastName,Email,ProfileId\nFine,fine.after@example.com,${ei}\n`)).status).toBe(201);
    expect((await job(id)).body.errorMessage).toBeNull();
    expect((await close(id)).body.state).toBe('UploadComplete');
  });

  it('refuses uploads to a closed job and closing twice', async () => {
    const id = (await createJob()).id;
    expect((await upload(id, `LastName,Email,ProfileId\nFirst,x8@example.com,${ei}\n`)).status).toBe(201);
    expect((await close(id)).status).toBe(200);
    expect((await upload(id, `LastName,Email,ProfileId\nX,x9@example.com,${ei}\n`)).status).toBe(409);
    const again = await close(id);
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('invalid_state');
    expect((await close(id, 'Open')).status).toBe(400);
  });
});

describe('hostile uploads and spreadsheet-safe results', () => {
  it('refuses a binary file and a multipart form sent as text/csv with a 400 that says what to send, writing no rows', async () => {
    const zip = Buffer.concat([Buffer.from([0x50, 0x4b, 0x03, 0x04, 0x14, 0x00, 0x00, 0x00]), Buffer.alloc(64, 0xff)]);
    const multipart =
      '--XyZ\r\nContent-Disposition: form-data; name="file"; filename="users.csv"\r\nContent-Type: text/csv\r\n\r\nLastName,Email\r\nA,a@example.com\r\n--XyZ--\r\n';
    const latin1 = Buffer.from(`LastName,Email,ProfileId\nM\xfcller,m@example.com,${ei}\n`, 'latin1');
    const answers = [];
    for (const body of [zip, multipart, latin1]) {
      const created = await createJob();
      const res = await upload(created.id, body);
      answers.push([res.status, res.body.error.message, res.body.error.fields?.csv]);
      expect(await IngestJobRowModel.countDocuments({ job: created.id })).toBe(0);
      expect((await job(created.id)).body).toMatchObject({ state: 'Open', numberRecordsUploaded: 0 });
    }
    const notText =
      'The upload is not UTF-8 CSV text (it looks like a binary file or another encoding). Send the CSV file itself, encoded as UTF-8, as the body.';
    expect(answers).toEqual([
      [400, notText, undefined],
      [
        400,
        'The CSV could not be read.',
        'The body is a multipart form: send the CSV file itself as the body, with Content-Type: text/csv.',
      ],
      [400, notText, undefined],
    ]);
  });

  it('returns result cells spreadsheet-safe by default (formulas neutralised), and exactly as uploaded with raw=true', async () => {
    const created = await createJob();
    const csv = `FirstName,LastName,Email,ProfileId\n"=HYPERLINK(""http://evil.example"")",+cmd,formula.ok@example.com,${ei}\n@SUM(A1),-2+3,not-an-email,${ei}\n`;
    expect((await upload(created.id, csv)).status).toBe(201);
    await close(created.id);
    await processAvailableJobs(worker);
    const safe = parse((await results(created.id, 'successfulResults')).body, { columns: true }) as Record<
      string,
      string
    >[];
    expect(safe[0]).toMatchObject({
      FirstName: '\'=HYPERLINK("http://evil.example")',
      LastName: "'+cmd",
      Email: 'formula.ok@example.com',
      sf__Created: 'true',
    });
    const failed = parse((await results(created.id, 'failedResults')).body, { columns: true }) as Record<
      string,
      string
    >[];
    expect(failed[0]).toMatchObject({ FirstName: "'@SUM(A1)", LastName: "'-2+3", Email: 'not-an-email' });
    const raw = (await results(created.id, 'successfulResults?raw=true')).body as string;
    expect(raw.split('\n')[1]).toMatch(
      /^[0-9a-f]{24},true,"=HYPERLINK\(""http:\/\/evil\.example""\)",\+cmd,formula\.ok@example\.com,/,
    );
    const rawFailed = parse((await results(created.id, 'failedResults?raw=true')).body, { columns: true }) as Record<
      string,
      string
    >[];
    expect(rawFailed[0]).toMatchObject({ FirstName: '@SUM(A1)', LastName: '-2+3' });
    // raw=false is the default, spelled out.
    expect((await results(created.id, 'successfulResults?raw=false')).body).toBe(
      (await results(created.id, 'successfulResults')).body,
    );
    const bad = await auth(request(t.app).get(`/api/v1/jobs/ingest/${created.id}/successfulResults?raw=maybe`));
    expect(bad.status).toBe(400);
    expect(bad.body.error.fields).toEqual({ raw: 'Use true or false.' });
  });
});

describe('job routes', () => {
  it('lists, aborts (rows stay unprocessed) and deletes jobs', async () => {
    const id = (await createJob()).id;
    await upload(id, `LastName,Email,ProfileId\nAb,abort1@example.com,${ei}\nAb,abort2@example.com,${ei}\n`);
    expect((await auth(request(t.app).delete(`/api/v1/jobs/ingest/${id}`))).status).toBe(409); // Open: abort first
    const aborted = await close(id, 'Aborted');
    expect(aborted.body.state).toBe('Aborted');
    await processAvailableJobs(worker);
    expect((await job(id)).body.state).toBe('Aborted');
    const unprocessed = parse((await results(id, 'unprocessedrecords')).body, { columns: true }) as Record<
      string,
      string
    >[];
    expect(unprocessed.map((r) => r.Email)).toEqual(['abort1@example.com', 'abort2@example.com']);
    const list = await auth(request(t.app).get('/api/v1/jobs/ingest'));
    expect(list.body.records.map((j: { id: string }) => j.id)).toContain(id);
    expect((await auth(request(t.app).delete(`/api/v1/jobs/ingest/${id}`))).status).toBe(204);
    expect((await job(id)).status).toBe(404);
    expect(await IngestJobRowModel.countDocuments({ job: id })).toBe(0);
  });

  it('validates job creation and ids', async () => {
    const bad = await auth(request(t.app).post('/api/v1/jobs/ingest')).send({
      object: 'Account',
      operation: 'upsert',
      extra: 1,
    });
    expect(bad.status).toBe(400);
    expect(Object.keys(bad.body.error.fields).sort()).toEqual(['extra', 'object', 'operation']);
    expect((await job('nope')).status).toBe(404);
    expect((await job('0123456789abcdef01234567')).status).toBe(404);
    expect((await results('0123456789abcdef01234567', 'failedResults')).status).toBe(404);
  });

  it('refuses jobs to staff without Manage Internal Users, and rows beyond the creator rights fail alone', async () => {
    const { token: none } = await staffToken('nojobs@example.com', []);
    const res = await auth(request(t.app).post('/api/v1/jobs/ingest'), none).send({
      object: 'User',
      operation: 'insert',
    });
    expect(res.status).toBe(403);
    expect(res.body.error.permission).toBe('manageInternalUsers');
    const { token: internalOnly } = await staffToken('internal-only@example.com', ['manageInternalUsers']);
    const id = (await createJob(internalOnly)).id;
    await auth(request(t.app).put(`/api/v1/jobs/ingest/${id}/batches`), internalOnly)
      .set('Content-Type', 'text/csv')
      .send(`LastName,Email,ProfileId\nCust,cust.denied@example.com,${ei}\n`);
    await auth(request(t.app).patch(`/api/v1/jobs/ingest/${id}`), internalOnly).send({ state: 'UploadComplete' });
    await processAvailableJobs(worker);
    const failed = parse((await results(id, 'failedResults')).body, { columns: true }) as Record<string, string>[];
    expect(failed[0].sf__Error).toMatch(/^forbidden: .*Manage Customer Users/);
    expect(await UserModel.exists({ username: 'cust.denied@example.com' })).toBeNull();
  });

  it('a job whose creator was deactivated fails with a reason', async () => {
    const staff = await staffToken('leaver@example.com', ['manageInternalUsers', 'manageCustomerUsers']);
    const id = (await createJob(staff.token)).id;
    await auth(request(t.app).put(`/api/v1/jobs/ingest/${id}/batches`), staff.token)
      .set('Content-Type', 'text/csv')
      .send(`LastName,Email,ProfileId\nL,leaver.row@example.com,${ei}\n`);
    await auth(request(t.app).patch(`/api/v1/jobs/ingest/${id}`), staff.token).send({ state: 'UploadComplete' });
    await UserModel.updateOne({ _id: staff.userId }, { $set: { isActive: false } });
    await processAvailableJobs(worker);
    const j = await IngestJobModel.findById(id).lean();
    expect(j).toMatchObject({ state: 'Failed', errorMessage: expect.stringContaining('no longer active') });
  });
});
