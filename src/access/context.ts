/**
 * Who is asking, as the access rules see it. Every service receives a RequestContext (actor, channel,
 * IP, for the audit trail); `accessOf` names its kind, so a rule says which kinds it checks and which it
 * lets through on the flow's own terms, instead of "no actor" silently skipping every check:
 * - staff: a person signed in (the admin area; a site user acting on their own account, who holds no
 *   permission); their permissions are checked;
 * - token: an API or SCIM token acting as its owner; checked like its owner;
 * - guest: a visitor registering on a site; no actor, the site's registration profile decides (and it
 *   never grants an administrative permission: assertCanAssign);
 * - system: the portal itself (seeding, the first administrator from the CLI or the setup link): no
 *   checks, by design.
 */
import type { Actor, RequestContext } from './actor';

export type AccessContext =
  | { kind: 'staff'; actor: Actor }
  | { kind: 'token'; actor: Actor }
  | { kind: 'guest' }
  | { kind: 'system' };

export function accessOf(ctx: RequestContext): AccessContext {
  if (ctx.actor) return { kind: ctx.via === 'api' || ctx.via === 'scim' ? 'token' : 'staff', actor: ctx.actor };
  return ctx.via === 'system' ? { kind: 'system' } : { kind: 'guest' };
}

/** True for the two kinds that act as a person whose permissions are checked. */
export function hasActor(access: AccessContext): access is Extract<AccessContext, { actor: Actor }> {
  return access.kind === 'staff' || access.kind === 'token';
}

/**
 * Runs `check` with the actor for staff and tokens. The other two kinds are the explicit "no checks"
 * branch: a guest (self-registration, bounded by the site's profile and assertCanAssign) and the system
 * (the portal on its own rules) have no permissions to check.
 */
export function checkActor(ctx: RequestContext, check: (actor: Actor) => void): void {
  const access = accessOf(ctx);
  switch (access.kind) {
    case 'staff':
    case 'token':
      check(access.actor);
      return;
    case 'guest':
    case 'system':
      return;
  }
}
