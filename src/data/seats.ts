/**
 * License seats. Each change is one conditional single-document update, so two concurrent upgrades can
 * never take the last seat twice and no transaction is needed (runs on a standalone MongoDB too).
 * Operators are wrapped in trusted() because sanitizeFilter is on globally (src/data/connection.ts).
 */
import { trusted, type Types } from 'mongoose';
import { LicenseModel } from './models';

/** Takes one seat; false when none is left. */
export async function takeSeat(licenseId: Types.ObjectId): Promise<boolean> {
  const res = await LicenseModel.updateOne(
    { _id: licenseId, $expr: trusted({ $lt: ['$usedSeats', '$totalSeats'] }) },
    { $inc: { usedSeats: 1 } },
  );
  return res.modifiedCount === 1;
}

/** Gives a seat back; never lets the count fall below zero. */
export async function releaseSeat(licenseId: Types.ObjectId): Promise<void> {
  await LicenseModel.updateOne({ _id: licenseId, usedSeats: trusted({ $gt: 0 }) }, { $inc: { usedSeats: -1 } });
}

/** Takes `count` seats at once (bulk import); false when fewer are left. */
export async function takeSeats(licenseId: Types.ObjectId, count: number): Promise<boolean> {
  if (count <= 0) return true;
  const res = await LicenseModel.updateOne(
    { _id: licenseId, $expr: trusted({ $lte: [{ $add: ['$usedSeats', count] }, '$totalSeats'] }) },
    { $inc: { usedSeats: count } },
  );
  return res.modifiedCount === 1;
}

export async function releaseSeats(licenseId: Types.ObjectId, count: number): Promise<void> {
  if (count <= 0) return;
  await LicenseModel.updateOne({ _id: licenseId, usedSeats: trusted({ $gte: count }) }, { $inc: { usedSeats: -count } });
}

/** Sets the total, refusing to go below the seats in use (conditional, so no race with upgrades). */
export async function setTotalSeats(licenseId: Types.ObjectId, totalSeats: number): Promise<boolean> {
  const res = await LicenseModel.updateOne(
    { _id: licenseId, usedSeats: trusted({ $lte: totalSeats }) },
    { $set: { totalSeats } },
  );
  return res.matchedCount === 1;
}
