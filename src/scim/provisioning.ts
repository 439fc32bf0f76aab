/**
 * Provisioning (SCIM): users created by a provisioning tool always get a contact. Salesforce does not
 * support creating contactless users through SCIM, and neither do we: a create without a contact is
 * refused with contact_required. The contact is an existing one (contactId) or a new one created in an
 * existing account (by id, or the oldest account of the given name) or a new account; if creating the
 * user then fails, the new contact and account are removed again. Uniqueness (userName, externalId) is
 * checked before the contact rule. Also what SCIM may see (never internal users, never deprovisioned
 * ones), the offset-based listing it needs (startIndex/count), and deprovisioning (SCIM DELETE).
 */
import { trusted, Types } from 'mongoose';
import { AccountModel, ContactModel, ProfileModel, UserModel, type UserDoc } from '../data/models';
import { PROFILE_NAMES } from '../data/seed';
import {
  buildUserFilter,
  type UserFilters,
  conflictFor,
  createUser,
  normaliseUsername,
  type NewUserInput,
  scopeFor,
} from '../users';
import type { Actor, RequestContext } from '../access';
import { ConflictError, NotFoundError, ValidationError } from '../shared/errors';
import { prepareContact, type ContactInput, setUserActive } from '../qualification';
import { recordAudit } from '../audit';
import { assertUserAdministrator } from '../access';
import { checkActor } from '../access';
import { isObjectIdString, toObjectId } from '../shared/ids';
import { MSG } from '../shared/messages';
import { assertEmailFree } from '../users';

export const SCIM_CONTACT_REQUIRED =
  'SCIM does not support creating contactless users: a contact is required. Send contactId, or accountId or accountName (and optionally contact details), in the extension schema.';

/** Users provisioned without a profileId get Customer Community User (they come with a contact). */
export async function defaultProvisioningProfileId(): Promise<Types.ObjectId> {
  const profile = await ProfileModel.findOne({ name: PROFILE_NAMES.customerCommunityUser }).select('_id').lean();
  if (!profile)
    throw new NotFoundError('The Customer Community User profile is missing; send a profileId in the extension.');
  return profile._id;
}

export async function provisionUser(
  input: NewUserInput,
  contact: { contactId?: string } | ContactInput | null,
  ctx: RequestContext,
): Promise<UserDoc> {
  // Uniqueness first: a client retrying a create it already made must hear 409, whatever else is wrong.
  if (await UserModel.exists({ username: normaliseUsername(input.username ?? input.email) }))
    throw conflictFor('username');
  await assertEmailFree(input.email);
  if (
    input.externalId &&
    input.externalIdOwner &&
    (await UserModel.exists({
      scimExternalIds: trusted({ $elemMatch: { owner: input.externalIdOwner, value: input.externalId } }),
    }))
  )
    throw conflictFor('externalId');
  checkActor(ctx, assertUserAdministrator);
  // Staff are managed in the admin area only: provisioning never makes an internal user (nor gives one a contact).
  const profile = isObjectIdString(String(input.profileId))
    ? await ProfileModel.findById(input.profileId).select('userType').lean()
    : null;
  if (profile?.userType === 'internal') {
    throw new ValidationError(MSG.fieldsNeedAttention, {
      profileId: 'SCIM provisions customer and partner users only; internal users are managed in the admin area.',
    });
  }
  if (!contact)
    throw new ConflictError(SCIM_CONTACT_REQUIRED, { contactId: 'A contact is required.' }, 'contact_required');
  if ('contactId' in contact && contact.contactId) return createUser({ ...input, contactId: contact.contactId }, ctx);
  const contactInput = { ...(contact as ContactInput) };
  // A provisioning tool sends the same account name for many users (often a constant): they share it.
  if (!contactInput.accountId && contactInput.accountName?.trim()) {
    const named = await AccountModel.findOne({ name: contactInput.accountName.trim() })
      .sort({ _id: 1 })
      .select('_id')
      .lean();
    if (named) contactInput.accountId = String(named._id);
  }
  const { contact: doc, account, existingAccount } = await prepareContact(contactInput);
  if (!existingAccount) await account.save();
  await doc.save();
  try {
    return await createUser({ ...input, contactId: doc._id }, ctx);
  } catch (err) {
    await ContactModel.deleteOne({ _id: doc._id });
    if (!existingAccount) await AccountModel.deleteOne({ _id: account._id });
    throw err;
  }
}

/**
 * What provisioning may see: users in the actor's scope, never internal users (staff are managed in the
 * admin area only), never users deprovisioned by a SCIM DELETE. A user outside this is "not found", so
 * a client learns nothing about users it may not see.
 */
async function provisionableFilter(actor: Actor, filters: UserFilters, extra: Record<string, unknown>[]) {
  assertUserAdministrator(actor);
  const scoped = buildUserFilter(filters, await scopeFor(actor));
  return { $and: [scoped, { userType: trusted({ $ne: 'internal' }) }, { deprovisionedAt: null }, ...extra] };
}

export async function findProvisionableUser(id: string, actor: Actor): Promise<UserDoc> {
  const oid = toObjectId(id);
  const user = oid ? await UserModel.findOne(await provisionableFilter(actor, {}, [{ _id: oid }])) : null;
  if (!user) throw new NotFoundError(MSG.noUser);
  return user;
}

/** SCIM DELETE (RFC 7644 3.6): deactivate (ending every session), then hide from SCIM; the record stays. */
export async function deprovisionUser(id: string, ctx: RequestContext & { actor: Actor }): Promise<void> {
  const user = await findProvisionableUser(id, ctx.actor);
  await setUserActive(user._id, false, ctx);
  await UserModel.updateOne({ _id: user._id }, { $set: { deprovisionedAt: new Date() } });
  await recordAudit(ctx, {
    action: 'user.deprovisioned',
    target: { type: 'User', id: user._id, label: user.username },
  });
}

/** One page by position (SCIM's startIndex is 1-based), oldest first, with the total. `extra` narrows further. */
export async function listUsersByOffset(
  actor: Actor,
  filters: UserFilters,
  startIndex: number,
  count: number,
  extra: Record<string, unknown>[] = [],
): Promise<{ total: number; records: (UserDoc & { _id: Types.ObjectId })[] }> {
  const filter = await provisionableFilter(actor, filters, extra);
  const [total, records] = await Promise.all([
    UserModel.countDocuments(filter),
    count > 0
      ? UserModel.find(filter)
          .sort({ createdAt: 1, _id: 1 })
          .skip(Math.max(0, startIndex - 1))
          .limit(count)
      : Promise.resolve([]),
  ]);
  return { total, records };
}
