/**
 * Links between users and accounts at external providers, and what a callback's claims come to: the
 * linked user, a new contactless user (first sign-in, verified address, nobody has it), or a link that
 * the owner of the address must confirm first (their password, or a mailed link): an email claim alone
 * never opens an existing account.
 */
import {
  FederatedLinkModel,
  IdentityProviderModel,
  UserModel,
  emailKeyOf,
  type SiteRecord,
  type UserDoc,
} from '../data/models';
import { trusted, type Types } from 'mongoose';
import { recordAudit } from '../audit';
import { selfContext, type SelfOrigin } from '../access';
import { registerFederatedUser } from '../registration';
import { isSiteMember } from '../sites';
import { AuthenticationError, ConflictError, ForbiddenError, NotFoundError } from '../shared/errors';
import { isObjectIdString, toObjectId } from '../shared/ids';
import { duplicateKeyField } from '../data/errors';
import type { ProviderClaims } from './flow';
import { consumeToken, issueToken, peekToken } from '../account';
import { queueMail } from '../mail';
import { lifecycleSettings } from '../shared/lifecycle-settings';

/** A link waiting for the address's owner to prove it is them (kept in the session, minutes at most). */
export interface PendingLink {
  providerId: string;
  providerName: string;
  issuer: string;
  subject: string;
  email: string;
  userId: string;
  siteSlug: string;
  at: number;
}
export const PENDING_LINK_MS = 15 * 60_000;

export type FederatedOutcome =
  | { kind: 'user'; user: UserDoc; created: boolean }
  | { kind: 'confirm-link'; pending: PendingLink };

const refused = () => new AuthenticationError('This account cannot sign in here.');

/** A user found by a link or an address must be active and a member of the site, as with a password. */
function usable(site: SiteRecord, user: UserDoc | null): UserDoc {
  if (!user || !user.isActive || !isSiteMember(site, user)) throw refused();
  return user;
}

/**
 * `again`: a second look after losing a race. Two first callbacks for one new account (two browsers, a
 * double submit) both find nothing; the address's unique index lets one create the user, and the other,
 * refused as a duplicate, looks again: it finds the link (signed in as that user) or, while the first is
 * still linking, the address's owner (asked to confirm, as for any existing account). One user, one link.
 */
export async function resolveFederatedSignIn(
  site: SiteRecord,
  claims: ProviderClaims,
  ctx: { ip?: string; localeSidKey?: string; timeZoneSidKey?: string },
  again = false,
): Promise<FederatedOutcome> {
  const link = await FederatedLinkModel.findOne({ issuer: claims.issuer, subject: claims.subject }).lean();
  if (link) return { kind: 'user', user: usable(site, await UserModel.findById(link.user)), created: false };
  // Nothing links this account yet: its address decides, and only an address the provider verified.
  if (!claims.email || !claims.emailVerified) {
    throw new ForbiddenError(
      `${claims.providerName} did not confirm your email address, so it cannot sign you in here. Log in with your password, or register.`,
    );
  }
  const owner = await UserModel.findOne({ emailKey: emailKeyOf(claims.email) });
  if (owner) {
    usable(site, owner);
    return {
      kind: 'confirm-link',
      pending: {
        providerId: claims.providerId,
        providerName: claims.providerName,
        issuer: claims.issuer,
        subject: claims.subject,
        email: claims.email,
        userId: String(owner._id),
        siteSlug: site.slug,
        at: Date.now(),
      },
    };
  }
  let user: UserDoc;
  try {
    user = await registerFederatedUser(
      site,
      {
        firstName: claims.givenName,
        lastName: claims.familyName,
        email: claims.email,
        localeSidKey: ctx.localeSidKey,
        languageLocaleKey: ctx.localeSidKey,
        timeZoneSidKey: ctx.timeZoneSidKey,
      },
      { ip: ctx.ip },
    );
  } catch (err) {
    if (!again && err instanceof ConflictError && err.code === 'email_taken')
      return resolveFederatedSignIn(site, claims, ctx, true);
    throw err;
  }
  await addLink(user, claims, { ip: ctx.ip ?? null, impersonator: null, userAgent: null });
  return { kind: 'user', user, created: true };
}

async function addLink(
  user: UserDoc,
  link: Pick<ProviderClaims, 'providerId' | 'providerName' | 'issuer' | 'subject' | 'email'>,
  origin: SelfOrigin,
): Promise<void> {
  try {
    await FederatedLinkModel.create({
      user: user._id,
      provider: toObjectId(link.providerId)!,
      issuer: link.issuer,
      subject: link.subject,
      email: link.email,
    });
  } catch (err) {
    if (!duplicateKeyField(err)) throw err;
    // Two callbacks (or confirmations) for the same account racing: the unique index keeps one link. The
    // same link made by the other one is what this one wanted (written and audited once); another user's is not.
    const existing = await FederatedLinkModel.findOne({ issuer: link.issuer, subject: link.subject }).lean();
    if (existing && String(existing.user) === String(user._id)) return;
    throw new ConflictError('This account is already linked.', {}, 'link_exists');
  }
  await recordAudit(selfContext(user, origin), {
    action: 'user.identity_linked',
    target: { type: 'User', id: user._id, label: user.username },
    after: { provider: link.providerName, issuer: link.issuer, subject: link.subject },
  });
}

/** The pending link, if it is still fresh and for this site; the user it names, active. */
export async function pendingLinkUser(
  site: SiteRecord,
  pending: PendingLink | undefined,
  now = Date.now(),
): Promise<{ pending: PendingLink; user: UserDoc }> {
  if (!pending || pending.siteSlug !== site.slug || now - pending.at > PENDING_LINK_MS)
    throw new AuthenticationError("This link request has expired. Start again with the provider's button.");
  return { pending, user: usable(site, await UserModel.findById(pending.userId)) };
}

/** Called once the owner proved it is them (password, or the mailed link): the link is stored. */
export async function confirmPendingLink(
  site: SiteRecord,
  pending: PendingLink,
  user: UserDoc,
  origin: SelfOrigin,
): Promise<UserDoc> {
  if (String(user._id) !== pending.userId) throw refused();
  const provider = await IdentityProviderModel.exists({
    _id: toObjectId(pending.providerId)!,
    site: site._id,
    enabled: true,
  });
  if (!provider) throw new NotFoundError('This site offers no such sign-in.');
  await addLink(user, { ...pending }, origin);
  return user;
}

/**
 * The other way to prove it is them: a link mailed to the address. It completes the pending link only in
 * the browser session that holds it (the mail proves the address, the session the provider account).
 */
export async function mailLinkConfirmation(
  site: SiteRecord,
  pending: PendingLink,
  now: Date = new Date(),
): Promise<void> {
  const { user } = await pendingLinkUser(site, pending, now.getTime());
  const ttl = Math.max(60_000, PENDING_LINK_MS - (now.getTime() - pending.at));
  const { token } = await issueToken('identity-link', user._id, ttl, { now, email: user.email });
  await queueMail(
    {
      to: user.email,
      template: 'identity-link',
      user: user._id,
      language: user.languageLocaleKey,
      siteSlug: site.slug,
      locals: {
        name: (user.firstName || user.lastName).trim(),
        provider: pending.providerName,
        siteName: site.name,
        url: `${lifecycleSettings().publicUrl}/s/${site.slug}/sso/link/confirm?token=${token}`,
        expiresInMs: ttl,
      },
    },
    now,
  );
}

/** Checks the mailed link without using it (the page behind it shows a button). */
export async function checkMailedLink(
  site: SiteRecord,
  pending: PendingLink | undefined,
  token: unknown,
): Promise<PendingLink> {
  const ready = await pendingLinkUser(site, pending);
  const holder = await peekToken('identity-link', token);
  if (String(holder.user._id) !== ready.pending.userId) throw refused();
  return ready.pending;
}

/** Uses the mailed link (once) and stores the link. */
export async function confirmLinkByMail(
  site: SiteRecord,
  pending: PendingLink | undefined,
  token: unknown,
  origin: SelfOrigin,
): Promise<UserDoc> {
  const ready = await pendingLinkUser(site, pending);
  const holder = await peekToken('identity-link', token);
  if (String(holder.user._id) !== ready.pending.userId) throw refused();
  await consumeToken('identity-link', holder);
  return confirmPendingLink(site, ready.pending, ready.user, origin);
}

export interface LinkView {
  id: string;
  providerName: string;
  email: string | null;
  createdAt: Date;
}

export async function linksOf(userId: Types.ObjectId): Promise<LinkView[]> {
  const links = await FederatedLinkModel.find({ user: userId }).sort({ createdAt: 1 }).lean();
  const providers = await IdentityProviderModel.find({ _id: trusted({ $in: links.map((l) => l.provider) }) })
    .select('name')
    .lean();
  const names = new Map(providers.map((p) => [String(p._id), p.name]));
  return links.map((l) => ({
    id: String(l._id),
    providerName: names.get(String(l.provider)) ?? l.issuer,
    email: l.email ?? null,
    createdAt: l.createdAt,
  }));
}

/** Removes one of the user's own links, unless it is their last way to sign in (no password, no other link). */
export async function removeOwnLink(user: UserDoc, linkId: string, origin: SelfOrigin): Promise<void> {
  const link = isObjectIdString(linkId)
    ? await FederatedLinkModel.findOne({ _id: toObjectId(linkId)!, user: user._id }).lean()
    : null;
  if (!link) throw new NotFoundError('You have no such linked account.');
  const withHash = await UserModel.findById(user._id).select('+passwordHash').lean();
  const others = await FederatedLinkModel.countDocuments({ user: user._id, _id: trusted({ $ne: link._id }) });
  if (!withHash?.passwordHash && others === 0) {
    throw new ConflictError(
      'This is the only way you can sign in: set a password first (Forgot your password? sends a link), then remove it.',
      {},
      'last_sign_in_method',
    );
  }
  // Conditional on the link still being there: of two removals, one writes and audits.
  const { deletedCount } = await FederatedLinkModel.deleteOne({ _id: link._id, user: user._id });
  if (!deletedCount) return;
  await recordAudit(selfContext(user, origin), {
    action: 'user.identity_unlinked',
    target: { type: 'User', id: user._id, label: user.username },
    before: { issuer: link.issuer, subject: link.subject },
  });
}
