/**
 * Invitations: a user created without a password (admin pages, REST, bulk ingest, SCIM) gets a mail
 * with a set-password link (INVITE_TOKEN_HOURS), unless the request asked for none. Admins may send it
 * again, and their "Reset password" sends a reset link (the user chooses the password; no admin ever
 * sees one). Accepting an invitation is src/account/recovery.ts's setPasswordWithLink('invite').
 */
import crypto from 'node:crypto';
import { trusted, type Types } from 'mongoose';
import {
  ActionTokenModel,
  EMAIL_PATTERN,
  RegistrationInvitationModel,
  SiteModel,
  UserModel,
  type RegistrationInvitation,
  type RegistrationInvitationDoc,
  type UserDoc,
} from '../data/models';
import { queueMails, type MailRequest } from '../mail';
import { documentsToInsert } from '../data/lean-docs';
import type { Actor, RequestContext } from '../access';
import { recordAudit, recordAudits } from '../audit';
import { ConflictError, NotFoundError, ValidationError } from '../shared/errors';
import { assertPermission } from '../access';
import { domainOf, matchesAny, normaliseDomain } from '../shared/email-domains';
import { normaliseUsername } from '../shared/username';
import { isObjectIdString } from '../shared/ids';
import { MSG } from '../shared/messages';
import { lifecycleSettings } from '../shared/lifecycle-settings';
import { homeAreaOf, linkUrl } from './links';
import { loadUserFor } from '../access';
import { siteSlugOf } from './links';
import { sendInvitation, sendResetLink } from './recovery';
import { revokeOutstandingLinks } from './tokens';

/** After creating `user` through a channel: invites them when they have no password and it was not declined. */
export async function inviteNewUser(
  user: UserDoc,
  opts: { password?: string; sendInvitation?: boolean },
  ctx: RequestContext,
): Promise<boolean> {
  if (opts.password !== undefined || opts.sendInvitation === false || !user.isActive) return false;
  await sendInvitation(user);
  await recordAudit(ctx, {
    action: 'user.invitation_sent',
    target: { type: 'User', id: user._id, label: user.username },
  });
  return true;
}

const hasPasswordQuery = (id: Types.ObjectId) =>
  UserModel.exists({ _id: id, passwordHash: trusted({ $type: 'string' }) });

/**
 * Whether `user` (loaded for the actor with loadUserFor('resetPassword')) can be sent the invitation:
 * active, not set up yet (no password), with an address. The refusals' codes are the reasons a bulk
 * "Send invitations" reports a row as skipped (INVITATION_SKIPS).
 */
export async function assertInvitable(user: UserDoc): Promise<void> {
  if (!user.isActive)
    throw new ConflictError('This user is inactive; activate them before inviting them.', {}, 'user_inactive');
  if (await hasPasswordQuery(user._id)) {
    throw new ConflictError(
      'This user has already set a password; send a password reset link instead.',
      {},
      'password_already_set',
    );
  }
  // The schema requires an address, but records written around it (imports, old data) may lack one.
  if (!user.email || !EMAIL_PATTERN.test(user.email))
    throw new ConflictError('This user has no email address to send the invitation to.', {}, 'no_address');
}
export const INVITATION_SKIPS: readonly string[] = ['user_inactive', 'password_already_set', 'no_address'];

/** "Send invitation again" (admin page, POST /api/v1/users/{id}/invitation, the bulk "Send invitations"). */
export async function resendInvitation(userId: string, ctx: RequestContext & { actor: Actor }): Promise<UserDoc> {
  const user = await loadUserFor('resetPassword', userId, ctx);
  await assertInvitable(user);
  await sendInvitation(user);
  await recordAudit(ctx, {
    action: 'user.invitation_sent',
    target: { type: 'User', id: user._id, label: user.username },
  });
  return user;
}

/** The admin "Reset password": a reset link by mail to the user's address; their sessions end when it is used. */
export async function sendResetLinkAsAdmin(userId: string, ctx: RequestContext & { actor: Actor }): Promise<UserDoc> {
  const user = await loadUserFor('resetPassword', userId, ctx);
  if (!user.isActive)
    throw new ConflictError('This user is inactive; activate them before sending a reset link.', {}, 'user_inactive');
  // An admin's reset is for an account in doubt: its outstanding links (an email change) are cancelled first.
  await revokeOutstandingLinks(user._id);
  await sendResetLink(user, await homeAreaOf(user));
  await recordAudit(ctx, {
    action: 'user.password_reset_link_sent',
    target: { type: 'User', id: user._id, label: user.username },
  });
  return user;
}

/**
 * Invitations for a bulk batch in two inserts (tokens, then mails) instead of two per user. A batch
 * redone after a crash invites its users again: the newer link replaces the older (at-least-once).
 */
export async function inviteUsersInBulk(
  users:
    | UserDoc[]
    | Array<
        Pick<
          UserDoc,
          '_id' | 'email' | 'username' | 'firstName' | 'lastName' | 'userType' | 'site' | 'languageLocaleKey'
        >
      >,
  ctx: RequestContext,
  now: Date = new Date(),
): Promise<number> {
  if (!users.length) return 0;
  const ttl = lifecycleSettings().tokens.inviteMs;
  const expiresAt = new Date(now.getTime() + ttl);
  await ActionTokenModel.deleteMany({
    user: trusted({ $in: users.map((u) => u._id) }),
    purpose: 'invite',
    usedAt: null,
  });
  const tokens: Record<string, unknown>[] = [];
  const mails: MailRequest[] = [];
  const areas = new Map<string, Awaited<ReturnType<typeof homeAreaOf>>>();
  for (const u of users) {
    const token = crypto.randomBytes(32).toString('base64url');
    tokens.push({
      purpose: 'invite',
      user: u._id,
      hash: crypto.createHash('sha256').update(token).digest('hex'),
      expiresAt,
    });
    const areaKey = `${u.userType}:${String(u.site)}`;
    if (!areas.has(areaKey)) areas.set(areaKey, await homeAreaOf(u));
    const url = linkUrl(areas.get(areaKey)!, 'welcome', token);
    mails.push({
      to: u.email,
      template: 'invitation',
      user: u._id,
      language: u.languageLocaleKey,
      siteSlug: siteSlugOf(areas.get(areaKey)!),
      locals: { name: (u.firstName || u.lastName || 'there').trim(), username: u.username, url, expiresInMs: ttl },
    });
  }
  // Through the model's schema (documentsToInsert): its defaults (a token's usedAt) are set and checked.
  await ActionTokenModel.insertMany(await documentsToInsert(ActionTokenModel as never, tokens as never), {
    lean: true,
  });
  await queueMails(mails, now);
  await recordAudits(
    ctx,
    users.map((u) => ({
      action: 'user.invitation_sent',
      at: now,
      target: { type: 'User', id: u._id, label: u.username },
    })),
  );
  return users.length;
}

/**
 * Invitations to register on an invite-only site (its registration policy), for one address or for a
 * whole domain. The Sites page shows the admin the link once, to send as they see fit (to the person, or
 * on a company intranet for a domain); only its hash is stored.
 */
export interface RegistrationInvitationInput {
  email?: string;
  domain?: string;
  days?: number;
}

const hashOf = (token: string) => crypto.createHash('sha256').update(token).digest('hex');

export async function inviteToRegister(
  siteId: string,
  input: RegistrationInvitationInput,
  ctx: RequestContext & { actor: Actor },
  now: Date = new Date(),
): Promise<{ token: string; invitation: RegistrationInvitationDoc; siteSlug: string }> {
  assertPermission(ctx.actor, 'manageSites');
  const site = isObjectIdString(siteId) ? await SiteModel.findById(siteId).select('slug').lean() : null;
  if (!site) throw new NotFoundError('No site has this id.');
  const email = input.email?.trim() ? normaliseUsername(input.email) : '';
  const domain = input.domain?.trim() ? normaliseDomain(input.domain) : '';
  if ((email ? 1 : 0) + (input.domain?.trim() ? 1 : 0) !== 1) {
    throw new ValidationError(MSG.fieldsNeedAttention, { email: 'Enter either one address or one domain.' });
  }
  if (email && !EMAIL_PATTERN.test(email))
    throw new ValidationError(MSG.fieldsNeedAttention, { email: MSG.enterValidEmail });
  if (domain === null)
    throw new ValidationError(MSG.fieldsNeedAttention, { domain: 'Enter a domain like example.com.' });
  const days = input.days ?? 14;
  if (!Number.isInteger(days) || days < 1 || days > 365)
    throw new ValidationError(MSG.fieldsNeedAttention, { days: 'Enter a number of days from 1 to 365.' });
  const token = crypto.randomBytes(32).toString('base64url');
  const invitation = await RegistrationInvitationModel.create({
    site: site._id,
    email: email || null,
    domain: domain || null,
    hash: hashOf(token),
    expiresAt: new Date(now.getTime() + days * 86_400_000),
    createdBy: ctx.actor.id,
  });
  await recordAudit(ctx, {
    action: 'site.registration_invitation_created',
    target: { type: 'Site', id: site._id, label: site.slug },
    after: {
      invitation: String(invitation._id),
      email: email || null,
      domain: domain || null,
      expiresAt: invitation.expiresAt,
    },
  });
  return { token, invitation, siteSlug: site.slug };
}

/** The site's invitations still open (neither used, revoked nor expired), newest first. */
export function openRegistrationInvitations(siteIds: readonly Types.ObjectId[], now: Date = new Date()) {
  return RegistrationInvitationModel.find({
    site: trusted({ $in: [...siteIds] }),
    usedAt: null,
    revokedAt: null,
    expiresAt: trusted({ $gt: now }),
  })
    .sort({ createdAt: -1 })
    .limit(500)
    .lean();
}

export async function revokeRegistrationInvitation(
  siteId: string,
  id: string,
  ctx: RequestContext & { actor: Actor },
  now: Date = new Date(),
): Promise<void> {
  assertPermission(ctx.actor, 'manageSites');
  const inv =
    isObjectIdString(id) && isObjectIdString(siteId)
      ? await RegistrationInvitationModel.findOneAndUpdate(
          { _id: id, site: siteId, revokedAt: null },
          { $set: { revokedAt: now } },
          { returnDocument: 'after' },
        ).lean()
      : null;
  if (!inv) throw new NotFoundError('No open invitation has this id.');
  await recordAudit(ctx, {
    action: 'site.registration_invitation_revoked',
    target: { type: 'Site', id: inv.site },
    before: { invitation: String(inv._id), email: inv.email, domain: inv.domain },
  });
}

/** Why an invitation does not let this address register here, or null when it does. */
export type InvitationProblem = 'invitation_required' | 'invitation_invalid' | 'invitation_other_address';

/**
 * The invitation a guest brings (the token from the link), checked for this site and address: unknown,
 * used, revoked or expired links all read "invalid" (the page cannot tell them apart for a guesser).
 */
export async function checkRegistrationInvitation(
  siteId: Types.ObjectId,
  email: string,
  token: string | undefined,
  now: Date = new Date(),
): Promise<{ invitation: RegistrationInvitation & { _id: Types.ObjectId } } | { problem: InvitationProblem }> {
  if (!token) return { problem: 'invitation_required' };
  if (!/^[A-Za-z0-9_-]{20,100}$/.test(token)) return { problem: 'invitation_invalid' };
  const inv = await RegistrationInvitationModel.findOne({ hash: hashOf(token) }).lean();
  if (!inv || !inv.site.equals(siteId) || inv.usedAt || inv.revokedAt || inv.expiresAt <= now)
    return { problem: 'invitation_invalid' };
  const address = normaliseUsername(email);
  const fits = inv.email ? inv.email === address : matchesAny(domainOf(address), [inv.domain ?? '']);
  return fits ? { invitation: inv } : { problem: 'invitation_other_address' };
}

/**
 * After the account is made: an address invitation is used up (one conditional update, so a second
 * registration racing with it finds it used); a domain invitation stays open for the domain's others.
 */
export async function consumeRegistrationInvitation(
  invitation: Pick<RegistrationInvitation, 'email'> & { _id: Types.ObjectId },
  userId: Types.ObjectId,
  now: Date = new Date(),
): Promise<void> {
  if (!invitation.email) return;
  await RegistrationInvitationModel.updateOne(
    { _id: invitation._id, usedAt: null },
    { $set: { usedAt: now, usedBy: userId } },
  );
}
