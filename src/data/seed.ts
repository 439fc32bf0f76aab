/**
 * Idempotent seed: the licenses, profiles and default site every installation starts with. Each is an
 * upsert keyed on its unique name with $setOnInsert, so running it again (or on several instances at
 * once) changes nothing that an admin has edited since.
 */
import { LicenseModel, ProfileModel, SiteModel, type Permission, type UserType } from './models';

interface LicenseSeed { name: string; userType: UserType; requiresContact: boolean; totalSeats: number }
interface ProfileSeed { name: string; license: string; userType: UserType; permissions?: Permission[] }

export const LICENSE_NAMES = {
  externalIdentity: 'External Identity',
  customerCommunity: 'Customer Community',
  customerCommunityPlus: 'Customer Community Plus',
  partnerCommunity: 'Partner Community',
  internal: 'Salesforce',
} as const;

export const PROFILE_NAMES = {
  externalIdentityUser: 'External Identity User',
  externalIdentityPartnerUser: 'External Identity Partner User',
  customerCommunityUser: 'Customer Community User',
  customerCommunityPlusUser: 'Customer Community Plus User',
  partnerCommunityUser: 'Partner Community User',
  systemAdministrator: 'System Administrator',
  standardUser: 'Standard User',
} as const;

const LICENSES: LicenseSeed[] = [
  { name: LICENSE_NAMES.externalIdentity, userType: 'customer', requiresContact: false, totalSeats: 1_000_000 },
  { name: LICENSE_NAMES.customerCommunity, userType: 'customer', requiresContact: true, totalSeats: 100 },
  { name: LICENSE_NAMES.customerCommunityPlus, userType: 'customer', requiresContact: true, totalSeats: 50 },
  { name: LICENSE_NAMES.partnerCommunity, userType: 'partner', requiresContact: true, totalSeats: 25 },
  { name: LICENSE_NAMES.internal, userType: 'internal', requiresContact: false, totalSeats: 50 },
];

const ALL_PERMISSIONS: Permission[] = [
  'manageInternalUsers', 'manageCustomerUsers', 'manageExternalUsers', 'loginAs',
  'manageSites', 'manageLicenses', 'manageApiTokens', 'viewAuditTrail', 'viewOutbox',
];

const PROFILES: ProfileSeed[] = [
  { name: PROFILE_NAMES.externalIdentityUser, license: LICENSE_NAMES.externalIdentity, userType: 'customer' },
  { name: PROFILE_NAMES.externalIdentityPartnerUser, license: LICENSE_NAMES.externalIdentity, userType: 'partner' },
  { name: PROFILE_NAMES.customerCommunityUser, license: LICENSE_NAMES.customerCommunity, userType: 'customer' },
  { name: PROFILE_NAMES.customerCommunityPlusUser, license: LICENSE_NAMES.customerCommunityPlus, userType: 'customer' },
  { name: PROFILE_NAMES.partnerCommunityUser, license: LICENSE_NAMES.partnerCommunity, userType: 'partner' },
  { name: PROFILE_NAMES.systemAdministrator, license: LICENSE_NAMES.internal, userType: 'internal', permissions: ALL_PERMISSIONS },
  // Internal staff without user-management rights; delegated admin groups give them scoped rights.
  { name: PROFILE_NAMES.standardUser, license: LICENSE_NAMES.internal, userType: 'internal' },
];

export const DEFAULT_SITE_SLUG = 'portal';

export async function seed(): Promise<void> {
  for (const l of LICENSES) {
    await LicenseModel.updateOne({ name: l.name }, { $setOnInsert: { ...l, usedSeats: 0 } }, { upsert: true });
  }
  const licenses = new Map((await LicenseModel.find().lean()).map((l) => [l.name, l._id]));
  for (const p of PROFILES) {
    const permissions = Object.fromEntries((p.permissions ?? []).map((k) => [k, true]));
    await ProfileModel.updateOne(
      { name: p.name },
      { $setOnInsert: { name: p.name, license: licenses.get(p.license), userType: p.userType, permissions } },
      { upsert: true },
    );
  }
  const registrationProfile = await ProfileModel.findOne({ name: PROFILE_NAMES.externalIdentityUser }).lean();
  await SiteModel.updateOne(
    { slug: DEFAULT_SITE_SLUG },
    {
      $setOnInsert: {
        name: 'Customer Portal',
        slug: DEFAULT_SITE_SLUG,
        selfRegistrationEnabled: true,
        registrationProfile: registrationProfile!._id,
        defaultAccount: null,
      },
    },
    { upsert: true },
  );
}
