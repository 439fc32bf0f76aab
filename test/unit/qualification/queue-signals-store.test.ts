/**
 * The queue's stored ranking in the database: the events that change a signal (registration, sign-in,
 * verification, a contact with the same email or company domain, association) mark the user stale in
 * the same write, the queue read recomputes exactly those, the clock alone ends a time-based signal
 * (an injected now, no waiting), and the page is read through the score index, not a scan.
 */
import { trusted, type Types } from 'mongoose';
import { startTestApp, type TestApp } from '../../helpers/app';
import { AccountModel, ContactModel, ProfileModel, UserModel } from '../../../src/data/models';
import { systemContext } from '../../../src/access/actor';
import { createUser } from '../../../src/users/users';
import { addContactAndAssociate } from '../../../src/qualification/qualification';
import { refreshQueueSignals } from '../../../src/qualification/queue-signals-store';
import { queueMatch, queuePage } from '../../../src/qualification/queue-query';

let t: TestApp;
let ei: Types.ObjectId;
let account: Types.ObjectId;
beforeAll(async () => {
  t = await startTestApp('queue-signals-store');
  ei = (await ProfileModel.findOne({ name: 'External Identity User' }).lean())!._id;
  account = (await AccountModel.create({ name: 'Store Co' }))._id;
});
afterAll(() => t.stop());

const DAY = 86_400_000;
const stored = (id: Types.ObjectId) =>
  UserModel.findById(id).select('queueScore queueSignals queueStaleAt queueVersion').lean();
const register = async (email: string) =>
  (await createUser({ lastName: 'Store', email, profileId: ei }, systemContext))._id;
const staleCount = (now: Date) => UserModel.countDocuments({ queueStaleAt: trusted({ $lte: now }) });

it('a registration is stale until the queue reads, then holds the score of its signals and is not recomputed again', async () => {
  const id = await register('fresh@plain.example');
  expect((await stored(id))!.queueStaleAt).toEqual(new Date(0));
  const now = new Date();
  const page = await queuePage(['customer'], {}, 1, 50, now);
  expect(page.rows.find((r) => r._id.equals(id))!.score).toBe(5);
  const after = (await stored(id))!;
  expect(after.queueScore).toBe(5);
  expect(after.queueSignals).toEqual({
    contactEmail: false,
    emailVerified: false,
    accountDomain: false,
    signedInRecently: false,
    registeredRecently: true,
  });
  expect(await staleCount(now)).toBe(0);
  expect(await refreshQueueSignals(now)).toBe(0);
});

it('a sign-in and a verification mark the user stale in the same write, and the next read adds their points', async () => {
  const id = await register('events@plain.example');
  await refreshQueueSignals(new Date());
  const before = (await stored(id))!;
  await UserModel.updateOne({ _id: id }, { $set: { lastLoginAt: new Date() } });
  await UserModel.findOneAndUpdate({ _id: id }, { $set: { emailVerifiedAt: new Date() } });
  const marked = (await stored(id))!;
  expect(marked.queueStaleAt).toEqual(new Date(0));
  expect(marked.queueVersion).toBe(before.queueVersion + 2);
  await refreshQueueSignals(new Date());
  expect((await stored(id))!.queueScore).toBe(5 + 15 + 25);
});

it('a new contact with the same email, or of the same company domain, re-ranks the users it concerns and no one else', async () => {
  const same = await register('ann@newco.example');
  const colleague = await register('bob@newco.example');
  const other = await register('cy@elsewhere.example');
  await refreshQueueSignals(new Date());
  const otherVersion = (await stored(other))!.queueVersion;
  await ContactModel.create({ lastName: 'Ann', email: 'ann@newco.example', account });
  await refreshQueueSignals(new Date());
  expect((await stored(same))!.queueScore).toBe(5 + 35 + 20);
  expect((await stored(colleague))!.queueScore).toBe(5 + 20);
  expect((await stored(other))!.queueVersion).toBe(otherVersion);
  // The contact's email changes away: both lose those points.
  await ContactModel.updateOne({ email: 'ann@newco.example' }, { $set: { email: 'ann@gmail.com' } });
  await refreshQueueSignals(new Date());
  expect((await stored(same))!.queueScore).toBe(5);
  expect((await stored(colleague))!.queueScore).toBe(5);
});

it('associating a contact takes the user out of the queue; the clock alone ends "registered recently"', async () => {
  const qualified = await register('dee@plain.example');
  const waiting = await register('eve@plain.example');
  const now = new Date();
  await refreshQueueSignals(now);
  await addContactAndAssociate(qualified, { lastName: 'Dee', accountId: String(account) }, systemContext);
  const later = new Date(now.getTime() + 31 * DAY);
  const page = await queuePage(['customer'], {}, 1, 500, later);
  expect(page.rows.some((r) => r._id.equals(qualified))).toBe(false);
  expect((await stored(qualified))!.queueScore).toBeNull();
  expect(page.rows.find((r) => r._id.equals(waiting))!.score).toBe(0);
  expect((await stored(waiting))!.queueStaleAt).toBeNull();
});

it('the ranked page is read through the score index, not a collection scan', async () => {
  const plan = await UserModel.find(queueMatch(['customer', 'partner'], {}))
    .sort({ queueScore: -1, createdAt: -1, _id: -1 })
    .limit(50)
    .explain();
  const text = JSON.stringify(plan);
  expect(text).toContain('queueScore_-1_createdAt_-1__id_-1');
  expect(text).not.toContain('COLLSCAN');
});

it('a bulkWrite that changes a signal (a bulk upgrade, association) marks the user stale in the same write; one that only writes the ranking does not', async () => {
  const id = await register('bulkwrite@plain.example');
  await refreshQueueSignals(new Date());
  const before = (await stored(id))!;
  expect(before.queueStaleAt).not.toEqual(new Date(0));
  await UserModel.bulkWrite([{ updateOne: { filter: { _id: id }, update: { $set: { queueScore: 7 } } } }]);
  const untouched = (await stored(id))!;
  expect(untouched.queueStaleAt).toEqual(before.queueStaleAt);
  expect(untouched.queueVersion).toBe(before.queueVersion);
  await UserModel.bulkWrite([
    { updateOne: { filter: { _id: id }, update: { $set: { emailVerifiedAt: new Date() } } } },
  ]);
  const marked = (await stored(id))!;
  expect(marked.queueStaleAt).toEqual(new Date(0));
  expect(marked.queueVersion).toBe(before.queueVersion + 1);
});

it('a bulkWrite that changes a searched name or the email without its derived fields is refused, and writes nothing', async () => {
  const id = await register('bulkguard@plain.example');
  await expect(
    UserModel.bulkWrite([{ updateOne: { filter: { _id: id }, update: { $set: { lastName: 'Renamed' } } } }]),
  ).rejects.toThrow(/searched field or the email/);
  await expect(
    UserModel.bulkWrite([{ updateMany: { filter: { _id: id }, update: { $set: { email: 'other@plain.example' } } } }]),
  ).rejects.toThrow(/searched field or the email/);
  const after = await UserModel.findById(id).select('lastName email').lean();
  expect(after).toMatchObject({ lastName: 'Store', email: 'bulkguard@plain.example' });
});
