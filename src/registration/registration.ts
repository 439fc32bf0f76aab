/**
 * Self-registration: a guest on a site becomes a contactless user with the site's registration profile.
 * No contact is created here; contacts come later, when an admin qualifies the user.
 */
import { LicenseModel, ProfileModel, type SiteRecord, type UserDoc } from '../data/models';
import { siteBySlug } from '../sites';
import type { RequestContext } from '../access';
import { ConflictError, NotFoundError } from '../shared/errors';
import { createUser } from '../users';
import { sendVerificationLink } from '../account';

export interface RegistrationInput {
  firstName: string;
  lastName: string;
  email: string;
  password: string;
  /** Salesforce-style locale from the browser's Accept-Language, e.g. en_US. */
  localeSidKey?: string;
  languageLocaleKey?: string;
  /** IANA time zone reported by the browser; GMT when absent or unknown. */
  timeZoneSidKey?: string;
}

export async function findSiteBySlug(slug: string): Promise<SiteRecord> {
  const site = /^[a-z0-9-]{1,40}$/.test(slug) ? await siteBySlug(slug) : null;
  if (!site) throw new NotFoundError('There is no site at this address.');
  return site;
}

export function assertSelfRegistrationOpen(site: SiteRecord): void {
  if (!site.selfRegistrationEnabled) throw new NotFoundError('Self-registration is not available on this site.');
}

/**
 * The profile a site's new contactless users get: its registration profile, on a license that needs no
 * contact (External Identity). Self-registration and "New external user" in the admin area both use it.
 */
export async function contactlessProfileOf(site: Pick<SiteRecord, 'registrationProfile'>, misconfigured = 'Registration on this site is misconfigured; please contact the site owner.') {
  const profile = await ProfileModel.findById(site.registrationProfile).lean();
  const license = profile && (await LicenseModel.findById(profile.license).lean());
  // A site set up with a profile that needs a contact (or no profile) cannot take contactless users.
  if (!profile || !license || license.requiresContact || profile.userType === 'internal') {
    throw new ConflictError(misconfigured, {}, 'registration_misconfigured');
  }
  return { profile, license };
}

/** On forms where the username is the email, a taken username is said in terms of the email field. */
export function asEmailConflict(err: unknown, message = 'An account with this email already exists. Log in instead.'): unknown {
  if (err instanceof ConflictError && err.code === 'username_taken') {
    return new ConflictError('An account with this email already exists.', { email: message }, 'email_taken');
  }
  return err;
}

export async function registerContactlessUser(site: SiteRecord, input: RegistrationInput, ctx: Omit<RequestContext, 'actor' | 'via'>): Promise<UserDoc> {
  assertSelfRegistrationOpen(site);
  const { profile } = await contactlessProfileOf(site);
  const missing: Record<string, string> = {};
  if (!input.firstName?.trim()) missing.firstName = 'Enter your first name.';
  if (!input.lastName?.trim()) missing.lastName = 'Enter your last name.';
  if (!input.email?.trim()) missing.email = 'Enter your email address.';
  if (!input.password) missing.password = 'Choose a password.';
  let user: UserDoc;
  try {
    user = await createUser(
    {
      firstName: input.firstName,
      lastName: input.lastName,
      email: input.email,
      profileId: profile._id,
      siteId: site._id,
      password: input.password,
      localeSidKey: input.localeSidKey,
      languageLocaleKey: input.languageLocaleKey,
      timeZoneSidKey: input.timeZoneSidKey,
      emailEncodingKey: 'UTF-8',
    },
    { actor: null, ip: ctx.ip, via: 'site' },
    missing,
  );
  } catch (err) {
    // On the registration form the username is the email: say so in the guest's terms.
    throw asEmailConflict(err);
  }
  // After registration: the address is confirmed by a link.
  await sendVerificationLink(user, { area: 'site', siteSlug: site.slug });
  return user;
}
