/**
 * Sites: name, address (slug), self-registration switch and registration profile, members and pages.
 * Members (Salesforce's "Members"): the profiles and permission sets whose users may sign in on the site.
 * New sites start with none; while self-registration is on, the registration profile must be a member
 * (else guests could register but never sign in). Pages: areas such as /s/<slug>/community open to an
 * audience of licenses or profiles. Everything here needs Manage Sites.
 */
import { trusted, Types } from 'mongoose';
import { LicenseModel, PermissionSetModel, ProfileModel, SiteModel, type SiteDoc } from '../data/models';
import type { Actor, RequestContext } from '../access';
import { recordAudit } from '../audit';
import { ConflictError, NotFoundError, ValidationError } from '../shared/errors';
import { assertPermission } from '../access';
import { validateAndSave } from '../users';
import { isObjectIdString } from '../shared/ids';
import { MSG } from '../shared/messages';

export interface SiteInput {
  name: string;
  slug: string;
  selfRegistrationEnabled: boolean;
  registrationProfileId: string;
  /**
   * A new address breaks every link to the old one (bookmarks, mails, the registration page), so it is
   * saved only when the caller confirms that very address (the form asks once; nothing is saved before).
   */
  confirmedSlug?: string;
  /** Account lifecycle settings; left as they are when not given. */
  allowUnverifiedSignIn?: boolean;
  requireMfa?: boolean;
  usernameFollowsEmail?: boolean;
}

export function listSites(actor: Actor) {
  assertPermission(actor, 'manageSites');
  return SiteModel.find().sort({ name: 1 }).populate('registrationProfile', 'name').lean();
}

/** Profiles a site may register guests with: external ones whose license needs no contact. */
export async function registrationProfiles() {
  const licenses = await LicenseModel.find({ requiresContact: false }).lean();
  return ProfileModel.find({
    license: trusted({ $in: licenses.map((l) => l._id) }),
    userType: trusted({ $ne: 'internal' }),
  })
    .sort({ name: 1 })
    .lean();
}

/** What the Sites page offers to choose from: registration profiles, members and audiences. */
export async function siteChoices(actor: Actor) {
  assertPermission(actor, 'manageSites');
  const [registration, profiles, permissionSets, licenses] = await Promise.all([
    registrationProfiles(),
    ProfileModel.find().sort({ name: 1 }).select('name userType').lean(),
    PermissionSetModel.find().sort({ name: 1 }).select('name').lean(),
    LicenseModel.find().sort({ name: 1 }).select('name userType').lean(),
  ]);
  return { registration, profiles, permissionSets, licenses };
}

/** The profile new sites register guests with unless told otherwise. */
export const DEFAULT_REGISTRATION_PROFILE = 'External Identity User';

async function validProfile(id: string) {
  const allowed = await registrationProfiles();
  const found = id
    ? allowed.find((p) => String(p._id) === id)
    : (allowed.find((p) => p.name === DEFAULT_REGISTRATION_PROFILE) ?? allowed[0]);
  if (!found) throw new ValidationError(MSG.fieldsNeedAttention, { registrationProfileId: MSG.chooseExternalProfile });
  return found;
}

function saveSite(site: SiteDoc): Promise<void> {
  return validateAndSave(site, {
    slug: () =>
      new ConflictError(
        'Another site has this address.',
        { slug: 'Another site has this address; choose another.' },
        'slug_taken',
      ),
  });
}

async function findSite(id: string): Promise<SiteDoc> {
  const site = isObjectIdString(id) ? await SiteModel.findById(id) : null;
  if (!site) throw new NotFoundError('No site has this id.');
  return site;
}

function registrationMemberRule(site: SiteDoc, profileName: string): void {
  if (site.selfRegistrationEnabled && !site.members!.profiles.some((p) => p.equals(site.registrationProfile))) {
    throw new ValidationError(
      `While self-registration is on, the registration profile (${profileName}) must be a member of the site, or registrants could never sign in. Add it to the members first.`,
      {
        registrationProfileId: `Make ${profileName} a member of the site first.`,
      },
    );
  }
}

/** The addresses a slug change moves, for the warning before it is confirmed. */
export function slugChangeRefusal(oldSlug: string, newSlug: string): ConflictError {
  return new ConflictError(
    `Changing the address breaks links: /s/${oldSlug}/ (its pages, bookmarks and links in mails already sent) stops working, and the site moves to /s/${newSlug}/. Check and choose "Change the address" to confirm.`,
    { slug: `Links to /s/${oldSlug}/ will stop working; the site will be at /s/${newSlug}/.` },
    'slug_change_unconfirmed',
  );
}

/**
 * New sites start with self-registration off and no members, whatever the form says; without a
 * registration profile they get External Identity User.
 */
export async function createSite(
  input: Omit<SiteInput, 'selfRegistrationEnabled' | 'registrationProfileId'> & { registrationProfileId?: string },
  ctx: RequestContext & { actor: Actor },
): Promise<SiteDoc> {
  assertPermission(ctx.actor, 'manageSites');
  const profile = await validProfile(input.registrationProfileId ?? '');
  const site = new SiteModel({
    name: input.name,
    slug: input.slug,
    selfRegistrationEnabled: false,
    registrationProfile: profile._id,
    members: { profiles: [], permissionSets: [] },
  });
  await saveSite(site);
  await recordAudit(ctx, {
    action: 'site.created',
    target: { type: 'Site', id: site._id, label: site.slug },
    after: { name: site.name, slug: site.slug },
  });
  return site;
}

export async function updateSite(
  id: string,
  input: SiteInput,
  ctx: RequestContext & { actor: Actor },
): Promise<SiteDoc> {
  assertPermission(ctx.actor, 'manageSites');
  const site = await findSite(id);
  const profile = await validProfile(input.registrationProfileId);
  const before = {
    name: site.name,
    slug: site.slug,
    selfRegistrationEnabled: site.selfRegistrationEnabled,
    registrationProfile: String(site.registrationProfile),
    allowUnverifiedSignIn: site.allowUnverifiedSignIn,
    requireMfa: site.requireMfa,
    usernameFollowsEmail: site.usernameFollowsEmail,
  };
  site.set({
    name: input.name,
    slug: input.slug,
    selfRegistrationEnabled: input.selfRegistrationEnabled,
    registrationProfile: profile._id,
  });
  // Asked only about a valid new address (a malformed one gets its own message when saving).
  if (
    site.isModified('slug') &&
    !site.validateSync(['slug']) &&
    input.confirmedSlug?.trim().toLowerCase() !== site.slug
  )
    throw slugChangeRefusal(before.slug, site.slug);
  if (input.allowUnverifiedSignIn !== undefined) site.allowUnverifiedSignIn = input.allowUnverifiedSignIn;
  if (input.requireMfa !== undefined) site.requireMfa = input.requireMfa;
  if (input.usernameFollowsEmail !== undefined) site.usernameFollowsEmail = input.usernameFollowsEmail;
  registrationMemberRule(site, profile.name);
  await saveSite(site);
  await recordAudit(ctx, {
    action: 'site.updated',
    target: { type: 'Site', id: site._id, label: site.slug },
    before,
    after: {
      name: site.name,
      slug: site.slug,
      selfRegistrationEnabled: site.selfRegistrationEnabled,
      registrationProfile: String(profile._id),
      allowUnverifiedSignIn: site.allowUnverifiedSignIn,
      requireMfa: site.requireMfa,
      usernameFollowsEmail: site.usernameFollowsEmail,
    },
  });
  return site;
}

/** Ids as sent, each known, or a 422 naming the unknown ones (a deleted profile, a typo). */
async function knownIds(
  model: typeof ProfileModel | typeof PermissionSetModel | typeof LicenseModel,
  ids: unknown,
  field: string,
  what: string,
): Promise<Types.ObjectId[]> {
  const list = ids === undefined || ids === null || ids === '' ? [] : Array.isArray(ids) ? ids : [ids];
  const bad = list.filter((v) => typeof v !== 'string' || !isObjectIdString(v));
  const unique = [
    ...new Set(
      list.filter((v): v is string => typeof v === 'string' && isObjectIdString(v)).map((v) => v.toLowerCase()),
    ),
  ].map((v) => new Types.ObjectId(v));
  const found = new Set(
    (
      await (model as typeof ProfileModel)
        .find({ _id: trusted({ $in: unique }) })
        .select('_id')
        .lean()
    ).map((d) => String(d._id)),
  );
  const missing = [
    ...bad.map((v) => String(v).slice(0, 30)),
    ...unique.filter((u) => !found.has(String(u))).map(String),
  ];
  if (missing.length)
    throw new ValidationError(MSG.fieldsNeedAttention, {
      [field]: `No ${what} has ${missing.length > 1 ? 'these ids' : 'this id'}: ${missing.join(', ')}.`,
    });
  return unique;
}

/** Replaces the site's members; the registration profile must stay one while self-registration is on. */
export async function setSiteMembers(
  id: string,
  input: { profileIds?: unknown; permissionSetIds?: unknown },
  ctx: RequestContext & { actor: Actor },
): Promise<SiteDoc> {
  assertPermission(ctx.actor, 'manageSites');
  const site = await findSite(id);
  const profiles = await knownIds(ProfileModel, input.profileIds, 'profileIds', 'profile');
  const permissionSets = await knownIds(
    PermissionSetModel,
    input.permissionSetIds,
    'permissionSetIds',
    'permission set',
  );
  const before = {
    profiles: site.members!.profiles.map(String),
    permissionSets: site.members!.permissionSets.map(String),
  };
  site.members = { profiles, permissionSets };
  const registration = await ProfileModel.findById(site.registrationProfile).select('name').lean();
  registrationMemberRule(site, registration?.name ?? 'the registration profile');
  await saveSite(site);
  await recordAudit(ctx, {
    action: 'site.members_changed',
    target: { type: 'Site', id: site._id, label: site.slug },
    before,
    after: { profiles: profiles.map(String), permissionSets: permissionSets.map(String) },
  });
  return site;
}

/** Who may open one of the site's pages: any of these licenses or profiles. */
export async function setPageAudience(
  id: string,
  pageSlug: string,
  input: { licenseIds?: unknown; profileIds?: unknown },
  ctx: RequestContext & { actor: Actor },
): Promise<SiteDoc> {
  assertPermission(ctx.actor, 'manageSites');
  const site = await findSite(id);
  const page = site.pages.find((p) => p.slug === pageSlug);
  if (!page) throw new NotFoundError('This site has no page at that address.');
  const licenses = await knownIds(LicenseModel, input.licenseIds, 'licenseIds', 'license');
  const profiles = await knownIds(ProfileModel, input.profileIds, 'profileIds', 'profile');
  const before = { licenses: page.audience!.licenses.map(String), profiles: page.audience!.profiles.map(String) };
  page.audience = { licenses, profiles };
  await saveSite(site);
  await recordAudit(ctx, {
    action: 'site.page_audience_changed',
    target: { type: 'Site', id: site._id, label: `${site.slug}/${page.slug}` },
    before,
    after: { licenses: licenses.map(String), profiles: profiles.map(String) },
  });
  return site;
}
