/** Which users an actor may see and search: the scope rules of permissions.ts applied to a query. */
import { trusted } from 'mongoose';
import { ContactModel } from '../data/models';
import { findUsersPage, type UserFilters, type UserPage, type UserScope } from './user-search';
import type { Actor } from '../access';
import { assertUserAdministrator, manageableUserTypes } from '../access';

export async function scopeFor(actor: Actor): Promise<UserScope> {
  const userTypes = manageableUserTypes(actor);
  // Delegated admins see external users whose contact is in an assigned account; contactless users
  // have no contact and so never appear for them.
  const delegatedContactIds = actor.delegatedAccountIds.length
    ? (
        await ContactModel.find({ account: trusted({ $in: actor.delegatedAccountIds }) })
          .select('_id')
          .lean()
      ).map((c) => c._id)
    : [];
  return { userTypes, delegatedContactIds };
}

export async function searchUsers(
  actor: Actor,
  filters: UserFilters,
  cursor: string | undefined,
  limit = 50,
): Promise<UserPage> {
  assertUserAdministrator(actor);
  return findUsersPage(filters, await scopeFor(actor), cursor, limit);
}
