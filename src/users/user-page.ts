/**
 * The admin user page's model, from one call: the user's details, what the viewer may do to them, and the
 * choices each of its forms offers (only what the viewer may grant). The route renders it; the rules stay
 * here, beside the users feature, so the page and a future API view of "what can I do to this user" agree.
 */
import { userDetails, listAccounts, freeContacts, upgradeProfiles } from './user-admin';
import { listPermissionSets, profilesOfType } from '../roles';
import { adminUserSessions } from '../account';
import {
  assertCanManage,
  canActOnUser,
  canGrant,
  managedView,
  type Actor,
  type ManagedUser,
  type ManageOperation,
} from '../access';
import { LicenseModel } from '../data/models';
import { LICENSE_NAMES } from '../data/seed';

/** Licenses in price order, cheapest first (the seeded community licenses; others after, by name). */
const LICENSE_ORDER: string[] = [
  LICENSE_NAMES.customerCommunity,
  LICENSE_NAMES.customerCommunityPlus,
  LICENSE_NAMES.partnerCommunity,
];
/** A license with at least this many seats is shown as "Unlimited". */
const UNLIMITED = 1_000_000;

export function seatsLeftText(license: { totalSeats: number; usedSeats: number } | null): string {
  if (!license) return '';
  if (license.totalSeats >= UNLIMITED) return 'Unlimited seats';
  return `${license.totalSeats - license.usedSeats} of ${license.totalSeats} seats left`;
}

export function seatsUsedText(license: { name: string; totalSeats: number; usedSeats: number }): string {
  if (license.totalSeats >= UNLIMITED) return `${license.name}: ${license.usedSeats} seats used (unlimited)`;
  return `${license.name}: ${license.usedSeats} of ${license.totalSeats} seats used`;
}

/** Whether the viewer may do `op` to this user: the same rule the domain applies when they try. */
export function may(actor: Actor, view: ManagedUser, op: ManageOperation): boolean {
  try {
    assertCanManage(actor, view, op);
    return true;
  } catch {
    return false;
  }
}

/** Everything the user page shows about user `id` to `actor` (404/403 as userDetails refuses). */
export async function userPageModel(id: string, actor: Actor) {
  const details = await userDetails(id, actor);
  const internal = details.user.userType === 'internal';
  const [accounts, contacts, profiles, internalProfiles, allSets, lifecycle, view, licenses] = await Promise.all([
    listAccounts(),
    freeContacts(),
    upgradeProfiles(),
    internal ? profilesOfType(['internal']) : [],
    internal && actor.permissions.manageProfiles ? listPermissionSets(actor) : [],
    adminUserSessions(id, actor),
    managedView(details.user),
    LicenseModel.find().lean(),
  ]);
  const licenseById = new Map(licenses.map((l) => [String(l._id), l]));
  const rank = (name: string) => {
    const i = LICENSE_ORDER.indexOf(name);
    return i === -1 ? LICENSE_ORDER.length : i;
  };
  const choices = profiles
    .map((p) => ({ profile: p, license: licenseById.get(String(p.license)) ?? null }))
    .filter((c) => c.license)
    .sort(
      (a, b) =>
        rank(a.license!.name) - rank(b.license!.name) ||
        a.license!.name.localeCompare(b.license!.name) ||
        a.profile.name.localeCompare(b.profile.name),
    )
    .map((c) => ({
      ...c,
      seats: seatsLeftText(c.license),
      full: c.license!.totalSeats - c.license!.usedSeats <= 0,
      current: String(details.user.profile) === String(c.profile._id),
    }));
  // The access module's rules (src/access): nothing on a user with more rights; an internal user's profile
  // needs Manage Profiles; the pickers offer only profiles and sets the viewer may grant.
  const within = await canActOnUser(actor, details.user);
  const can = {
    qualify: within && may(actor, view, 'qualify'),
    changeLicense: within && (!internal || actor.permissions.manageProfiles) && may(actor, view, 'changeLicense'),
    setActive: within && may(actor, view, 'setActive'),
    resetPassword: within && may(actor, view, 'resetPassword'),
    edit: within && may(actor, view, 'edit'),
  };
  return {
    title: `${details.user.firstName} ${details.user.lastName}`.trim(),
    ...details,
    accounts,
    contacts,
    profiles,
    choices,
    can,
    internalProfiles: internalProfiles.filter((p) => canGrant(actor, p.permissions)),
    allSets: within ? allSets.filter((ps) => canGrant(actor, ps.permissions)) : [],
    sessions: lifecycle.sessions,
    history: lifecycle.history,
  };
}
