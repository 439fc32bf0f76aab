/**
 * Provisioning (SCIM): users created by a provisioning tool always get a contact. Salesforce does not
 * support creating contactless users through SCIM, and neither do we: a create without a contact is
 * refused with contact_required. The contact is an existing one (contactId) or a new one created with
 * its account here; if creating the user then fails, the new contact and account are removed again.
 * Also the offset-based listing SCIM needs (startIndex/count), over the same scope as user search.
 */
import { Types } from 'mongoose';
import { AccountModel, ContactModel, ProfileModel, UserModel, type UserDoc } from '../data/models';
import { PROFILE_NAMES } from '../data/seed';
import { buildUserFilter, type UserFilters } from '../data/user-search';
import type { Actor, RequestContext } from './actor';
import { ConflictError, NotFoundError } from './errors';
import { prepareContact, type ContactInput } from './qualification';
import { createUser, type NewUserInput } from './users';
import { scopeFor } from './user-directory';

export const SCIM_CONTACT_REQUIRED =
  'SCIM does not support creating contactless users: a contact is required. Send contactId, or accountId or accountName (and optionally contact details), in the extension schema.';

/** Users provisioned without a profileId get Customer Community User (they come with a contact). */
export async function defaultProvisioningProfileId(): Promise<Types.ObjectId> {
  const profile = await ProfileModel.findOne({ name: PROFILE_NAMES.customerCommunityUser }).select('_id').lean();
  if (!profile) throw new NotFoundError('The Customer Community User profile is missing; send a profileId in the extension.');
  return profile._id;
}

export async function provisionUser(input: NewUserInput, contact: { contactId?: string } | ContactInput | null, ctx: RequestContext): Promise<UserDoc> {
  if (!contact) throw new ConflictError(SCIM_CONTACT_REQUIRED, { contactId: 'A contact is required.' }, 'contact_required');
  if ('contactId' in contact && contact.contactId) return createUser({ ...input, contactId: contact.contactId }, ctx);
  const { contact: doc, account, existingAccount } = await prepareContact(contact as ContactInput);
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

/** One page by position (SCIM's startIndex is 1-based), oldest first, with the total. */
export async function listUsersByOffset(actor: Actor, filters: UserFilters, startIndex: number, count: number): Promise<{ total: number; records: (UserDoc & { _id: Types.ObjectId })[] }> {
  const filter = buildUserFilter(filters, await scopeFor(actor));
  const [total, records] = await Promise.all([
    UserModel.countDocuments(filter),
    count > 0 ? UserModel.find(filter).sort({ createdAt: 1, _id: 1 }).skip(Math.max(0, startIndex - 1)).limit(count) : Promise.resolve([]),
  ]);
  return { total, records };
}
