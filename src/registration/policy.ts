/**
 * The site's registration policy, checked for every self-service way in: the registration form and the
 * first sign-in through an external identity provider (both call assertMayRegister before any account
 * is looked up or made). Admin, API, bulk and SCIM creation do not pass here: staff are trusted.
 *
 * Each refusal depends only on the site, the address and the invitation, never on whether the address
 * already has an account, so it tells nobody who is registered; each says what to do in plain words
 * (locales/*.json, registrationPolicy.*) and is audited (registration.refused, with the address's
 * domain only: a guest's typed address is not kept).
 */
import { isValid as mailcheckerAccepts } from 'mailchecker';
import type { Types } from 'mongoose';
import type { SiteRecord } from '../data/models';
import type { RequestContext } from '../access';
import { recordAudit } from '../audit';
import { checkRegistrationInvitation } from '../account';
import { NotFoundError, RegistrationRefusedError } from '../shared/errors';
import { domainOf, matchesAny } from '../shared/email-domains';

/**
 * Privacy relays: a real person's forwarding address. mailchecker's list blocks several of them
 * (DuckDuckGo, Firefox Relay, SimpleLogin, addy.io) but not Apple's; a site that lets relays through
 * ("allowPrivacyRelays") accepts all of these even while blocking disposable addresses.
 */
export const PRIVACY_RELAY_DOMAINS = [
  'privaterelay.appleid.com',
  'duck.com',
  'mozmail.com',
  'relay.firefox.com',
  'simplelogin.com',
  'simplelogin.fr',
  'slmail.me',
  'aleeas.com',
  'addy.io',
  'anonaddy.com',
  'anonaddy.me',
] as const;

export type RefusalReason =
  | 'registration_closed'
  | 'domain_not_allowed'
  | 'disposable_address'
  | 'invitation_required'
  | 'invitation_invalid'
  | 'invitation_other_address';

const ENGLISH: Record<RefusalReason, string> = {
  registration_closed:
    'Registration on this site is closed. If you need an account, ask the site owner to create one for you.',
  domain_not_allowed:
    'This site does not take addresses at this domain. Register with your work or organisation address, or ask the site owner.',
  disposable_address: 'This site does not take disposable addresses. Register with an address you will keep reading.',
  invitation_required:
    'This site is by invitation only. Open the link in your invitation, or ask the site owner for one.',
  invitation_invalid:
    'This invitation link is not valid any more (used, expired or withdrawn). Ask the site owner for a new one.',
  invitation_other_address:
    'Your invitation is for another address. Register with the address it was sent to, or ask the site owner for a new one.',
};

/** Refusals about the address the guest typed are shown beside the email field. */
const ABOUT_THE_ADDRESS = new Set<RefusalReason>([
  'domain_not_allowed',
  'disposable_address',
  'invitation_other_address',
]);

export function refusal(reason: RefusalReason): RegistrationRefusedError {
  return new RegistrationRefusedError(
    reason,
    ENGLISH[reason],
    `registrationPolicy.${reason}`,
    ABOUT_THE_ADDRESS.has(reason) ? { email: ENGLISH[reason] } : {},
  );
}

/** Why this address may not register on this site (null: it may), without reading any account. */
export function addressProblem(site: SiteRecord, email: string): RefusalReason | null {
  const policy = site.registrationPolicy;
  const domain = domainOf(email);
  // No domain yet (an empty or malformed address): the form's own validation says what to fix.
  if (!policy || !domain) return null;
  if (matchesAny(domain, policy.blockedDomains)) return 'domain_not_allowed';
  if (policy.allowedDomains.length && !matchesAny(domain, policy.allowedDomains)) return 'domain_not_allowed';
  if (policy.blockDisposable && !(policy.allowPrivacyRelays && matchesAny(domain, PRIVACY_RELAY_DOMAINS))) {
    // mailchecker also refuses a malformed address; only its list is asked here (any local part).
    if (!mailcheckerAccepts(`a@${domain}`)) return 'disposable_address';
  }
  return null;
}

export function assertSelfRegistrationOpen(site: Pick<SiteRecord, 'selfRegistrationEnabled'>): void {
  if (!site.selfRegistrationEnabled) throw new NotFoundError('Self-registration is not available on this site.');
}

/**
 * The page-level refusal before any address is typed (the form's GET): closed, or invite-only without
 * an invitation link. Not audited: looking at a page is not an attempt.
 */
export function assertRegistrationPageOpen(site: SiteRecord, invitationToken: string | undefined): void {
  assertSelfRegistrationOpen(site);
  const mode = site.registrationPolicy?.mode ?? 'open';
  if (mode === 'closed') throw refusal('registration_closed');
  if (mode === 'invite-only' && !invitationToken) throw refusal('invitation_required');
}

export interface MayRegister {
  /** The invitation that let the address in (invite-only sites): used up after the account is made. */
  invitation: { _id: Types.ObjectId; email: string | null } | null;
}

/**
 * Whether `email` may register on `site` by self-service, with the invitation token the guest brought
 * (if any). Throws NotFoundError when the site has no self-registration, RegistrationRefusedError (403,
 * audited) when its policy refuses. Call it before looking up or creating the account.
 */
export async function assertMayRegister(
  site: SiteRecord,
  email: string,
  invitationToken: string | undefined,
  ctx: Pick<RequestContext, 'ip'> & Partial<Pick<RequestContext, 'via'>>,
  now: Date = new Date(),
): Promise<MayRegister> {
  assertSelfRegistrationOpen(site);
  const mode = site.registrationPolicy?.mode ?? 'open';
  let reason: RefusalReason | null = mode === 'closed' ? 'registration_closed' : addressProblem(site, email);
  let invitation: MayRegister['invitation'] = null;
  if (!reason && mode === 'invite-only') {
    const found = await checkRegistrationInvitation(site._id, email, invitationToken, now);
    if ('problem' in found) reason = found.problem;
    else invitation = { _id: found.invitation._id, email: found.invitation.email ?? null };
  }
  if (reason) {
    await recordAudit(
      { actor: null, ip: ctx.ip, via: ctx.via ?? 'site' },
      {
        action: 'registration.refused',
        at: now,
        target: { type: 'Site', id: site._id, label: site.slug },
        after: { reason, emailDomain: domainOf(email) || null },
      },
    );
    throw refusal(reason);
  }
  return { invitation };
}
