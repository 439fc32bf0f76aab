/**
 * Self-registration: a guest on a site becomes a contactless user with the site's registration profile.
 * No contact is created here; contacts come later, when an admin qualifies the user.
 */
import { LicenseModel, ProfileModel, type SiteRecord, type UserDoc } from '../data/models';
import { siteBySlug } from '../sites';
import type { RequestContext } from '../access';
import { ConflictError, NotFoundError, ValidationError } from '../shared/errors';
import { createUser } from '../users';
import { consumeRegistrationInvitation, sendVerificationLink } from '../account';
import { assertMayRegister } from './policy';
import { extraFieldsOf, readExtraFields } from './extra-fields';
import { currentTerms, recordConsent } from './terms';
import { findAccountBySignInName } from '../users';
import { hashPassword } from '../signin';
import { lifecycleSettings } from '../shared/lifecycle-settings';
import { queueMail } from '../mail';
import { MSG } from '../shared/messages';

export interface RegistrationInput {
  firstName: string;
  lastName: string;
  email: string;
  password: string;
  /** Salesforce-style locale from the browser's Accept-Language, e.g. en_US. */
  localeSidKey?: string;
  languageLocaleKey?: string;
  /** The form's confirmation field, when it has one: a mismatch is reported with the other fields. */
  passwordConfirm?: string;
  /** IANA time zone reported by the browser; GMT when absent or unknown. */
  timeZoneSidKey?: string;
  /** The token of the invitation link the guest came with (invite-only sites). */
  invitation?: string;
  /** The form as sent: the site's extra sign-up fields are read from it (src/registration/extra-fields.ts). */
  extra?: Record<string, unknown>;
  /** The terms: whether the box was ticked, the id of the version the form showed, and where from (the ledger). */
  acceptTerms?: boolean;
  termsVersion?: string;
  userAgent?: string | null;
}

export async function findSiteBySlug(slug: string): Promise<SiteRecord> {
  const site = /^[a-z0-9-]{1,40}$/.test(slug) ? await siteBySlug(slug) : null;
  if (!site) throw new NotFoundError('There is no site at this address.');
  return site;
}

/**
 * The profile a site's new contactless users get: its registration profile, on a license that needs no
 * contact (External Identity). Self-registration and "New external user" in the admin area both use it.
 */
export async function contactlessProfileOf(
  site: Pick<SiteRecord, 'registrationProfile'>,
  misconfigured = 'Registration on this site is misconfigured; please contact the site owner.',
) {
  const profile = await ProfileModel.findById(site.registrationProfile).lean();
  const license = profile && (await LicenseModel.findById(profile.license).lean());
  // A site set up with a profile that needs a contact (or no profile) cannot take contactless users.
  if (!profile || !license || license.requiresContact || profile.userType === 'internal') {
    throw new ConflictError(misconfigured, {}, 'registration_misconfigured');
  }
  return { profile, license };
}

/** On forms where the username is the email, a taken username is said in terms of the email field. */
export function asEmailConflict(
  err: unknown,
  message = 'An account with this email already exists. Log in instead.',
): unknown {
  if (err instanceof ConflictError && err.code === 'username_taken') {
    return new ConflictError('An account with this email already exists.', { email: message }, 'email_taken');
  }
  if (err instanceof ConflictError && err.code === 'email_taken')
    return new ConflictError('An account with this email already exists.', { email: message }, 'email_taken');
  return err;
}

export async function registerContactlessUser(
  site: SiteRecord,
  input: RegistrationInput,
  ctx: Omit<RequestContext, 'actor' | 'via'>,
): Promise<UserDoc> {
  // The site's policy first, before the address is looked up: a refusal never depends on who has an account.
  const { invitation } = await assertMayRegister(site, input.email ?? '', input.invitation, ctx);
  const { profile } = await contactlessProfileOf(site);
  // Every field's problem at once, in the page's order (createUser adds the schema's and the password
  // policy's to these): the person fixes them in one go.
  const missing: Record<string, string> = {};
  if (!input.firstName?.trim()) missing.firstName = 'Enter your first name.';
  if (!input.lastName?.trim()) missing.lastName = 'Enter your last name.';
  if (!input.email?.trim()) missing.email = 'Enter your email address.';
  if (!input.password) missing.password = 'Choose a password.';
  else if (input.passwordConfirm !== undefined && input.passwordConfirm !== input.password)
    missing.passwordConfirm = MSG.passwordsDiffer;
  const extra = readExtraFields(site, input.extra ?? {});
  Object.assign(missing, extra.problems);
  // The version in effect must be accepted; one that took effect while the form was open is shown anew.
  const terms = await currentTerms(site._id);
  if (terms && !(input.acceptTerms && input.termsVersion === String(terms._id))) {
    missing.acceptTerms = input.acceptTerms
      ? 'The terms changed while you were registering: read the new version and accept it.'
      : 'Accept the terms to register.';
  }
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
        localeSidKey: extra.values.localeSidKey ?? input.localeSidKey,
        languageLocaleKey: input.languageLocaleKey,
        timeZoneSidKey: extra.values.timeZoneSidKey ?? input.timeZoneSidKey,
        phone: extra.values.phone,
        companyName: extra.values.companyName,
        emailEncodingKey: 'UTF-8',
      },
      { actor: null, ip: ctx.ip, via: 'site' },
      missing,
    );
  } catch (err) {
    if (err instanceof ValidationError)
      throw asRegistrationFields(err, [...extraFieldsOf(site).map((f) => f.field), 'acceptTerms']);
    // On the registration form the username is the email: say so in the guest's terms.
    throw asEmailConflict(err);
  }
  if (invitation) await consumeRegistrationInvitation(invitation, user._id);
  if (terms) await recordConsent(user, terms, 'registration', { ip: ctx.ip, userAgent: input.userAgent });
  // After registration: the address is confirmed by a link.
  await sendVerificationLink(user, { area: 'site', siteSlug: site.slug });
  return user;
}

/** The registration form's fields, in page order: its error summary lists problems in this order. */
const REGISTRATION_FIELDS = ['firstName', 'lastName', 'email', 'password', 'passwordConfirm'] as const;

/**
 * Field problems in the form's terms: only fields on the page, in page order, one message each. The
 * username (derived from the email) is not on the page: its problem is the email's, already listed.
 */
function asRegistrationFields(err: ValidationError, extraFields: readonly string[]): ValidationError {
  const given: Record<string, string | undefined> = { ...err.fields };
  if (given.username && !given.email) given.email = MSG.enterValidEmail;
  const fields: Record<string, string> = {};
  for (const f of [...REGISTRATION_FIELDS, ...extraFields]) if (given[f]) fields[f] = given[f];
  return new ValidationError(err.message, fields);
}

/**
 * What a registration from the site's form came to. The person registering is told the same ("check
 * your mail") either way: a taken address is never revealed on the page; its owner gets a mail instead.
 */
export type RegistrationOutcome = { kind: 'created'; user: UserDoc } | { kind: 'address-taken' };

/**
 * `countTaken` runs for a taken address before any argon2 work (the route's per-IP throttle: it may
 * throw TooManyRequestsError), so a burst of probes costs at most the allowance in hashing.
 */
export async function registerOrTellOwner(
  site: SiteRecord,
  input: RegistrationInput,
  ctx: Omit<RequestContext, 'actor' | 'via'>,
  countTaken: () => Promise<void>,
  now: Date = new Date(),
): Promise<RegistrationOutcome> {
  try {
    return { kind: 'created', user: await registerContactlessUser(site, input, ctx) };
  } catch (err) {
    if (!(err instanceof ConflictError && err.code === 'email_taken')) throw err;
    await countTaken();
    // createUser found the taken address before hashing; the same argon2 work is done now, so the
    // answer's time does not tell either.
    await hashPassword(input.password);
    await tellOwnerOfAttempt(site, input.email, now);
    return { kind: 'address-taken' };
  }
}

/** "Someone tried to register with your address": where to sign in, and how to get in without the password. */
async function tellOwnerOfAttempt(site: SiteRecord, email: string, now: Date): Promise<void> {
  const owner = await findAccountBySignInName(email);
  if (!owner || !owner.isActive) return;
  const base = `${lifecycleSettings().publicUrl}/s/${site.slug}`;
  await queueMail(
    {
      to: owner.email,
      template: 'registration-attempt',
      user: owner._id,
      language: owner.languageLocaleKey,
      locals: {
        name: (owner.firstName || owner.lastName).trim(),
        siteName: site.name,
        email: owner.email,
        loginUrl: `${base}/login`,
        forgotUrl: `${base}/forgot`,
      },
    },
    now,
  );
}
