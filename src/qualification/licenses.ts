/** Licenses and their seats, as admins and the API see and change them. */
import { LicenseModel } from '../data/models';
import { setTotalSeats } from './seats';
import type { Actor, RequestContext } from '../access';
import { recordAudit } from '../audit';
import { ConflictError, NotFoundError, ValidationError } from '../shared/errors';
import { assertAnyPermission, assertPermission } from '../access';
import { isObjectIdString } from '../shared/ids';
import { MSG } from '../shared/messages';

export function listLicenses(actor: Actor) {
  assertPermission(actor, 'manageLicenses');
  return LicenseModel.find().sort({ name: 1 }).lean();
}

/** Licenses to put a profile on: what profile administrators choose from (names and user types only). */
export function listLicensesForProfiles(actor: Actor) {
  assertAnyPermission(actor, ['manageProfiles', 'manageLicenses']);
  return LicenseModel.find().sort({ name: 1 }).select('name userType requiresContact').lean();
}

/** Sets a license's total seats; never below the seats in use (checked in the same conditional write). */
export async function changeTotalSeats(licenseId: string, totalSeats: unknown, ctx: RequestContext & { actor: Actor }) {
  assertPermission(ctx.actor, 'manageLicenses');
  const total =
    typeof totalSeats === 'string' && /^\d{1,9}$/.test(totalSeats.trim())
      ? Number(totalSeats)
      : typeof totalSeats === 'number'
        ? totalSeats
        : NaN;
  if (!Number.isInteger(total) || total < 0 || total > 100_000_000) {
    throw new ValidationError(MSG.fieldsNeedAttention, { totalSeats: 'Enter a whole number of seats, 0 or more.' });
  }
  const license = isObjectIdString(licenseId) ? await LicenseModel.findById(licenseId).lean() : null;
  if (!license) throw new NotFoundError('No license has this id.');
  if (!(await setTotalSeats(license._id, total))) {
    const now = await LicenseModel.findById(license._id).lean();
    throw new ConflictError(
      `${now!.usedSeats} ${license.name} seats are in use; the total can't go below that.`,
      { totalSeats: `At least ${now!.usedSeats}.` },
      'seats_in_use',
    );
  }
  await recordAudit(ctx, {
    action: 'license.seats_changed',
    target: { type: 'License', id: license._id, label: license.name },
    before: { totalSeats: license.totalSeats },
    after: { totalSeats: total },
  });
  return LicenseModel.findById(license._id).lean();
}
