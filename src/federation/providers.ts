/**
 * External identity providers per site: what an admin with Manage Sites adds, edits and removes. The
 * client secret goes in once (encrypted) and is never shown again; an edit with it blank keeps it.
 */
import type { Types } from 'mongoose';
import { SiteModel, IdentityProviderModel, FederatedLinkModel, type IdentityProviderDoc } from '../data/models';
import { assertPermission, type Actor, type RequestContext } from '../access';
import { recordAudit } from '../audit';
import { NotFoundError, ValidationError, type FieldErrors } from '../shared/errors';
import { isObjectIdString, toObjectId } from '../shared/ids';
import { MSG } from '../shared/messages';
import { sealSecret } from './secret-box';

export interface ProviderInput {
  name: string;
  issuer: string;
  clientId: string;
  /** Blank on an edit: the stored secret is kept. */
  clientSecret: string;
  scopes: string;
  enabled: boolean;
}

/** What a page may show of a provider: everything but the secret. */
export type ProviderView = {
  _id: string;
  site: string;
  name: string;
  issuer: string;
  clientId: string;
  scopes: string;
  enabled: boolean;
};

const view = (p: IdentityProviderDoc): ProviderView => ({
  _id: String(p._id),
  site: String(p.site),
  name: p.name,
  issuer: p.issuer,
  clientId: p.clientId,
  scopes: p.scopes,
  enabled: p.enabled ?? true,
});

/** Loopback issuers may use http (a provider on the same machine, the tests'); others must use https. */
export function isLoopbackHttp(url: URL): boolean {
  return url.protocol === 'http:' && ['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname);
}

/** Checks every field at once; returns the clean values. */
function validate(
  input: ProviderInput,
  creating: boolean,
): Omit<ProviderInput, 'clientSecret'> & { clientSecret: string | null } {
  const fields: FieldErrors = {};
  const name = input.name.trim();
  if (!name) fields.name = 'Enter the name shown on the button.';
  else if (name.length > 60) fields.name = MSG.atMostCharacters(60);
  const issuer = input.issuer.trim().replace(/\/+$/, '');
  let url: URL | null = null;
  try {
    url = new URL(issuer);
  } catch {
    /* reported below */
  }
  if (!url || url.search || url.hash || !(url.protocol === 'https:' || isLoopbackHttp(url)) || issuer.length > 500) {
    fields.issuer = "Enter the provider's issuer URL (https, without query or fragment).";
  }
  const clientId = input.clientId.trim();
  if (!clientId) fields.clientId = 'Enter the client id the provider gave you.';
  else if (clientId.length > 300) fields.clientId = MSG.atMostCharacters(300);
  const secret = input.clientSecret.trim();
  if (creating && !secret) fields.clientSecret = 'Enter the client secret the provider gave you.';
  else if (secret.length > 500) fields.clientSecret = MSG.atMostCharacters(500);
  const scopes = [...new Set(input.scopes.trim().split(/\s+/).filter(Boolean))];
  if (
    !scopes.includes('openid') ||
    scopes.some((s) => !/^[\x21\x23-\x5b\x5d-\x7e]{1,60}$/.test(s)) ||
    scopes.join(' ').length > 300
  ) {
    fields.scopes = 'List the scopes separated by spaces, openid among them (for example: openid email profile).';
  }
  if (Object.keys(fields).length) throw new ValidationError(MSG.fieldsNeedAttention, fields);
  return { name, issuer, clientId, clientSecret: secret || null, scopes: scopes.join(' '), enabled: input.enabled };
}

async function findSiteId(siteId: string) {
  const site = isObjectIdString(siteId) ? await SiteModel.findById(siteId).select('slug name').lean() : null;
  if (!site) throw new NotFoundError('No site has this id.');
  return site;
}

async function findProvider(siteId: string, providerId: string): Promise<IdentityProviderDoc> {
  const found =
    isObjectIdString(providerId) && isObjectIdString(siteId)
      ? await IdentityProviderModel.findOne({ _id: toObjectId(providerId)!, site: toObjectId(siteId)! })
      : null;
  if (!found) throw new NotFoundError('This site has no such identity provider.');
  return found;
}

export async function listProviders(actor: Actor, siteId: string) {
  assertPermission(actor, 'manageSites');
  const site = await findSiteId(siteId);
  const providers = await IdentityProviderModel.find({ site: site._id }).sort({ name: 1 });
  return { site, providers: providers.map(view) };
}

export async function providerForEdit(actor: Actor, siteId: string, providerId: string): Promise<ProviderView> {
  assertPermission(actor, 'manageSites');
  return view(await findProvider(siteId, providerId));
}

const audited = (p: ProviderView) => ({
  name: p.name,
  issuer: p.issuer,
  clientId: p.clientId,
  scopes: p.scopes,
  enabled: p.enabled,
});

export async function addProvider(
  siteId: string,
  input: ProviderInput,
  ctx: RequestContext & { actor: Actor },
): Promise<ProviderView> {
  assertPermission(ctx.actor, 'manageSites');
  const site = await findSiteId(siteId);
  const clean = validate(input, true);
  const created = await IdentityProviderModel.create({
    ...clean,
    site: site._id,
    clientSecret: sealSecret(clean.clientSecret!),
  });
  const v = view(created);
  // The secret is never written to the audit trail either: only that one was set.
  await recordAudit(ctx, {
    action: 'identity_provider.created',
    target: { type: 'IdentityProvider', id: created._id, label: `${site.slug}/${v.name}` },
    after: { ...audited(v), clientSecret: 'set' },
  });
  return v;
}

export async function editProvider(
  siteId: string,
  providerId: string,
  input: ProviderInput,
  ctx: RequestContext & { actor: Actor },
): Promise<ProviderView> {
  assertPermission(ctx.actor, 'manageSites');
  const site = await findSiteId(siteId);
  const provider = await findProvider(siteId, providerId);
  const clean = validate(input, false);
  const before = audited(view(provider));
  provider.set({
    name: clean.name,
    issuer: clean.issuer,
    clientId: clean.clientId,
    scopes: clean.scopes,
    enabled: clean.enabled,
  });
  if (clean.clientSecret) provider.clientSecret = sealSecret(clean.clientSecret);
  await provider.save();
  const v = view(provider);
  await recordAudit(ctx, {
    action: 'identity_provider.updated',
    target: { type: 'IdentityProvider', id: provider._id, label: `${site.slug}/${v.name}` },
    before,
    after: { ...audited(v), ...(clean.clientSecret ? { clientSecret: 'replaced' } : {}) },
  });
  return v;
}

/** Removing a provider removes its links: its accounts no longer sign anyone in. */
export async function removeProvider(
  siteId: string,
  providerId: string,
  ctx: RequestContext & { actor: Actor },
): Promise<ProviderView> {
  assertPermission(ctx.actor, 'manageSites');
  const site = await findSiteId(siteId);
  const provider = await findProvider(siteId, providerId);
  const v = view(provider);
  const links = await FederatedLinkModel.deleteMany({ provider: provider._id });
  await provider.deleteOne();
  await recordAudit(ctx, {
    action: 'identity_provider.removed',
    target: { type: 'IdentityProvider', id: provider._id, label: `${site.slug}/${v.name}` },
    before: audited(v),
    after: { linksRemoved: links.deletedCount },
  });
  return v;
}

/** The enabled providers of a site, for its sign-in and registration pages. */
export async function enabledProviders(siteId: Types.ObjectId): Promise<{ id: string; name: string }[]> {
  const list = await IdentityProviderModel.find({ site: siteId, enabled: true })
    .sort({ name: 1 })
    .select('name')
    .lean();
  return list.map((p) => ({ id: String(p._id), name: p.name }));
}
