/**
 * Who may manage whom, following Salesforce's rules for contactless users:
 * - internal users: Manage Internal Users;
 * - customer users (contactless or not): Manage Internal Users AND Manage Customer Users;
 * - partner users (contactless or not): Manage Internal Users AND Manage External Users.
 * Delegated admins (members of a delegated admin group) may edit, reset the password of, and
 * (de)activate external users whose contact belongs to an assigned account, and nothing more.
 * Contactless users have no contact and so no account: delegated admins can't manage them.
 */
import type { Types } from 'mongoose';
import { PERMISSION_LABELS, type Permission, type UserType } from '../data/models';
import type { Actor } from './actor';
import { ForbiddenError, NotFoundError } from '../shared/errors';
import { MSG } from '../shared/messages';

export interface ManagedUser {
  userType: UserType;
  contact: Types.ObjectId | null;
  /** The account of the user's contact, when known; needed only for delegated admins. */
  contactAccount?: Types.ObjectId | null;
}

/** Operations delegated admins may do; everything else needs the full permissions. */
export type UserOperation = 'view' | 'edit' | 'resetPassword' | 'setActive' | 'create' | 'qualify' | 'changeLicense';
const DELEGABLE: ReadonlySet<UserOperation> = new Set(['view', 'edit', 'resetPassword', 'setActive']);

export function requiredPermissions(userType: UserType): Permission[] {
  if (userType === 'internal') return ['manageInternalUsers'];
  if (userType === 'customer') return ['manageInternalUsers', 'manageCustomerUsers'];
  return ['manageInternalUsers', 'manageExternalUsers'];
}

export function missingPermissions(actor: Actor, userType: UserType): Permission[] {
  return requiredPermissions(userType).filter((p) => !actor.permissions[p]);
}

export function isDelegatedAdmin(actor: Actor): boolean {
  return actor.delegatedAccountIds.length > 0;
}

function describe(userType: UserType, contactless: boolean): string {
  if (userType === 'internal') return 'internal users';
  return `${contactless ? 'contactless ' : ''}${userType} users`;
}

/** Throws ForbiddenError naming the missing permission when the actor may not do `op` to `target`. */
export function assertCanManage(actor: Actor, target: ManagedUser, op: UserOperation): void {
  const missing = missingPermissions(actor, target.userType);
  if (missing.length === 0) return;
  if (isDelegatedAdmin(actor) && target.userType !== 'internal') {
    if (!target.contact) {
      throw new ForbiddenError(
        "Delegated administrators can't manage contactless users: a contactless user has no contact, so no account that could be delegated.",
        'delegatedAdministration',
      );
    }
    const inScope =
      target.contactAccount != null && actor.delegatedAccountIds.some((a) => a.equals(target.contactAccount!));
    if (!inScope) {
      throw new ForbiddenError(
        "This user's contact belongs to an account that isn't assigned to your delegated admin group.",
        'delegatedAdministration',
      );
    }
    if (DELEGABLE.has(op)) return;
    throw new ForbiddenError(
      `Delegated administrators can't do this; it needs ${missing.map((p) => PERMISSION_LABELS[p]).join(' and ')}.`,
      missing[0],
    );
  }
  const names = missing.map((p) => PERMISSION_LABELS[p]).join(' and ');
  throw new ForbiddenError(
    `Managing ${describe(target.userType, !target.contact)} needs ${requiredPermissions(target.userType)
      .map((p) => PERMISSION_LABELS[p])
      .join(' and ')}; you are missing ${names}.`,
    missing[0],
  );
}

/**
 * Users the actor may not even view are answered as missing (NotFoundError, 404), exactly like an id
 * that matches no user: a refusal must not tell what kind of user an id belongs to.
 */
export function assertVisible(actor: Actor, target: ManagedUser): void {
  try {
    assertCanManage(actor, target, 'view');
  } catch (err) {
    if (err instanceof ForbiddenError) throw new NotFoundError(MSG.noUser);
    throw err;
  }
}

/** Throws unless the actor holds `permission` (sites, licenses, API tokens, audit trail). */
export function assertPermission(actor: Actor, permission: Permission): void {
  if (!actor.permissions[permission]) {
    throw new ForbiddenError(`This needs the ${PERMISSION_LABELS[permission]} permission.`, permission);
  }
}

/** Throws unless the actor holds at least one of `permissions` (lists several features need). */
export function assertAnyPermission(actor: Actor, permissions: Permission[]): void {
  if (permissions.some((p) => actor.permissions[p])) return;
  throw new ForbiddenError(
    `This needs one of these permissions: ${permissions.map((p) => PERMISSION_LABELS[p]).join(', ')}.`,
    permissions[0],
  );
}

/**
 * Any work on users needs Manage Internal Users or membership of a delegated admin group. Checked
 * before any user is looked up, so an actor with neither gets 403 whatever the id, and learns nothing.
 */
export function assertUserAdministrator(actor: Actor): void {
  if (actor.permissions.manageInternalUsers || isDelegatedAdmin(actor)) return;
  throw new ForbiddenError(
    'Working with users needs the Manage Internal Users permission (or membership of a delegated admin group).',
    'manageInternalUsers',
  );
}

/** Login As: the permission, full management rights over the user, and a contact (Salesforce's rule). */
export function assertCanLoginAs(actor: Actor, target: ManagedUser & { isActive: boolean }): void {
  if (target.userType === 'internal') throw new ForbiddenError('Login As is available for site users only.', 'loginAs');
  if (!target.contact) {
    throw new ForbiddenError('Login As requires a contact: add a contact to this user first.', 'loginAs');
  }
  assertPermission(actor, 'loginAs');
  const missing = missingPermissions(actor, target.userType);
  if (missing.length) {
    throw new ForbiddenError(`Login As needs ${missing.map((p) => PERMISSION_LABELS[p]).join(' and ')}.`, missing[0]);
  }
  if (!target.isActive)
    throw new ForbiddenError('This user is inactive; activate them before using Login As.', 'loginAs');
}

export function canLoginAs(actor: Actor, target: ManagedUser & { isActive: boolean }): boolean {
  try {
    assertCanLoginAs(actor, target);
    return true;
  } catch {
    return false;
  }
}

/** The user types the actor may list with full rights (delegated scope is added by the repository). */
export function manageableUserTypes(actor: Actor): UserType[] {
  return (['internal', 'customer', 'partner'] as UserType[]).filter((t) => missingPermissions(actor, t).length === 0);
}
