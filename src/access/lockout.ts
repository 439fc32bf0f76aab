/**
 * No lock-out: the portal must keep at least one active internal user who can manage internal users
 * and profiles (Manage Internal Users + Manage Profiles and Permission Sets, from their profile or
 * their permission sets). Every change that could take that away (editing or deleting a profile or a
 * permission set, removing a set from a user, deactivating a user, changing an internal user's
 * profile) asks this module first with the change as a hypothesis; if the portal has such a user now
 * and would have none afterwards, the change is refused with a ConflictError that says why.
 * Staff are few, so the count is made in memory over the internal users.
 */
import { trusted, type Types } from 'mongoose';
import { PermissionSetModel, ProfileModel, UserModel, type Permission } from '../data/models';
import { advanceGuard, guardGeneration } from './admin-guard';
import { unionOf } from './actor';
import { ConflictError } from '../shared/errors';

export const KEY_PERMISSIONS: readonly Permission[] = ['manageInternalUsers', 'manageProfiles'];

type Perms = Partial<Record<Permission, boolean>>;

export interface Hypothesis {
  profile?: { id: Types.ObjectId; permissions: Perms };
  /** `permissions: null` means the set is deleted. */
  permissionSet?: { id: Types.ObjectId; permissions: Perms | null };
  user?: { id: Types.ObjectId; isActive?: boolean; profile?: Types.ObjectId; permissionSets?: Types.ObjectId[] };
}

/** Active internal users who can manage internal users and profiles, once `h` is applied. */
export async function keyAdministrators(h: Hypothesis = {}): Promise<number> {
  const [profiles, sets, users] = await Promise.all([
    ProfileModel.find({ userType: 'internal' }).select('permissions').lean(),
    PermissionSetModel.find().select('permissions').lean(),
    UserModel.find({ userType: 'internal', $or: [{ isActive: true }, ...(h.user ? [{ _id: h.user.id }] : [])] })
      .select('isActive profile permissionSets')
      .lean(),
  ]);
  const profilePerms = new Map<string, Perms | null | undefined>(
    profiles.map((p) => [String(p._id), p.permissions as Perms]),
  );
  const setPerms = new Map<string, Perms | null | undefined>(sets.map((s) => [String(s._id), s.permissions as Perms]));
  if (h.profile) profilePerms.set(String(h.profile.id), h.profile.permissions);
  if (h.permissionSet) setPerms.set(String(h.permissionSet.id), h.permissionSet.permissions);
  let count = 0;
  for (const u of users) {
    const mine = h.user && h.user.id.equals(u._id) ? { ...u, ...stripUndefined(h.user) } : u;
    if (!mine.isActive) continue;
    const grants = [mine.profile, ...(mine.permissionSets ?? [])].map((id, i) => ({
      permissions: (i === 0 ? profilePerms : setPerms).get(String(id)) ?? null,
    }));
    const effective = unionOf(...grants);
    if (KEY_PERMISSIONS.every((p) => effective[p])) count++;
  }
  return count;
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

function lockOut(what: string): ConflictError {
  return new ConflictError(
    `${what} would leave the portal without an active user who can manage internal users and profiles (Manage Internal Users and Manage Profiles and Permission Sets). Give another active internal user both permissions first.`,
    {},
    'lockout',
  );
}

/** Refuses `what` when it would take the last active user who can manage internal users and profiles. */
export async function assertNoLockOut(h: Hypothesis, what: string): Promise<void> {
  if ((await keyAdministrators(h)) > 0) return;
  if ((await keyAdministrators()) === 0) return; // nobody has both now: this change does not make it worse
  throw lockOut(what);
}

/**
 * The check and the write as one step (src/data/admin-guard.ts explains the guard): `write` runs only
 * after the check passed, and is undone (`undo`, a conditional write of the old values) when a change
 * committed concurrently means that both together would leave no administrator.
 */
export async function withNoLockOut<T>(
  h: Hypothesis,
  what: string,
  write: () => Promise<T>,
  undo: (written: T) => Promise<void>,
): Promise<T> {
  let generation = await guardGeneration();
  await assertNoLockOut(h, what);
  const written = await write();
  while (!(await advanceGuard(generation))) {
    generation = await guardGeneration();
    if ((await keyAdministrators()) === 0) {
      await undo(written);
      throw lockOut(what);
    }
  }
  return written;
}

/** Internal users holding any of these permission sets (the count a refusal names). */
export function usersHoldingSets(ids: Types.ObjectId[]) {
  return UserModel.countDocuments({ permissionSets: trusted({ $in: ids }) });
}
