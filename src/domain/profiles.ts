/** Profiles as integrations see them: each with its license and whether that license needs a contact. */
import { LicenseModel, ProfileModel } from '../data/models';
import { PROFILE_NAMES } from '../data/seed';
import { NotFoundError } from './errors';

export async function listProfiles() {
  const [profiles, licenses] = await Promise.all([ProfileModel.find().sort({ name: 1 }).lean(), LicenseModel.find().lean()]);
  const byId = new Map(licenses.map((l) => [String(l._id), l]));
  return profiles.map((p) => ({ profile: p, license: byId.get(String(p.license)) ?? null }));
}

/** The profile a user created without one gets: External Identity User, so the user is contactless. */
export async function defaultProfileId() {
  const profile = await ProfileModel.findOne({ name: PROFILE_NAMES.externalIdentityUser }).select('_id').lean();
  if (!profile) throw new NotFoundError('The External Identity User profile is missing; send a profileId.');
  return profile._id;
}
