/**
 * What an admin sees of one user and the edits delegated admins may also make: name, email and the
 * like. Password resets and invitations are links by mail (src/domain/invitations.ts).
 */
import { trusted } from 'mongoose';
import { AccountModel, AuditEventModel, ContactModel, LicenseModel, LoginEventModel, ProfileModel, SiteModel, UserModel } from '../data/models';
import type { Actor, RequestContext } from './actor';
import { recordAudit } from './audit';
import { assertCanManage, canLoginAs } from './permissions';
import { managedView } from './qualification';
import { conflictFor, findUserOr404 } from './users';
import { validateAndSave } from './save';

export async function userDetails(userId: string, actor: Actor) {
  const user = await findUserOr404(userId);
  const view = await managedView(user);
  assertCanManage(actor, view, 'view');
  const [profile, license, contact, site, logins, events] = await Promise.all([
    ProfileModel.findById(user.profile).lean(),
    LicenseModel.findById(user.license).lean(),
    user.contact ? ContactModel.findById(user.contact).lean() : null,
    user.site ? SiteModel.findById(user.site).lean() : null,
    LoginEventModel.find({ user: user._id }).sort({ at: -1 }).limit(10).lean(),
    AuditEventModel.find({ 'target.id': user._id }).sort({ at: -1 }).limit(50).lean(),
  ]);
  const hasPassword = Boolean(await UserModel.exists({ _id: user._id, passwordHash: trusted({ $type: 'string' }) }));
  const account = contact ? await AccountModel.findById(contact.account).lean() : null;
  return { user, profile, license, contact, account, site, logins, events, hasPassword, canLoginAs: canLoginAs(actor, { ...view, isActive: user.isActive }) };
}

export interface UserEdits {
  firstName: string; lastName: string; email: string; communityNickname: string; alias: string;
  localeSidKey: string; timeZoneSidKey: string; languageLocaleKey: string; emailEncodingKey: string;
}

/** Changes the given fields only (the admin form sends its five, the API any of them). */
export async function editUser(userId: string, edits: Partial<UserEdits>, ctx: RequestContext & { actor: Actor }) {
  const user = await findUserOr404(userId);
  assertCanManage(ctx.actor, await managedView(user), 'edit');
  const changed = Object.fromEntries(Object.entries(edits).filter(([, v]) => v !== undefined));
  const before = Object.fromEntries(Object.keys(changed).map((k) => [k, user.get(k)]));
  user.set(changed);
  await validateAndSave(user, { communityNickname: () => conflictFor('communityNickname') });
  await recordAudit(ctx, { action: 'user.edited', target: { type: 'User', id: user._id, label: user.username }, before, after: changed });
  return user;
}

/** Contacts not held by any user, for the "Associate contact" picker. */
export async function freeContacts(limit = 200) {
  const held = await UserModel.find({ contact: trusted({ $ne: null }) }).select('contact').lean();
  const heldIds = held.map((u) => u.contact);
  return ContactModel.find({ _id: trusted({ $nin: heldIds }) }).sort({ lastName: 1 }).limit(limit).populate('account', 'name').lean();
}

export function listAccounts() {
  return AccountModel.find().sort({ name: 1 }).limit(500).lean();
}

/** Profiles an admin can upgrade to: licenses that require a contact. */
export async function upgradeProfiles() {
  const licenses = await LicenseModel.find({ requiresContact: true }).lean();
  return ProfileModel.find({ license: trusted({ $in: licenses.map((l) => l._id) }) }).sort({ name: 1 }).lean();
}
