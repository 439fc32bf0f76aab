/**
 * Who may use a site, decided at every request from the user as they are now (so an upgrade, a
 * downgrade or a membership change applies at the next request, without signing in again):
 * - signing in and staying signed in needs membership: the user's profile, or one of their permission
 *   sets, is a member of the site (internal users included);
 * - a page with an audience opens for users whose license or profile is in it.
 */
import type { Types } from 'mongoose';

interface UserAccess {
  profile: Types.ObjectId;
  license: Types.ObjectId;
  permissionSets?: Types.ObjectId[] | null;
}
interface SiteMembers {
  members?: { profiles: readonly Types.ObjectId[]; permissionSets: readonly Types.ObjectId[] } | null;
}
export interface PageAudience {
  slug: string;
  title: string;
  audience?: { licenses: readonly Types.ObjectId[]; profiles: readonly Types.ObjectId[] } | null;
}

export function isSiteMember(site: SiteMembers, user: UserAccess): boolean {
  const m = site.members;
  if (!m) return false;
  return (
    m.profiles.some((p) => p.equals(user.profile)) ||
    (user.permissionSets ?? []).some((s) => m.permissionSets.some((x) => x.equals(s)))
  );
}

export function mayOpenPage(page: PageAudience, user: UserAccess | null | undefined): boolean {
  if (!user || !page.audience) return false;
  return (
    page.audience.licenses.some((l) => l.equals(user.license)) ||
    page.audience.profiles.some((p) => p.equals(user.profile))
  );
}
