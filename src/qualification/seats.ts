/**
 * License seats. Each change is one conditional single-document update, so two concurrent upgrades can
 * never take the last seat twice and no transaction is needed (runs on a standalone MongoDB too).
 * Operators are wrapped in trusted() because sanitizeFilter is on globally (src/data/connection.ts).
 */
import { trusted, type Types } from 'mongoose';
import { LicenseModel, UserModel } from '../data/models';

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

/**
 * Takes seats for a bulk batch's users and records the hold (its key and the users' ids) in the same
 * single-document update, so the seat count and the hold can never disagree. A key holds at most once
 * per license at a time. False when fewer seats are left.
 */
export async function takeHeldSeats(
  licenseId: Types.ObjectId,
  key: string,
  userIds: Types.ObjectId[],
): Promise<boolean> {
  if (userIds.length === 0) return true;
  const res = await LicenseModel.updateOne(
    {
      _id: licenseId,
      'seatHolds.key': trusted({ $ne: key }),
      $expr: trusted({ $lte: [{ $add: ['$usedSeats', userIds.length] }, '$totalSeats'] }),
    },
    { $inc: { usedSeats: userIds.length }, $push: { seatHolds: { key, userIds, at: new Date() } } },
  );
  return res.modifiedCount === 1;
}

/**
 * Ends a hold: gives back `unused` of its seats (users that were not created) and drops it, at once.
 * False when the hold was already settled (by its batch, or by recovery).
 */
export async function settleSeatHold(licenseId: Types.ObjectId, key: string, unused: number): Promise<boolean> {
  const res = await LicenseModel.updateOne(
    { _id: licenseId, 'seatHolds.key': key, usedSeats: trusted({ $gte: unused }) },
    { $inc: { usedSeats: -unused }, $pull: { seatHolds: { key } } },
  );
  return res.modifiedCount === 1;
}

/**
 * Settles the holds that batches under keys starting with `keyPrefix` left when they were cut off (a
 * crash between taking seats and recording their users): users of a hold that exist keep their seats,
 * the others' seats come back. Each hold is settled by one conditional update, so running this twice,
 * or from two places, gives seats back once. Returns the seats given back.
 */
export async function recoverSeatHolds(keyPrefix: string): Promise<number> {
  let released = 0;
  const startsWith = new RegExp(`^${keyPrefix.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`);
  const licenses = await LicenseModel.find({ 'seatHolds.key': trusted(startsWith) })
    .select('+seatHolds')
    .lean();
  for (const license of licenses) {
    for (const hold of (license.seatHolds ?? []).filter((h) => startsWith.test(h.key))) {
      const unused = hold.userIds.length - (await UserModel.countDocuments({ _id: trusted({ $in: hold.userIds }) }));
      if (await settleSeatHold(license._id, hold.key, unused)) released += unused;
    }
  }
  return released;
}

/** Sets the total, refusing to go below the seats in use (conditional, so no race with upgrades). */
export async function setTotalSeats(licenseId: Types.ObjectId, totalSeats: number): Promise<boolean> {
  const res = await LicenseModel.updateOne(
    { _id: licenseId, usedSeats: trusted({ $lte: totalSeats }) },
    { $set: { totalSeats } },
  );
  return res.matchedCount === 1;
}

/**
 * A bulk upgrade batch's seats: as many of `userIds` (in order: the first rows get them, as the dry run
 * said) as the license has free, held under `key` in one conditional update. Returns how many were
 * taken. A free count that moved meanwhile (another upgrade) is read again, a few times at most.
 */
export async function takeSeatsUpTo(
  licenseId: Types.ObjectId,
  key: string,
  userIds: Types.ObjectId[],
): Promise<number> {
  for (let attempt = 0; attempt < 5; attempt++) {
    const license = await LicenseModel.findById(licenseId).select('usedSeats totalSeats').lean();
    const n = Math.min(userIds.length, Math.max(0, (license?.totalSeats ?? 0) - (license?.usedSeats ?? 0)));
    if (n === 0) return 0;
    if (await takeHeldSeats(licenseId, key, userIds.slice(0, n))) return n;
  }
  return 0;
}

/**
 * Settles a bulk upgrade batch's hold left by a crash (its users were switched or not): users of the
 * hold now on the license keep their seats, the others' come back. Returns those kept and when the
 * hold was taken (the caller audits any switch the crash left unaudited); null when no hold has this key.
 */
export async function recoverUpgradeHold(
  licenseId: Types.ObjectId,
  key: string,
): Promise<{ kept: Types.ObjectId[]; at: Date } | null> {
  const license = await LicenseModel.findOne({ _id: licenseId, 'seatHolds.key': key }).select('+seatHolds').lean();
  const hold = license?.seatHolds?.find((h) => h.key === key);
  if (!hold) return null;
  const kept = (
    await UserModel.find({ _id: trusted({ $in: hold.userIds }), license: licenseId })
      .select('_id')
      .lean()
  ).map((u) => u._id);
  if (!(await settleSeatHold(licenseId, key, hold.userIds.length - kept.length))) return null;
  return { kept, at: hold.at };
}

/** Gives back `n` seats of one license at once (a bulk batch's users left it), never below zero. */
export async function releaseSeats(licenseId: Types.ObjectId, n: number): Promise<void> {
  if (n <= 0) return;
  // Fewer in use than n (a count that started below the truth): down to zero, still one conditional write.
  for (let attempt = 0; attempt < 5; attempt++) {
    if (
      (await LicenseModel.updateOne({ _id: licenseId, usedSeats: trusted({ $gte: n }) }, { $inc: { usedSeats: -n } }))
        .modifiedCount === 1
    )
      return;
    if (
      (await LicenseModel.updateOne({ _id: licenseId, usedSeats: trusted({ $lt: n }) }, { $set: { usedSeats: 0 } }))
        .matchedCount === 1
    )
      return;
  }
}
