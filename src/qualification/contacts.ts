/**
 * Reading a contact. Contacts are CRM records that qualified users hold: full user administrators
 * (Manage Internal Users) may read any; delegated admins only those of their assigned accounts.
 */
import type { Actor } from '../access';
import { AccountModel, ContactModel, UserModel } from '../data/models';
import { ForbiddenError, NotFoundError } from '../shared/errors';
import { assertUserAdministrator, isDelegatedAdmin } from '../access';
import { isObjectIdString } from '../shared/ids';
import { MSG } from '../shared/messages';

export async function viewContact(id: string, actor: Actor) {
  assertUserAdministrator(actor);
  const contact = isObjectIdString(id) ? await ContactModel.findById(id).lean() : null;
  if (!contact) throw new NotFoundError(MSG.noContact);
  const inDelegatedScope = isDelegatedAdmin(actor) && actor.delegatedAccountIds.some((a) => a.equals(contact.account));
  if (!actor.permissions.manageInternalUsers && !inDelegatedScope) {
    throw new ForbiddenError('Reading contacts needs the Manage Internal Users permission.', 'manageInternalUsers');
  }
  const [account, holder] = await Promise.all([
    AccountModel.findById(contact.account).lean(),
    UserModel.findOne({ contact: contact._id }).select('_id').lean(),
  ]);
  return { contact, account, userId: holder?._id ?? null };
}
