/**
 * The one access module: who may do what to which user, profile or permission set. The admin pages, the
 * API, SCIM and bulk ingest reach users and grants through the domain services, which ask here first.
 * Rules (README, Security):
 * - the kind of user decides the permissions needed (src/access/permissions.ts: Manage Internal, Customer
 *   or External Users; delegated admins within their accounts);
 * - nobody acts on a user whose effective permissions (profile + permission sets) are not a subset of
 *   their own: edit, reset, invite, send links, reset two-factor, (de)activate, end sessions, change
 *   profile or sets, Login As (grants.ts);
 * - nobody grants a permission they do not hold: assigning a profile or a set, creating, cloning or
 *   editing one (grants.ts);
 * - changing an internal user's profile or permission sets needs Manage Profiles and Permission Sets;
 * - a profile or set held by someone with more rights than the actor can't be changed by the actor
 *   (changing it would change that user).
 * Who asks is an explicit kind (context.ts: staff, token, guest, system); the guest and system kinds
 * are a visible branch at each rule below, never a skipped check.
 */
import { trusted, type Types } from 'mongoose';
import {
  ContactModel,
  PermissionSetModel,
  ProfileModel,
  UserModel,
  type Permission,
  type UserDoc,
} from '../data/models';
import { effectivePermissions, noPermissions, unionOf, type Actor, type RequestContext } from './actor';
import { isDomainError, NotFoundError, type DomainError } from '../shared/errors';
import {
  assertCanManage,
  assertPermission,
  assertUserAdministrator,
  assertVisible,
  type ManagedUser,
  type UserOperation as ManageOperation,
} from './permissions';
import { assertCanGrant, assertNotAbove, canActOn, lacking, type Grants } from './grants';
import { accessOf, hasActor } from './context';
import { parseIdOr404 } from '../shared/ids';
import { MSG } from '../shared/messages';

export { assertCanGrant, assertNotAbove, canActOn, canGrant, lacking } from './grants';
export { accessOf, checkActor, hasActor, type AccessContext } from './context';

/** What can be done to a user; `assignAccess` is changing an internal user's profile or permission sets. */
export type UserOperation = ManageOperation | 'assignAccess' | 'loginAs';

/** The user as the permission rules see it, with the account of their contact. */
export async function managedView(user: Pick<UserDoc, 'userType' | 'contact'>): Promise<ManagedUser> {
  const contact = user.contact ? await ContactModel.findById(user.contact).lean() : null;
  return { userType: user.userType, contact: user.contact ?? null, contactAccount: contact?.account ?? null };
}

async function findUser(userId: string | Types.ObjectId): Promise<UserDoc> {
  const user = await UserModel.findById(parseIdOr404(userId, MSG.noUser));
  if (!user) throw new NotFoundError(MSG.noUser);
  return user;
}

/** Throws unless the actor holds every permission the user holds (strict subset rule). */
export async function assertNotAboveUser(actor: Actor, user: UserDoc): Promise<void> {
  assertNotAbove(actor, await effectivePermissions(user), user.username);
}

export async function canActOnUser(actor: Actor, user: UserDoc): Promise<boolean> {
  return canActOn(actor, await effectivePermissions(user));
}

/**
 * The user `operation` is about, after the whole check in order: the actor administers users at all
 * (before the lookup, so a 403 whatever the id), may change grants when that is the operation, can see
 * this user (else 404, like an unknown id), holds everything the user holds, and may do the operation
 * to this kind of user.
 */
export async function loadUserFor(
  operation: UserOperation,
  userId: string | Types.ObjectId,
  ctx: RequestContext,
): Promise<UserDoc> {
  const access = accessOf(ctx);
  // Guest and system: the flow that asks (registration, seeding) decides; there is no actor to check.
  if (!hasActor(access)) return findUser(userId);
  const { actor } = access;
  assertUserAdministrator(actor);
  if (operation === 'assignAccess') assertPermission(actor, 'manageProfiles');
  const user = await findUser(userId);
  const view = await managedView(user);
  assertVisible(actor, view);
  if (operation === 'view') return user;
  await assertNotAboveUser(actor, user);
  if (operation !== 'loginAs') assertCanManage(actor, view, operation === 'assignAccess' ? 'changeLicense' : operation);
  return user;
}

/**
 * loadUserFor for many users at once (a bulk action's batch): the same checks in the same order, with
 * the users, their contacts, profiles and permission sets read in one query each. Each id maps to its
 * user or to the domain error loadUserFor would have thrown for it; a refusal of the actor as a whole
 * (not a user administrator at all) is thrown, as there.
 */
export async function loadUsersFor(
  operation: UserOperation,
  userIds: Types.ObjectId[],
  ctx: RequestContext,
): Promise<Map<string, UserDoc | DomainError>> {
  const access = accessOf(ctx);
  const out = new Map<string, UserDoc | DomainError>();
  if (hasActor(access)) {
    assertUserAdministrator(access.actor);
    if (operation === 'assignAccess') assertPermission(access.actor, 'manageProfiles');
  }
  const users = await UserModel.find({ _id: trusted({ $in: userIds }) });
  const byId = new Map(users.map((u) => [String(u._id), u]));
  const [contacts, profiles, sets] = await Promise.all([
    ContactModel.find({ _id: trusted({ $in: users.map((u) => u.contact).filter(Boolean) }) })
      .select('account')
      .lean(),
    ProfileModel.find({ _id: trusted({ $in: [...new Set(users.map((u) => String(u.profile)))] }) }).lean(),
    PermissionSetModel.find({ _id: trusted({ $in: users.flatMap((u) => u.permissionSets ?? []) }) }).lean(),
  ]);
  const accountOf = new Map(contacts.map((c) => [String(c._id), c.account]));
  const profileOf = new Map(profiles.map((p) => [String(p._id), p]));
  const setOf = new Map(sets.map((x) => [String(x._id), x]));
  for (const id of userIds) {
    const user = byId.get(String(id));
    if (!user) {
      out.set(String(id), new NotFoundError(MSG.noUser));
      continue;
    }
    if (!hasActor(access)) {
      out.set(String(id), user);
      continue;
    }
    const { actor } = access;
    try {
      const view: ManagedUser = {
        userType: user.userType,
        contact: user.contact ?? null,
        contactAccount: user.contact ? (accountOf.get(String(user.contact)) ?? null) : null,
      };
      assertVisible(actor, view);
      if (operation !== 'view') {
        assertNotAbove(
          actor,
          unionOf(profileOf.get(String(user.profile)), ...(user.permissionSets ?? []).map((s) => setOf.get(String(s)))),
          user.username,
        );
        if (operation !== 'loginAs')
          assertCanManage(actor, view, operation === 'assignAccess' ? 'changeLicense' : operation);
      }
      out.set(String(id), user);
    } catch (err) {
      if (!isDomainError(err)) throw err;
      out.set(String(id), err);
    }
  }
  return out;
}

/** `can` of loadUserFor's rules for a user already loaded (pages showing or hiding actions). */
export async function canDo(actor: Actor, operation: UserOperation, user: UserDoc): Promise<boolean> {
  try {
    if (operation === 'assignAccess') assertPermission(actor, 'manageProfiles');
    const view = await managedView(user);
    if (operation !== 'view') await assertNotAboveUser(actor, user);
    assertCanManage(
      actor,
      view,
      operation === 'assignAccess' ? 'changeLicense' : operation === 'loginAs' ? 'view' : operation,
    );
    return true;
  } catch {
    return false;
  }
}

/**
 * Assigning a profile or a permission set (create, change, API, SCIM, bulk, invitations): refused unless
 * the actor holds every permission it carries. The system grants on its own rules, except that
 * self-registration (no actor, on a site) never grants an administrative permission.
 */
export function assertCanAssign(
  ctx: RequestContext,
  grant: { name: string; permissions?: Grants },
  kind: 'profile' | 'permission set',
): void {
  const what = `The ${kind} ${grant.name}`;
  const access = accessOf(ctx);
  switch (access.kind) {
    case 'system':
      return;
    case 'guest':
      assertCanGrant(
        {
          id: null as unknown as Types.ObjectId,
          username: '',
          userType: 'internal',
          permissions: noPermissions(),
          delegatedAccountIds: [],
        },
        grant.permissions,
        what,
      );
      return;
    case 'staff':
    case 'token':
      assertCanGrant(access.actor, grant.permissions, what);
  }
}

/**
 * Creating, cloning, editing or deleting a profile or a permission set (`holders` finds its users):
 * what it will carry that it did not must be held by the actor, and nobody holding it may have more
 * rights than the actor (changing it would change them). `after` is null for a delete.
 */
export async function assertCanChangeGrant(
  actor: Actor,
  grant: { name: string; permissions?: Grants },
  after: Grants | null,
  kind: 'profile' | 'permission set',
  holders: Record<string, unknown> | null,
): Promise<void> {
  const added = Object.fromEntries(
    lacking({ ...actor, permissions: grantsRecord(grant.permissions) }, after).map((p) => [p, true]),
  ) as Grants;
  assertCanGrant(actor, added, `This change to the ${kind} ${grant.name}`);
  if (!holders) return;
  for (const user of await UserModel.find({ ...holders, userType: 'internal' }).select(
    'username profile permissionSets',
  )) {
    const missing = lacking(actor, await effectivePermissions(user));
    if (missing.length) {
      assertNotAbove(
        actor,
        Object.fromEntries(missing.map((p) => [p, true])) as Grants,
        `The ${kind} ${grant.name} is held by ${user.username}, who`,
      );
    }
  }
}

function grantsRecord(grants: Grants): Record<Permission, boolean> {
  const record = noPermissions();
  for (const p of Object.keys(record) as Permission[]) record[p] = Boolean(grants?.[p]);
  return record;
}

/** Filters for the users holding a profile or a permission set. */
export const holdersOfProfile = (id: Types.ObjectId) => ({ profile: id });
export const holdersOfSet = (id: Types.ObjectId) => ({ permissionSets: trusted({ $in: [id] }) });

// What other features use from here (their only way in).
export {
  type Actor,
  type Channel,
  type Origin,
  type RequestContext,
  type SelfOrigin,
  assertOwnerPresent,
  loadActor,
  selfContext,
  systemContext,
} from './actor';
export { usersHoldingSets, withNoLockOut } from './lockout';
export { endLoginAs, loginAsStillAllowed, startLoginAs } from './login-as';
export { parsePermissionNames, permissionNames } from './permission-names';
export {
  type ManagedUser,
  assertAnyPermission,
  assertCanManage,
  assertPermission,
  assertUserAdministrator,
  canLoginAs,
  isDelegatedAdmin,
  manageableUserTypes,
  missingPermissions,
} from './permissions';
export type { UserOperation as ManageOperation } from './permissions';
