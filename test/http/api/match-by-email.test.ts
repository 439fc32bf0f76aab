/**
 * matchBy=email on POST /users/:id/contact: the contact with the user's email is associated instead of
 * a duplicate made; none matching creates the new contact sent (or is 409 no_match with nothing written);
 * several are 409 ambiguous_match. And a contact is never associated twice: two concurrent requests
 * associating one contact with two users give one 200 and one 409 contact_taken, one holder in the database.
 * Bulk ingest jobs take the same rule as a job option.
 */
import request from 'supertest';
import { startTestApp, type TestApp } from '../../helpers/app';
import { adminToken } from './tokens';
import { AccountModel, ContactModel, ProfileModel, UserModel } from '../../../src/data/models';
import { processAvailableJobs } from '../../../src/ingest/ingest-worker';

let t: TestApp;
let token: string;
let accountId: string;
beforeAll(async () => {
  t = await startTestApp('api-match-by-email');
  token = (await adminToken()).token;
  accountId = String((await AccountModel.create({ name: 'Acme' }))._id);
});
afterAll(() => t.stop());

const post = (p: string, body: unknown) =>
  request(t.app)
    .post(`/api/v1${p}`)
    .set('Authorization', `Bearer ${token}`)
    .send(body as object);
let n = 0;
async function contactless(email?: string): Promise<string> {
  n++;
  const res = await post('/users', {
    lastName: `Match${n}`,
    email: email ?? `match${n}@acme.example`,
    username: `match${n}@users.example`,
  });
  expect(res.status).toBe(201);
  return res.body.id;
}

it('associates the contact with the same email instead of creating a duplicate', async () => {
  const contact = await ContactModel.create({ lastName: 'Known', email: 'known@acme.example', account: accountId });
  const id = await contactless('known@acme.example');
  const before = await ContactModel.countDocuments();
  const res = await post(`/users/${id}/contact`, { matchBy: 'email', lastName: 'Ignored', accountName: 'Never made' });
  expect(res.status).toBe(200);
  expect(res.body.contactId).toBe(String(contact._id));
  expect(await ContactModel.countDocuments()).toBe(before);
  expect(await AccountModel.countDocuments({ name: 'Never made' })).toBe(0);
});

it('creates the contact sent when none matches, and is 409 no_match without one, writing nothing', async () => {
  const id = await contactless();
  const before = await ContactModel.countDocuments();
  const refused = await post(`/users/${id}/contact`, { matchBy: 'email' });
  expect(refused.status).toBe(409);
  expect(refused.body.error.code).toBe('no_match');
  expect(await ContactModel.countDocuments()).toBe(before);
  expect((await UserModel.findById(id).lean())!.contact).toBeNull();

  const created = await post(`/users/${id}/contact`, { matchBy: 'email', lastName: 'New', accountId });
  expect(created.status).toBe(200);
  const contact = (await ContactModel.findById(created.body.contactId).lean())!;
  expect(contact).toMatchObject({ lastName: 'New' });
});

it('refuses to guess between several contacts with the email (409 ambiguous_match) and a bad match rule (400)', async () => {
  await ContactModel.create([
    { lastName: 'Twin1', email: 'twin@acme.example', account: accountId },
    { lastName: 'Twin2', email: 'twin@acme.example', account: accountId },
  ]);
  const id = await contactless('twin@acme.example');
  const res = await post(`/users/${id}/contact`, { matchBy: 'email' });
  expect(res.status).toBe(409);
  expect(res.body.error.code).toBe('ambiguous_match');
  expect((await UserModel.findById(id).lean())!.contact).toBeNull();
  const bad = await post(`/users/${id}/contact`, { matchBy: 'name' });
  expect(bad.status).toBe(400);
  expect(bad.body.error.fields.matchBy).toBeDefined();
  const both = await post(`/users/${id}/contact`, { matchBy: 'email', contactId: '0123456789abcdef01234567' });
  expect(both.status).toBe(400);
});

it('never associates one contact with two users, even with two requests at once', async () => {
  const contact = await ContactModel.create({
    lastName: 'Contested',
    email: 'contested@acme.example',
    account: accountId,
  });
  // One address, one account: the second contender has another address and names the contact by id.
  const [a, b] = [await contactless('contested@acme.example'), await contactless('rival@acme.example')];
  const answers = await Promise.all([
    post(`/users/${a}/contact`, { matchBy: 'email' }),
    post(`/users/${b}/contact`, { contactId: String(contact._id) }),
  ]);
  expect(answers.map((r) => r.status).sort()).toEqual([200, 409]);
  expect(answers.find((r) => r.status === 409)!.body.error.code).toBe('contact_taken');
  expect(await UserModel.countDocuments({ contact: contact._id })).toBe(1);
  // And later, a third user naming the taken contact is refused, nothing written.
  const c = await contactless('third@acme.example');
  const later = await post(`/users/${c}/contact`, { contactId: String(contact._id) });
  expect(later.status).toBe(409);
  expect(later.body.error.code).toBe('contact_taken');
  expect(await UserModel.countDocuments({ contact: contact._id })).toBe(1);
});

it('bulk ingest with matchBy=email: a row gets the contact with its email; several or a taken one fail the row', async () => {
  const community = String((await ProfileModel.findOne({ name: 'Customer Community User' }).lean())!._id);
  const ei = String((await ProfileModel.findOne({ name: 'External Identity User' }).lean())!._id);
  const free = await ContactModel.create({
    lastName: 'Ingested',
    email: 'ingest-free@acme.example',
    account: accountId,
  });
  await ContactModel.create([
    { lastName: 'D1', email: 'ingest-twin@acme.example', account: accountId },
    { lastName: 'D2', email: 'ingest-twin@acme.example', account: accountId },
  ]);
  const created = await post('/jobs/ingest', { object: 'User', operation: 'insert', matchBy: 'email' });
  expect(created.status).toBe(201);
  expect(created.body.matchBy).toBe('email');
  const job = created.body.id;
  const csv = `LastName,Email,Username,ProfileId\nFree,ingest-free@acme.example,i1@users.example,${community}\nTwin,ingest-twin@acme.example,i2@users.example,${community}\nNone,ingest-none@acme.example,i3@users.example,${ei}\n`;
  expect(
    (
      await request(t.app)
        .put(`/api/v1/jobs/ingest/${job}/batches`)
        .set('Authorization', `Bearer ${token}`)
        .type('text/csv')
        .send(csv)
    ).status,
  ).toBe(201);
  expect(
    (
      await request(t.app)
        .patch(`/api/v1/jobs/ingest/${job}`)
        .set('Authorization', `Bearer ${token}`)
        .send({ state: 'UploadComplete' })
    ).status,
  ).toBe(200);
  expect(await processAvailableJobs({ owner: 'match-test' })).toBe(1);
  expect(await UserModel.findOne({ username: 'i1@users.example' }).lean()).toMatchObject({ contact: free._id });
  expect(await UserModel.findOne({ username: 'i3@users.example' }).lean()).toMatchObject({ contact: null });
  expect(await UserModel.countDocuments({ username: 'i2@users.example' })).toBe(0);
  const failed = await request(t.app)
    .get(`/api/v1/jobs/ingest/${job}/failedResults`)
    .set('Authorization', `Bearer ${token}`);
  expect(failed.text).toContain('ambiguous_match: Several contacts have the email ingest-twin@acme.example');
  expect(
    await request(t.app)
      .post('/api/v1/jobs/ingest')
      .set('Authorization', `Bearer ${token}`)
      .send({ object: 'User', operation: 'insert', matchBy: 'name' })
      .then((r) => r.status),
  ).toBe(400);
});
