/**
 * Delegated admin groups: members are internal users without Manage Internal Users; assigned accounts
 * bound whom they may manage (external users whose contact belongs to one of them).
 */
import { trusted } from 'mongoose';
import { AccountModel, DelegatedAdminGroupModel, ProfileModel, UserModel } from '../data/models';
import { duplicateKeyField } from '../data/errors';
import type { Actor, RequestContext } from './actor';
import { recordAudit } from './audit';
import { ConflictError, NotFoundError, ValidationError } from './errors';
import { assertPermission } from './permissions';

export function listGroups(actor: Actor) {
  assertPermission(actor, 'manageInternalUsers');
  return DelegatedAdminGroupModel.find().sort({ name: 1 }).populate('members', 'username').populate('accounts', 'name').lean();
}

/** Names one per line (usernames, account names) resolved to ids; unknown or ineligible ones are named. */
async function resolve(memberUsernames: string[], accountNames: string[]) {
  const users = await UserModel.find({ username: trusted({ $in: memberUsernames.map((u) => u.toLowerCase()) }) }).lean();
  const adminProfiles = new Set((await ProfileModel.find({ 'permissions.manageInternalUsers': true }).lean()).map((p) => String(p._id)));
  const fields: Record<string, string> = {};
  const badMembers = memberUsernames.filter((u) => {
    const found = users.find((x) => x.username === u.toLowerCase());
    return !found || found.userType !== 'internal' || adminProfiles.has(String(found.profile));
  });
  if (badMembers.length) fields.members = `Not internal users without Manage Internal Users: ${badMembers.join(', ')}`;
  const accounts = await AccountModel.find({ name: trusted({ $in: accountNames }) }).lean();
  const missing = accountNames.filter((n) => !accounts.some((a) => a.name === n));
  if (missing.length) fields.accounts = `No account named: ${missing.join(', ')}`;
  if (Object.keys(fields).length) throw new ValidationError('Some fields need attention.', fields);
  return { members: users.map((u) => u._id), accounts: accounts.map((a) => a._id) };
}

const lines = (text: string) => [...new Set(text.split(/\r?\n|,/).map((s) => s.trim()).filter(Boolean))].slice(0, 500);

export async function saveGroup(id: string | null, input: { name: string; members: string; accounts: string }, ctx: RequestContext & { actor: Actor }) {
  assertPermission(ctx.actor, 'manageInternalUsers');
  if (!input.name.trim()) throw new ValidationError('Some fields need attention.', { name: 'Name the group.' });
  const resolved = await resolve(lines(input.members), lines(input.accounts));
  try {
    const group = id
      ? await DelegatedAdminGroupModel.findByIdAndUpdate(id, { $set: { name: input.name.trim(), ...resolved } }, { returnDocument: 'after' })
      : await DelegatedAdminGroupModel.create({ name: input.name.trim(), ...resolved });
    if (!group) throw new NotFoundError('No delegated admin group has this id.');
    await recordAudit(ctx, { action: id ? 'delegated_group.updated' : 'delegated_group.created', target: { type: 'DelegatedAdminGroup', id: group._id, label: group.name }, after: { members: lines(input.members), accounts: lines(input.accounts) } });
    return group;
  } catch (err) {
    if (duplicateKeyField(err) === 'name') throw new ConflictError('Another group has this name.', { name: 'Another group has this name.' }, 'name_taken');
    throw err;
  }
}
