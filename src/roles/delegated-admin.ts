/**
 * Delegated admin groups: members are internal users without Manage Internal Users; assigned accounts
 * bound whom they may manage (external users whose contact belongs to one of them). The page picks members
 * and accounts by searching (findGroupCandidates) and adds or removes one at a time; every operation here
 * needs Manage Internal Users.
 */
import { trusted, Types } from 'mongoose';
import { AccountModel, DelegatedAdminGroupModel, ProfileModel, UserModel } from '../data/models';
import { duplicateKeyField } from '../data/errors';
import { buildUserFilter } from '../users';
import type { Actor, RequestContext } from '../access';
import { recordAudit } from '../audit';
import { ConflictError, NotFoundError, ValidationError } from '../shared/errors';
import { assertPermission, assertCanGrant } from '../access';
import { isObjectIdString } from '../shared/ids';
import { MSG } from '../shared/messages';

const DELEGATED_RIGHTS = { manageCustomerUsers: true, manageExternalUsers: true } as const;

export type GroupPart = 'members' | 'accounts';
export interface Candidate {
  id: string;
  label: string;
  detail: string;
}

const escapeRegex = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

export function listGroups(actor: Actor) {
  assertPermission(actor, 'manageInternalUsers');
  return DelegatedAdminGroupModel.find()
    .sort({ name: 1 })
    .populate('members', 'username firstName lastName')
    .populate('accounts', 'name')
    .lean();
}

/** Profiles whose holders can't be members: they already manage every user. */
async function adminProfileIds(): Promise<Types.ObjectId[]> {
  return (await ProfileModel.find({ 'permissions.manageInternalUsers': true }).select('_id').lean()).map((p) => p._id);
}

/**
 * Who or what may be added, matching the query: internal users without Manage Internal Users (every word
 * a prefix of a word of their name, username or email, as in the users list), or accounts whose name
 * starts with the query (case ignored). At most `limit`, never those already in the group.
 */
export async function findGroupCandidates(
  actor: Actor,
  part: GroupPart,
  query: string,
  groupId?: string,
  limit = 10,
): Promise<Candidate[]> {
  assertPermission(actor, 'manageInternalUsers');
  const q = query.trim().slice(0, 100);
  if (!q) return [];
  const group = groupId && isObjectIdString(groupId) ? await DelegatedAdminGroupModel.findById(groupId).lean() : null;
  const already = (group?.[part] ?? []) as Types.ObjectId[];
  if (part === 'members') {
    const users = await UserModel.find({
      $and: [
        buildUserFilter({ q, userType: 'internal' }, null),
        { profile: trusted({ $nin: await adminProfileIds() }) },
        { _id: trusted({ $nin: already }) },
      ],
    })
      .sort({ username: 1 })
      .limit(limit)
      .select('username firstName lastName email')
      .lean();
    return users.map((u) => ({
      id: String(u._id),
      label: u.username,
      detail: [u.firstName, u.lastName].filter(Boolean).join(' '),
    }));
  }
  const accounts = await AccountModel.find({
    name: trusted({ $regex: new RegExp(`^${escapeRegex(q)}`, 'i') }),
    _id: trusted({ $nin: already }),
  })
    .sort({ name: 1 })
    .limit(limit)
    .select('name')
    .lean();
  return accounts.map((a) => ({ id: String(a._id), label: a.name, detail: '' }));
}

async function findGroup(id: string) {
  const group = isObjectIdString(id) ? await DelegatedAdminGroupModel.findById(id) : null;
  if (!group) throw new NotFoundError('No delegated admin group has this id.');
  return group;
}

/** Creates a group (no members or accounts yet) or renames one. */
export async function saveGroupName(id: string | null, name: string, ctx: RequestContext & { actor: Actor }) {
  assertPermission(ctx.actor, 'manageInternalUsers');
  const trimmed = name.trim();
  if (!trimmed) throw new ValidationError(MSG.fieldsNeedAttention, { name: MSG.nameTheGroup });
  try {
    const group = id ? await findGroup(id) : new DelegatedAdminGroupModel({ name: trimmed, members: [], accounts: [] });
    const before = id ? { name: group.name } : undefined;
    group.name = trimmed;
    await group.save();
    await recordAudit(ctx, {
      action: id ? 'delegated_group.updated' : 'delegated_group.created',
      target: { type: 'DelegatedAdminGroup', id: group._id, label: group.name },
      ...(before ? { before } : {}),
      after: { name: group.name },
    });
    return group;
  } catch (err) {
    if (duplicateKeyField(err) === 'name')
      throw new ConflictError(
        'Another group has this name.',
        { name: 'Another group has this name; choose another.' },
        'name_taken',
      );
    throw err;
  }
}

/** The member or account to add, checked: an eligible internal user, or an existing account. */
async function eligible(part: GroupPart, id: string): Promise<{ _id: Types.ObjectId; label: string }> {
  const field = part === 'members' ? 'userId' : 'accountId';
  if (!isObjectIdString(id))
    throw new ValidationError(MSG.fieldsNeedAttention, {
      [field]:
        part === 'members' ? 'Choose a user from the search results.' : 'Choose an account from the search results.',
    });
  if (part === 'accounts') {
    const account = await AccountModel.findById(id).select('name').lean();
    if (!account)
      throw new ValidationError(MSG.fieldsNeedAttention, { accountId: 'No account has this id; search again.' });
    return { _id: account._id, label: account.name };
  }
  const user = await UserModel.findById(id).select('username userType profile').lean();
  const admins = await adminProfileIds();
  if (!user || user.userType !== 'internal' || admins.some((p) => p.equals(user.profile))) {
    throw new ValidationError(MSG.fieldsNeedAttention, {
      userId: 'Only internal users without Manage Internal Users can be members.',
    });
  }
  return { _id: user._id, label: user.username };
}

/** Adds one member or account ($addToSet: adding twice changes nothing). */
export async function addToGroup(groupId: string, part: GroupPart, id: string, ctx: RequestContext & { actor: Actor }) {
  assertPermission(ctx.actor, 'manageInternalUsers');
  // A member (or a new account) gets delegated rights over customer and partner users: nobody grants them
  // without holding them (otherwise Manage Internal Users alone could make itself a delegated admin).
  assertCanGrant(ctx.actor, DELEGATED_RIGHTS, 'Membership of a delegated admin group');
  const group = await findGroup(groupId);
  const item = await eligible(part, id);
  await DelegatedAdminGroupModel.updateOne({ _id: group._id }, { $addToSet: { [part]: item._id } });
  await recordAudit(ctx, {
    action: 'delegated_group.updated',
    target: { type: 'DelegatedAdminGroup', id: group._id, label: group.name },
    after: { [part === 'members' ? 'memberAdded' : 'accountAdded']: item.label },
  });
  return { group, label: item.label };
}

/** Removes one member or account; removing one that is not there is not an error. */
export async function removeFromGroup(
  groupId: string,
  part: GroupPart,
  id: string,
  ctx: RequestContext & { actor: Actor },
) {
  assertPermission(ctx.actor, 'manageInternalUsers');
  const group = await findGroup(groupId);
  if (!isObjectIdString(id))
    throw new NotFoundError(part === 'members' ? 'This group has no such member.' : 'This group has no such account.');
  const oid = new Types.ObjectId(id);
  const label =
    part === 'members'
      ? (await UserModel.findById(oid).select('username').lean())?.username
      : (await AccountModel.findById(oid).select('name').lean())?.name;
  await DelegatedAdminGroupModel.updateOne({ _id: group._id }, { $pull: { [part]: oid } });
  await recordAudit(ctx, {
    action: 'delegated_group.updated',
    target: { type: 'DelegatedAdminGroup', id: group._id, label: group.name },
    before: { [part === 'members' ? 'memberRemoved' : 'accountRemoved']: label ?? id },
  });
  return { group, label: label ?? id };
}
