/**
 * The seat meter with an injected clock: daily snapshots, the forecast's rates and run-out date, and
 * the warning mail sent once per threshold crossing to the administrators who manage licenses only.
 */
import { startTestApp, type TestApp } from '../../helpers/app';
import { adminAgent, makeAdmin, makeStaff } from '../../helpers/admin';
import { LicenseModel, MailMessageModel, SeatSnapshotModel } from '../../../src/data/models';
import { recordAudits } from '../../../src/audit';
import { systemContext } from '../../../src/access/actor';
import {
  collectSeatSnapshots,
  runSeatMeter,
  seatForecasts,
  warnSeatsRunningOut,
} from '../../../src/qualification/seat-forecast';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp('seat-forecast');
  await makeAdmin('seats-admin@example.com');
  await makeStaff('seats-staff@example.com', ['manageInternalUsers', 'manageCustomerUsers']);
});
afterAll(() => t.stop());

const DAY = 86_400_000;
const day0 = new Date('2031-03-01T06:00:00Z');
const at = (d: number) => new Date(day0.getTime() + d * DAY);
const NAME = 'Customer Community';
const today = () => new Date();
const forecastOf = async (now: Date) => (await seatForecasts(now)).find((f) => f.name === NAME)!;
const warnings = () => MailMessageModel.find({ template: 'seat-warning' }).lean();

it('forecasts from the snapshots and warns once per crossing, only those who manage licenses', async () => {
  const start = (await LicenseModel.findOne({ name: NAME }).lean())!;
  await LicenseModel.updateOne({ _id: start._id }, { $set: { totalSeats: start.usedSeats + 10 } });
  expect(await collectSeatSnapshots(day0)).toBeGreaterThan(0);
  // A second reading the same day replaces the first, never a second snapshot.
  await collectSeatSnapshots(at(0.5));
  expect(await SeatSnapshotModel.countDocuments({ license: start._id })).toBe(1);

  // A week of 4 upgrades onto the license.
  await LicenseModel.updateOne({ _id: start._id }, { $inc: { usedSeats: 4 } });
  await recordAudits(
    systemContext,
    [1, 2, 3, 4].map((d) => ({
      action: 'user.upgraded',
      at: at(d),
      after: { profile: 'Customer Community User', license: NAME },
    })),
  );
  await collectSeatSnapshots(at(7));

  const f = await forecastOf(at(7));
  expect(f).toMatchObject({ used: start.usedSeats + 4, total: start.usedSeats + 10, free: 6, upgradesPerWeek: 1 });
  expect(f.history.map((h) => h.day)).toEqual(['2031-03-01', '2031-03-08']);
  // 6 free at about 4 a week (the first reading was half a day after day0): 10 to 11 days left.
  expect(f.netPerWeek).toBeGreaterThan(4);
  expect(f.runsOutAt!.getTime()).toBeGreaterThan(at(7 + 9).getTime());
  expect(f.runsOutAt!.getTime()).toBeLessThan(at(7 + 11).getTime());

  // Threshold 7 days: not yet. Threshold 14: warned, once, to the administrator only.
  expect(await warnSeatsRunningOut(at(7), 7)).toEqual([]);
  expect(await warnSeatsRunningOut(at(7), 14)).toEqual([NAME]);
  expect(await runSeatMeter(at(8), 14)).toEqual([]);
  const sent = await warnings();
  expect(sent.map((m) => m.to)).toEqual(['seats-admin@example.com']);
  expect(sent[0].subject).toContain(NAME);
  expect(sent[0].text).toContain('6 free');

  // Seats raised: the forecast is clear and the mark goes; running short again warns again.
  await LicenseModel.updateOne({ _id: start._id }, { $inc: { totalSeats: 1000 } });
  expect(await warnSeatsRunningOut(at(9), 14)).toEqual([]);
  expect((await LicenseModel.findById(start._id).lean())!.seatWarningSentAt).toBeNull();
  await LicenseModel.updateOne({ _id: start._id }, { $inc: { totalSeats: -1000 } });
  // By day 10 the rate has slowed (4 over 9.5 days): about 14 days left, so a 21-day threshold warns.
  expect(await warnSeatsRunningOut(at(10), 21)).toEqual([NAME]);
  expect(await warnings()).toHaveLength(2);
});

it('a license that does not grow never runs out and is never warned about', async () => {
  const f = (await seatForecasts(at(7))).find((x) => x.name !== NAME && x.netPerWeek === 0)!;
  expect(f.runsOutAt).toBeNull();
  expect((await LicenseModel.findById(f.licenseId).lean())!.seatWarningSentAt).toBeNull();
});

it("the Licenses page shows each license's rate, run-out date and daily history; staff without Manage Licenses get none of it", async () => {
  const license = (await LicenseModel.findOne({ name: 'Partner Community' }).lean())!;
  await LicenseModel.updateOne({ _id: license._id }, { $set: { usedSeats: 20, totalSeats: 30 } });
  // A week ago 13 were used: 7 a week, 10 free, so about 10 days left.
  const weekAgo = new Date(today().getTime() - 7 * DAY);
  await SeatSnapshotModel.create({
    license: license._id,
    day: weekAgo.toISOString().slice(0, 10),
    usedSeats: 13,
    totalSeats: 30,
    at: weekAgo,
  });
  await collectSeatSnapshots(today());
  const expected = (await seatForecasts(today(), license._id))[0].runsOutAt!.toISOString().slice(0, 10);
  const admin = await adminAgent(t.app, 'seats-admin@example.com');
  const page = await admin.get('/admin/licenses');
  expect(page.status).toBe(200);
  expect(page.text).toContain(`${expected}</time> (7 a week)`);
  expect(page.text).toContain('Partner Community: 20 used, 10 free');
  expect(page.text).toContain(
    `<td data-label="Day">${weekAgo.toISOString().slice(0, 10)}</td><td data-label="Used">13</td>`,
  );
  const staff = await adminAgent(t.app, 'seats-staff@example.com');
  const refused = await staff.get('/admin/licenses');
  expect(refused.status).toBe(403);
  expect(refused.text).not.toContain('Seats over time');
});
