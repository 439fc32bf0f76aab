/**
 * What each scope releases about a person, read from the user as they are now (so an upgrade, a
 * downgrade or a change of name shows at the next token refresh or userinfo call). The portal's own
 * claims use their own names where a standard claim already means something else: OpenID's `profile`
 * claim is a profile page URL, so the portal profile is `portal_profile`.
 */
import { AccountModel, ContactModel, LicenseModel, ProfileModel, type UserDoc } from '../data/models';

export const SCOPE_CLAIMS = {
  openid: ['sub'],
  email: ['email', 'email_verified'],
  profile: ['name', 'given_name', 'family_name', 'locale', 'zoneinfo'],
  portal: ['contactless', 'license', 'portal_profile', 'account'],
} as const;

/** en_US (the portal's locale key) to en-US (BCP 47, as OpenID's `locale` claim expects). */
const bcp47 = (key: string) => key.replace('_', '-');

export async function claimsOf(user: UserDoc): Promise<Record<string, unknown>> {
  const [license, profile, contact] = await Promise.all([
    LicenseModel.findById(user.license).select('name').lean(),
    ProfileModel.findById(user.profile).select('name').lean(),
    user.contact ? ContactModel.findById(user.contact).select('account').lean() : null,
  ]);
  const account = contact ? await AccountModel.findById(contact.account).select('name').lean() : null;
  return {
    sub: String(user._id),
    email: user.email,
    email_verified: Boolean(user.emailVerifiedAt),
    name: [user.firstName, user.lastName].filter(Boolean).join(' '),
    given_name: user.firstName || undefined,
    family_name: user.lastName,
    locale: bcp47(user.languageLocaleKey),
    zoneinfo: user.timeZoneSidKey,
    contactless: !user.contact,
    license: license?.name ?? null,
    portal_profile: profile?.name ?? null,
    // Only a qualified user (one with a contact) has an account.
    ...(account ? { account: { id: String(account._id), name: account.name } } : {}),
  };
}
