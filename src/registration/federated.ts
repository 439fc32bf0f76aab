/**
 * Self-registration through an external identity provider: the same rules as the form (the site takes
 * registrations, its contactless profile, one address one account, the same audit event and the same
 * verification mail), without a password: the person signs in through their provider.
 */
import type { SiteRecord, UserDoc } from '../data/models';
import type { RequestContext } from '../access';
import { createUser, assertEmailFree } from '../users';
import { sendVerificationLink } from '../account';
import { asEmailConflict, contactlessProfileOf } from './registration';
import { assertMayRegister } from './policy';

export interface FederatedRegistrationInput {
  firstName: string;
  lastName: string;
  email: string;
  localeSidKey?: string;
  languageLocaleKey?: string;
  timeZoneSidKey?: string;
}

export async function registerFederatedUser(
  site: SiteRecord,
  input: FederatedRegistrationInput,
  ctx: Omit<RequestContext, 'actor' | 'via'>,
): Promise<UserDoc> {
  // The site's registration policy (open, invite-only or closed; domain rules; disposable addresses), as the form.
  await assertMayRegister(site, input.email, undefined, { ip: ctx.ip, via: 'site' });
  const { profile } = await contactlessProfileOf(site);
  // A provider may send no family name: the local part of the address stands in (the schema needs one).
  const lastName = input.lastName || input.email.split('@')[0] || 'User';
  let user: UserDoc;
  try {
    await assertEmailFree(input.email);
    user = await createUser(
      {
        firstName: input.firstName,
        lastName,
        email: input.email,
        profileId: profile._id,
        siteId: site._id,
        localeSidKey: input.localeSidKey,
        languageLocaleKey: input.languageLocaleKey,
        timeZoneSidKey: input.timeZoneSidKey ?? 'GMT',
        emailEncodingKey: 'UTF-8',
      },
      { actor: null, ip: ctx.ip, via: 'site' },
    );
  } catch (err) {
    throw asEmailConflict(err);
  }
  await sendVerificationLink(user, { area: 'site', siteSlug: site.slug });
  return user;
}
