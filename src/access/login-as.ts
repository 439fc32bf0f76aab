/**
 * Login As: an admin opens a site session as a user. Allowed only with the Login As permission, full
 * management rights over the user, and a contact on the user (Salesforce's rule: not for contactless
 * users). Start and end are audited.
 */
import { UserModel, type UserDoc } from '../data/models';
import { loadActor, type Actor, type RequestContext } from './actor';
import { recordAudit } from '../audit';
import { assertCanLoginAs, assertPermission, assertUserAdministrator, canLoginAs } from './permissions';
import { loadUserFor, managedView } from '.';

export async function startLoginAs(userId: string, ctx: RequestContext & { actor: Actor }): Promise<UserDoc> {
  assertUserAdministrator(ctx.actor);
  assertPermission(ctx.actor, 'loginAs');
  const user = await loadUserFor('loginAs', userId, ctx);
  const view = await managedView(user);
  assertCanLoginAs(ctx.actor, { ...view, isActive: user.isActive });
  await recordAudit(ctx, { action: 'login_as.started', target: { type: 'User', id: user._id, label: user.username } });
  return user;
}

export async function endLoginAs(userId: string, ctx: RequestContext): Promise<void> {
  const user = await UserModel.findById(userId).lean();
  await recordAudit(ctx, {
    action: 'login_as.ended',
    target: { type: 'User', id: user?._id ?? null, label: user?.username ?? userId },
  });
}

/**
 * Whether an open Login As session may go on: checked on every request, so it ends as soon as the admin
 * is deactivated, loses Login As or the right to manage the user, or the user loses their contact.
 */
export async function loginAsStillAllowed(adminId: string, user: UserDoc): Promise<boolean> {
  const actor = await loadActor(adminId);
  return actor !== null && canLoginAs(actor, { ...(await managedView(user)), isActive: user.isActive });
}
