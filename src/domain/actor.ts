/**
 * The person (or API token) acting: who they are and what they may do. Built once per request from the
 * signed-in user, their profile's permissions and the delegated admin groups they belong to.
 */
import type { Types } from 'mongoose';
import { DelegatedAdminGroupModel, ProfileModel, UserModel, PERMISSIONS, type Permission, type UserType } from '../data/models';

export type Channel = 'site' | 'admin' | 'api' | 'scim' | 'bulk' | 'system';

export interface Actor {
  id: Types.ObjectId;
  username: string;
  userType: UserType;
  permissions: Readonly<Record<Permission, boolean>>;
  /** Accounts assigned to the delegated admin groups the actor is a member of. */
  delegatedAccountIds: readonly Types.ObjectId[];
}

/** Where a change came from, for the audit trail. */
export interface RequestContext {
  actor: Actor | null;
  ip?: string | null;
  via: Channel;
}

export function noPermissions(): Record<Permission, boolean> {
  return Object.fromEntries(PERMISSIONS.map((p) => [p, false])) as Record<Permission, boolean>;
}

/** Loads an active internal user as an actor; null when the user is missing, inactive or external. */
export async function loadActor(userId: Types.ObjectId | string): Promise<Actor | null> {
  const user = await UserModel.findById(userId).lean();
  if (!user || !user.isActive || user.userType !== 'internal') return null;
  const profile = await ProfileModel.findById(user.profile).lean();
  const permissions = noPermissions();
  for (const p of PERMISSIONS) permissions[p] = Boolean(profile?.permissions?.[p]);
  const groups = await DelegatedAdminGroupModel.find({ members: user._id }).lean();
  const delegatedAccountIds = groups.flatMap((g) => g.accounts);
  return { id: user._id, username: user.username, userType: user.userType, permissions, delegatedAccountIds };
}

export const systemContext: RequestContext = { actor: null, via: 'system' };

/** A user acting on their own account: named in the audit trail, with no administrative permission. */
export function selfContext(user: { _id: Types.ObjectId; username: string; userType: UserType }, ip?: string | null): RequestContext {
  return { actor: { id: user._id, username: user.username, userType: user.userType, permissions: noPermissions(), delegatedAccountIds: [] }, ip, via: 'site' };
}
