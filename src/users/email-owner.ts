/**
 * One address, one account. The rule, the same on every site: an email address belongs to at most one
 * user of the portal. The sites share one directory of users and a user belongs to a site's audience
 * through their profile or permission sets (so to several sites at once): "at most one user of each
 * site's audience" can only be kept, race-proof, as "at most one user", which is also what makes sign-in
 * by email and a forgotten-password mail unambiguous.
 *
 * Every path that creates a user or changes an address (self-registration, admin create and edit, the
 * API, bulk ingest, SCIM create/replace/patch, a confirmed email change) calls assertEmailFree first, for
 * a clear refusal before any work; the unique partial index on `emailKey` (src/data/models/user.ts) then
 * decides a race between two writers. Addresses shared by several users before the rule keep working:
 * the migration (src/data/migrations.ts) gives the key to the oldest holder and reports the others.
 */
import { trusted, type Types } from 'mongoose';
import { UserModel, emailKeyOf, type UserDoc } from '../data/models';
import { ConflictError } from '../shared/errors';
import { normaliseUsername } from './users';

export { emailKeyOf };

export const EMAIL_TAKEN = 'Another account already uses this email address.';

export function emailTaken(message = EMAIL_TAKEN): ConflictError {
  return new ConflictError(message, { email: message }, 'email_taken');
}

/** Throws email_taken (409) when a user other than `except` holds the address. */
export async function assertEmailFree(email: string, except?: Types.ObjectId | null): Promise<void> {
  const key = emailKeyOf(email);
  if (!key) return;
  if (await UserModel.exists({ emailKey: key, ...(except ? { _id: trusted({ $ne: except }) } : {}) }))
    throw emailTaken();
}

/**
 * The account a sign-in name stands for: the user whose username it is, else the one user whose email it
 * is. One query whichever it is (so the time taken does not tell), and never a guess: an address that
 * only a pre-rule duplicate holds (no emailKey) names nobody.
 */
export async function findAccountBySignInName(name: string, select = ''): Promise<UserDoc | null> {
  const username = normaliseUsername(name);
  const key = emailKeyOf(name);
  const found = await UserModel.find({ $or: [{ username }, { emailKey: key }] })
    .select(select)
    .limit(2);
  return found.find((u) => u.username === username) ?? found[0] ?? null;
}
