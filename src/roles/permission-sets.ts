/**
 * Permission sets: named sets of administrative permissions, assigned to internal users on top of their
 * profile. Managing them needs Manage Profiles and Permission Sets; assigning one to a user also needs
 * the right to manage that user (Manage Internal Users). Every edit names the version it started from
 * and is one conditional update, so two admins editing one set cannot overwrite each other. Every
 * grant and removal is audited; none may lock the portal out (lockout.ts).
 */
import { trusted, Types } from 'mongoose';
import { PermissionSetModel, SiteModel, UserModel, type PermissionSetDoc } from '../data/models';
import { duplicateKeyField } from '../data/errors';
import type { Actor, RequestContext } from '../access';
import { recordAudit } from '../audit';
import { ConflictError, NotFoundError, ValidationError } from '../shared/errors';
import {
  usersHoldingSets,
  withNoLockOut,
  assertPermission,
  parsePermissionNames,
  permissionNames,
  assertCanAssign,
  assertCanChangeGrant,
  holdersOfSet,
  loadUserFor,
} from '../access';
import { isObjectIdString } from '../shared/ids';
import { MSG } from '../shared/messages';

export interface PermissionSetInput {
  name: string;
  description?: string;
  permissions?: unknown;
}

function label(set: { _id: Types.ObjectId; name: string }) {
  return { type: 'PermissionSet', id: set._id, label: set.name };
}

const nameTaken = () =>
  new ConflictError(
    'Another permission set has this name.',
    { name: 'Another permission set has this name; choose another.' },
    'name_taken',
  );

function validName(name: unknown): string {
  if (typeof name !== 'string' || !name.trim())
    throw new ValidationError(MSG.fieldsNeedAttention, { name: MSG.nameThePermissionSet });
  if (name.trim().length > 80) throw new ValidationError(MSG.fieldsNeedAttention, { name: MSG.atMostCharacters(80) });
  return name.trim();
}

export async function listPermissionSets(actor: Actor) {
  assertPermission(actor, 'manageProfiles');
  const sets = await PermissionSetModel.find().sort({ name: 1 }).lean();
  const counts = await UserModel.aggregate<{ _id: Types.ObjectId; n: number }>([
    { $match: { permissionSets: trusted({ $in: sets.map((s) => s._id) }) } },
    { $unwind: '$permissionSets' },
    { $group: { _id: '$permissionSets', n: { $sum: 1 } } },
  ]);
  const byId = new Map(counts.map((c) => [String(c._id), c.n]));
  return sets.map((s) => ({ ...s, assignedUsers: byId.get(String(s._id)) ?? 0 }));
}

export async function findPermissionSet(id: string, actor: Actor) {
  assertPermission(actor, 'manageProfiles');
  const set = isObjectIdString(id) ? await PermissionSetModel.findById(id).lean() : null;
  if (!set) throw new NotFoundError(MSG.noPermissionSet);
  return set;
}

export async function createPermissionSet(
  input: PermissionSetInput,
  ctx: RequestContext & { actor: Actor },
): Promise<PermissionSetDoc> {
  assertPermission(ctx.actor, 'manageProfiles');
  const name = validName(input.name);
  const permissions = parsePermissionNames(input.permissions);
  await assertCanChangeGrant(ctx.actor, { name, permissions: {} }, permissions, 'permission set', null);
  try {
    const set = await PermissionSetModel.create({ name, description: input.description?.trim() ?? '', permissions });
    await recordAudit(ctx, {
      action: 'permission_set.created',
      target: label(set),
      after: { name, permissions: permissionNames(permissions) },
    });
    return set;
  } catch (err) {
    if (duplicateKeyField(err) === 'name') throw nameTaken();
    throw err;
  }
}

/** Changes a set as of `version`; a set changed by someone else since is a 409 and nothing is written. */
export async function updatePermissionSet(
  id: string,
  input: Partial<PermissionSetInput> & { version: unknown },
  ctx: RequestContext & { actor: Actor },
) {
  const set = await findPermissionSet(id, ctx.actor);
  const version = Number(input.version);
  if (!Number.isInteger(version)) throw new ValidationError(MSG.fieldsNeedAttention, { version: MSG.sendVersion });
  const changes: Record<string, unknown> = {};
  if (input.name !== undefined) changes.name = validName(input.name);
  if (input.description !== undefined) changes.description = String(input.description).trim().slice(0, 255);
  if (input.permissions !== undefined) changes.permissions = parsePermissionNames(input.permissions);
  await assertCanChangeGrant(
    ctx.actor,
    set,
    (changes.permissions as Record<string, boolean>) ?? set.permissions,
    'permission set',
    holdersOfSet(set._id),
  );
  const write = async () => {
    let written;
    try {
      written = await PermissionSetModel.findOneAndUpdate(
        { _id: set._id, version },
        { $set: changes, $inc: { version: 1 } },
        { returnDocument: 'after' },
      ).lean();
    } catch (err) {
      if (duplicateKeyField(err) === 'name') throw nameTaken();
      throw err;
    }
    if (!written) throw concurrentChange('permission set');
    return written;
  };
  const updated = changes.permissions
    ? await withNoLockOut(
        { permissionSet: { id: set._id, permissions: changes.permissions as Record<string, boolean> } },
        'This change to the permission set',
        write,
        async (written) => {
          await PermissionSetModel.updateOne(
            { _id: set._id, version: written.version },
            { $set: { permissions: set.permissions }, $inc: { version: 1 } },
          );
        },
      )
    : await write();
  await recordAudit(ctx, {
    action: 'permission_set.updated',
    target: label(updated),
    before: { name: set.name, permissions: permissionNames(set.permissions) },
    after: { name: updated.name, permissions: permissionNames(updated.permissions) },
  });
  return updated;
}

export function concurrentChange(what: string): ConflictError {
  return new ConflictError(
    `This ${what} was changed by someone else since you opened it; reload it and make your change again.`,
    { version: 'Out of date: reload.' },
    'concurrent_change',
  );
}

/** A set still assigned to users can't be deleted (409 with how many); sites lose it as a member. */
export async function deletePermissionSet(id: string, ctx: RequestContext & { actor: Actor }): Promise<void> {
  const set = await findPermissionSet(id, ctx.actor);
  await assertCanChangeGrant(ctx.actor, set, null, 'permission set', holdersOfSet(set._id));
  const holders = await usersHoldingSets([set._id]);
  if (holders > 0) {
    throw new ConflictError(
      `${holders} user${holders === 1 ? '' : 's'} hold${holders === 1 ? 's' : ''} this permission set; remove it from them before deleting it.`,
      {},
      'in_use',
    );
  }
  const res = await PermissionSetModel.deleteOne({ _id: set._id });
  if (res.deletedCount !== 1) throw new NotFoundError(MSG.noPermissionSet);
  await SiteModel.updateMany({ 'members.permissionSets': set._id }, { $pull: { 'members.permissionSets': set._id } });
  await recordAudit(ctx, {
    action: 'permission_set.deleted',
    target: label(set),
    before: { name: set.name, permissions: permissionNames(set.permissions) },
  });
}

/** The internal user an assignment is about, checked: manage profiles, see and manage the user. */
async function assignmentTarget(userId: string, ctx: RequestContext & { actor: Actor }) {
  const user = await loadUserFor('assignAccess', userId, ctx);
  if (user.userType !== 'internal') {
    throw new ConflictError(
      'Permission sets are for internal users; external users get access through their profile and license.',
      {},
      'internal_only',
    );
  }
  return user;
}

export async function userPermissionSets(userId: string, actor: Actor) {
  const user = await loadUserFor('view', userId, { actor, via: 'admin' });
  return PermissionSetModel.find({ _id: trusted({ $in: user.permissionSets ?? [] }) })
    .sort({ name: 1 })
    .lean();
}

export async function assignPermissionSet(userId: string, setId: string, ctx: RequestContext & { actor: Actor }) {
  const user = await assignmentTarget(userId, ctx);
  const set = isObjectIdString(setId) ? await PermissionSetModel.findById(setId).lean() : null;
  if (!set) throw new ValidationError(MSG.fieldsNeedAttention, { permissionSetId: MSG.noPermissionSet });
  assertCanAssign(ctx, set, 'permission set');
  const res = await UserModel.updateOne(
    { _id: user._id, permissionSets: trusted({ $ne: set._id }) },
    { $push: { permissionSets: set._id } },
  );
  if (res.modifiedCount === 1) {
    await recordAudit(ctx, {
      action: 'user.permission_set_assigned',
      target: { type: 'User', id: user._id, label: user.username },
      after: { permissionSet: set.name, permissionSetId: String(set._id) },
    });
  }
  return set;
}

export async function removePermissionSet(userId: string, setId: string, ctx: RequestContext & { actor: Actor }) {
  const user = await assignmentTarget(userId, ctx);
  const id = isObjectIdString(setId) ? new Types.ObjectId(setId) : null;
  if (!id || !(user.permissionSets ?? []).some((s) => s.equals(id)))
    throw new NotFoundError('This user does not hold this permission set.');
  const remaining = (user.permissionSets ?? []).filter((s) => !s.equals(id));
  await withNoLockOut(
    { user: { id: user._id, permissionSets: remaining } },
    'Removing this permission set',
    async () => {
      const res = await UserModel.updateOne({ _id: user._id, permissionSets: id }, { $pull: { permissionSets: id } });
      if (res.modifiedCount !== 1) throw new NotFoundError('This user does not hold this permission set.');
    },
    async () => {
      await UserModel.updateOne(
        { _id: user._id, permissionSets: trusted({ $ne: id }) },
        { $push: { permissionSets: id } },
      );
    },
  );
  const set = await PermissionSetModel.findById(id).lean();
  await recordAudit(ctx, {
    action: 'user.permission_set_removed',
    target: { type: 'User', id: user._id, label: user.username },
    before: { permissionSet: set?.name ?? String(id), permissionSetId: String(id) },
  });
}
