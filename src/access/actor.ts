/**
 * The person (or API token) acting: who they are and what they may do. Built once per request from the
 * signed-in user, their effective permissions (their profile's plus their permission sets') and the
 * delegated admin groups they belong to.
 */
import { trusted, Types } from 'mongoose';
import { ForbiddenError } from '../shared/errors';
import {
  DelegatedAdminGroupModel,
  PermissionSetModel,
  ProfileModel,
  UserModel,
  PERMISSIONS,
  type Permission,
  type UserType,
} from '../data/models';

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
  /** Login As: the user the actor is signed in as on a site; the change is recorded as the actor's, for them. */
  onBehalfOf?: { id: Types.ObjectId; username: string } | null;
  ip?: string | null;
  via: Channel;
}

/**
 * Where a site user's change to their own account comes from: the IP and, during Login As, the admin
 * signed in as them (from the site session). A plain string is the IP alone.
 */
export interface SelfOrigin {
  ip?: string | null;
  impersonator?: { userId: string; username: string } | null;
  /** The browser's User-Agent, for the security notice a change sends (security-notices.ts). */
  userAgent?: string | null;
}
export type Origin = SelfOrigin | string | null | undefined;

export function noPermissions(): Record<Permission, boolean> {
  return Object.fromEntries(PERMISSIONS.map((p) => [p, false])) as Record<Permission, boolean>;
}

/** Loads an active internal user as an actor; null when the user is missing, inactive or external. */
export async function loadActor(userId: Types.ObjectId | string): Promise<Actor | null> {
  const user = await UserModel.findById(userId).lean();
  if (!user || !user.isActive || user.userType !== 'internal') return null;
  const permissions = await effectivePermissions(user);
  const groups = await DelegatedAdminGroupModel.find({ members: user._id }).lean();
  const delegatedAccountIds = groups.flatMap((g) => g.accounts);
  return { id: user._id, username: user.username, userType: user.userType, permissions, delegatedAccountIds };
}

type Grants = { permissions?: Partial<Record<Permission, boolean | null>> | null } | null | undefined;

/** The union of the permissions of a profile and any number of permission sets. */
export function unionOf(...grants: Grants[]): Record<Permission, boolean> {
  const permissions = noPermissions();
  for (const g of grants) for (const p of PERMISSIONS) if (g?.permissions?.[p]) permissions[p] = true;
  return permissions;
}

/** A user's effective permissions: their profile's plus those of every permission set assigned to them. */
export async function effectivePermissions(user: {
  profile: Types.ObjectId;
  permissionSets?: Types.ObjectId[] | null;
}): Promise<Record<Permission, boolean>> {
  const [profile, sets] = await Promise.all([
    ProfileModel.findById(user.profile).lean(),
    user.permissionSets?.length
      ? PermissionSetModel.find({ _id: trusted({ $in: user.permissionSets }) }).lean()
      : Promise.resolve([]),
  ]);
  return unionOf(profile, ...sets);
}

export const systemContext: RequestContext = { actor: null, via: 'system' };

/**
 * Login As lets an admin see what the user sees and help, never take the account over: what proves who
 * the owner is (the password, the email, the second factor and its recovery codes) is changed by the
 * owner only. `what` names the change, e.g. "Setting up two-factor sign-in".
 */
export function assertOwnerPresent(origin: Origin, what: string): void {
  const impersonator = typeof origin === 'object' && origin ? origin.impersonator : null;
  if (impersonator) {
    throw new ForbiddenError(
      `${what} is for the user themselves, not during Login As. End Login As; the user can do it after signing in.`,
    );
  }
}

/**
 * A user acting on their own account: named in the audit trail, with no administrative permission.
 * During Login As the admin is the actor and the user the one acted for, so the trail never shows the
 * admin's change as the user's own.
 */
export function selfContext(
  user: { _id: Types.ObjectId; username: string; userType: UserType },
  origin?: Origin,
): RequestContext {
  const { ip, impersonator } =
    typeof origin === 'string' || origin == null ? { ip: origin, impersonator: null } : origin;
  if (impersonator && Types.ObjectId.isValid(impersonator.userId)) {
    return {
      actor: {
        id: new Types.ObjectId(impersonator.userId),
        username: impersonator.username,
        userType: 'internal',
        permissions: noPermissions(),
        delegatedAccountIds: [],
      },
      onBehalfOf: { id: user._id, username: user.username },
      ip,
      via: 'site',
    };
  }
  return {
    actor: {
      id: user._id,
      username: user.username,
      userType: user.userType,
      permissions: noPermissions(),
      delegatedAccountIds: [],
    },
    ip,
    via: 'site',
  };
}
