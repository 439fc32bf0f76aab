/** Sites: name, address (slug), self-registration switch and registration profile. */
import { trusted, Types } from 'mongoose';
import { LicenseModel, ProfileModel, SiteModel, type SiteDoc } from '../data/models';
import type { Actor, RequestContext } from './actor';
import { recordAudit } from './audit';
import { ConflictError, NotFoundError, ValidationError } from './errors';
import { assertPermission } from './permissions';
import { validateAndSave } from './save';

export interface SiteInput {
  name: string; slug: string; selfRegistrationEnabled: boolean; registrationProfileId: string;
  /** Account lifecycle settings; left as they are when not given. */
  allowUnverifiedSignIn?: boolean; requireMfa?: boolean; usernameFollowsEmail?: boolean;
}

export function listSites() {
  return SiteModel.find().sort({ name: 1 }).populate('registrationProfile', 'name').lean();
}

/** Profiles a site may register guests with: external ones whose license needs no contact. */
export async function registrationProfiles() {
  const licenses = await LicenseModel.find({ requiresContact: false }).lean();
  return ProfileModel.find({ license: trusted({ $in: licenses.map((l) => l._id) }), userType: trusted({ $ne: 'internal' }) }).sort({ name: 1 }).lean();
}

async function validProfile(id: string) {
  const allowed = await registrationProfiles();
  const found = allowed.find((p) => String(p._id) === id);
  if (!found) throw new ValidationError('Some fields need attention.', { registrationProfileId: 'Choose an External Identity profile.' });
  return found;
}

function saveSite(site: SiteDoc): Promise<void> {
  return validateAndSave(site, { slug: () => new ConflictError('Another site has this address.', { slug: 'Another site has this address; choose another.' }, 'slug_taken') });
}

/** New sites start with self-registration off, whatever the form says: an admin turns it on deliberately. */
export async function createSite(input: Omit<SiteInput, 'selfRegistrationEnabled'>, ctx: RequestContext & { actor: Actor }): Promise<SiteDoc> {
  assertPermission(ctx.actor, 'manageSites');
  const profile = await validProfile(input.registrationProfileId);
  const site = new SiteModel({ name: input.name, slug: input.slug, selfRegistrationEnabled: false, registrationProfile: profile._id });
  await saveSite(site);
  await recordAudit(ctx, { action: 'site.created', target: { type: 'Site', id: site._id, label: site.slug }, after: { name: site.name, slug: site.slug } });
  return site;
}

export async function updateSite(id: string, input: SiteInput, ctx: RequestContext & { actor: Actor }): Promise<SiteDoc> {
  assertPermission(ctx.actor, 'manageSites');
  const site = Types.ObjectId.isValid(id) && /^[0-9a-f]{24}$/i.test(id) ? await SiteModel.findById(id) : null;
  if (!site) throw new NotFoundError('No site has this id.');
  const profile = await validProfile(input.registrationProfileId);
  const before = { name: site.name, slug: site.slug, selfRegistrationEnabled: site.selfRegistrationEnabled, registrationProfile: String(site.registrationProfile), allowUnverifiedSignIn: site.allowUnverifiedSignIn, requireMfa: site.requireMfa, usernameFollowsEmail: site.usernameFollowsEmail };
  site.set({ name: input.name, slug: input.slug, selfRegistrationEnabled: input.selfRegistrationEnabled, registrationProfile: profile._id });
  if (input.allowUnverifiedSignIn !== undefined) site.allowUnverifiedSignIn = input.allowUnverifiedSignIn;
  if (input.requireMfa !== undefined) site.requireMfa = input.requireMfa;
  if (input.usernameFollowsEmail !== undefined) site.usernameFollowsEmail = input.usernameFollowsEmail;
  await saveSite(site);
  await recordAudit(ctx, { action: 'site.updated', target: { type: 'Site', id: site._id, label: site.slug }, before, after: { name: site.name, slug: site.slug, selfRegistrationEnabled: site.selfRegistrationEnabled, registrationProfile: String(profile._id), allowUnverifiedSignIn: site.allowUnverifiedSignIn, requireMfa: site.requireMfa, usernameFollowsEmail: site.usernameFollowsEmail } });
  return site;
}
