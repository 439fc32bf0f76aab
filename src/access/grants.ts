/**
 * The escalation rules over permission records, pure (as Salesforce and Keycloak rule it):
 * - nobody grants a permission they do not hold;
 * - nobody acts on someone whose effective permissions are not a subset of their own.
 * Each check throws ForbiddenError naming the first permission missing, so the API can say which.
 */
import { PERMISSIONS, PERMISSION_LABELS, type Permission } from '../data/models';
import type { Actor } from './actor';
import { ForbiddenError } from '../shared/errors';

export type Grants = Partial<Record<Permission, boolean | null>> | null | undefined;

/** The permissions `grants` carries that the actor does not hold. */
export function lacking(actor: Actor, grants: Grants): Permission[] {
  return PERMISSIONS.filter((p) => grants?.[p] && !actor.permissions[p]);
}

const names = (ps: Permission[]) => ps.map((p) => PERMISSION_LABELS[p]).join(', ');

export function canGrant(actor: Actor, grants: Grants): boolean {
  return lacking(actor, grants).length === 0;
}

/** `what` names what would be granted ("The profile System Administrator"). */
export function assertCanGrant(actor: Actor, grants: Grants, what: string): void {
  const missing = lacking(actor, grants);
  if (missing.length === 0) return;
  throw new ForbiddenError(
    `${what} carries permissions you do not hold (${names(missing)}); nobody grants a permission they do not hold.`,
    missing[0],
  );
}

export function canActOn(actor: Actor, targetPermissions: Grants): boolean {
  return lacking(actor, targetPermissions).length === 0;
}

/** `who` names the target ("admin@example.com"); their effective permissions must be a subset of the actor's. */
export function assertNotAbove(actor: Actor, targetPermissions: Grants, who: string): void {
  const missing = lacking(actor, targetPermissions);
  if (missing.length === 0) return;
  throw new ForbiddenError(
    `${who} holds permissions you do not (${names(missing)}); only someone who holds every one of them may change, reset, deactivate or act as this user.`,
    missing[0],
  );
}
