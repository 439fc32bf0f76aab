/**
 * Connected apps: the rules the admin pages and the REST API share. Managing them needs Manage Sites (an
 * app belongs to a site and lets its members in); every change is audited. A secret is returned once, by
 * create and rotate, and never again.
 */
import crypto from 'node:crypto';
import { Types } from 'mongoose';
import { assertPermission, type Actor, type RequestContext } from '../access';
import { recordAudit } from '../audit';
import { SiteModel } from '../data/models';
import { NotFoundError, ValidationError, type FieldErrors } from '../shared/errors';
import { toObjectId } from '../shared/ids';
import { MSG } from '../shared/messages';
import { APP_SCOPES, ConnectedAppModel, type AppScope, type ConnectedAppDoc } from './connected-app.model';
import { revokeGrantsOfClient } from './grants';
import { forgetAppOrigins } from './app-origins';

export interface AppInput {
  name: string;
  siteId: string;
  redirectUris: string[];
  postLogoutRedirectUris?: string[];
  scopes: string[];
  firstParty: boolean;
  type: 'confidential' | 'public';
  backchannelLogoutUri?: string | null;
}

export const hashSecret = (secret: string): string => crypto.createHash('sha256').update(secret, 'utf8').digest('hex');
const newSecret = () => crypto.randomBytes(32).toString('base64url');

/**
 * An absolute https URL (http only on loopback, for development), without a fragment; a registered URI
 * is then matched exactly by the provider, so each variant an app uses must be listed.
 */
function uriProblem(value: string): string | null {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return 'Use an absolute URL such as https://app.example.com/callback.';
  }
  if (url.hash) return 'Leave out the #fragment.';
  const loopback = ['localhost', '127.0.0.1', '[::1]'].includes(url.hostname);
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && loopback))
    return 'Use https (http only for localhost).';
  if (url.username || url.password) return 'Leave out the user name and password.';
  return null;
}

function checkUris(values: string[] | undefined, field: string, required: boolean, fields: FieldErrors): string[] {
  const list = [...new Set((values ?? []).map((v) => v.trim()).filter(Boolean))];
  if (required && !list.length) fields[field] = 'Give at least one address.';
  if (list.length > 20) fields[field] = 'At most 20 addresses.';
  for (const v of list) {
    const problem = uriProblem(v);
    if (problem) {
      fields[field] = `${v.slice(0, 200)}: ${problem}`;
      break;
    }
  }
  return list;
}

async function validInput(input: AppInput): Promise<{
  site: Types.ObjectId;
  redirectUris: string[];
  postLogoutRedirectUris: string[];
  scopes: AppScope[];
  backchannelLogoutUri: string | null;
}> {
  const fields: FieldErrors = {};
  if (!input.name?.trim()) fields.name = 'Give the app a name.';
  const siteId = toObjectId(input.siteId);
  const site = siteId ? await SiteModel.findById(siteId).select('_id').lean() : null;
  if (!site) fields.siteId = 'Choose an existing site.';
  const redirectUris = checkUris(input.redirectUris, 'redirectUris', true, fields);
  const postLogoutRedirectUris = checkUris(input.postLogoutRedirectUris, 'postLogoutRedirectUris', false, fields);
  const backchannel = input.backchannelLogoutUri?.trim()
    ? checkUris([input.backchannelLogoutUri], 'backchannelLogoutUri', false, fields)[0]
    : null;
  const unknown = input.scopes.filter((s) => !(APP_SCOPES as readonly string[]).includes(s));
  if (unknown.length)
    fields.scopes = `Unknown scope: ${unknown.join(', ').slice(0, 200)}. Known scopes: ${APP_SCOPES.join(', ')}.`;
  if (!['confidential', 'public'].includes(input.type)) fields.type = 'Choose confidential or public.';
  if (Object.keys(fields).length) throw new ValidationError(MSG.fieldsNeedAttention, fields);
  // openid is what makes it an OpenID Connect app: always allowed.
  const scopes = [...new Set(['openid', ...input.scopes])] as AppScope[];
  return { site: site!._id, redirectUris, postLogoutRedirectUris, scopes, backchannelLogoutUri: backchannel ?? null };
}

const auditView = (app: ConnectedAppDoc) => ({
  name: app.name,
  site: String(app.site),
  redirectUris: app.redirectUris,
  postLogoutRedirectUris: app.postLogoutRedirectUris,
  scopes: app.scopes,
  firstParty: app.firstParty,
  type: app.type,
  backchannelLogoutUri: app.backchannelLogoutUri,
});

export async function listConnectedApps(actor: Actor): Promise<ConnectedAppDoc[]> {
  assertPermission(actor, 'manageSites');
  return ConnectedAppModel.find().sort({ name: 1 });
}

export async function findConnectedApp(id: string, actor: Actor): Promise<ConnectedAppDoc> {
  assertPermission(actor, 'manageSites');
  const appId = toObjectId(id);
  const app = appId ? await ConnectedAppModel.findById(appId) : null;
  if (!app) throw new NotFoundError('No such connected app.');
  return app;
}

/** Creates the app; a confidential app's secret is in the result, the only time it is shown. */
export async function createConnectedApp(
  input: AppInput,
  ctx: RequestContext & { actor: Actor },
): Promise<{ app: ConnectedAppDoc; secret: string | null }> {
  assertPermission(ctx.actor, 'manageSites');
  const valid = await validInput(input);
  const secret = input.type === 'confidential' ? newSecret() : null;
  const app = await ConnectedAppModel.create({
    ...valid,
    name: input.name.trim(),
    firstParty: input.firstParty,
    type: input.type,
    clientId: crypto.randomBytes(16).toString('base64url'),
    secretHash: secret ? hashSecret(secret) : null,
  });
  forgetAppOrigins();
  await recordAudit(ctx, {
    action: 'connected_app.created',
    target: { type: 'ConnectedApp', id: app._id, label: app.name },
    after: auditView(app),
  });
  return { app, secret };
}

/** Edits the app. Its type stays what it was created as (a public app's users never held a secret). */
export async function updateConnectedApp(
  id: string,
  input: Omit<AppInput, 'type'>,
  ctx: RequestContext & { actor: Actor },
): Promise<ConnectedAppDoc> {
  const app = await findConnectedApp(id, ctx.actor);
  const before = auditView(app);
  const valid = await validInput({ ...input, type: app.type });
  app.set({ ...valid, name: input.name.trim(), firstParty: input.firstParty });
  await app.save();
  forgetAppOrigins();
  await recordAudit(ctx, {
    action: 'connected_app.updated',
    target: { type: 'ConnectedApp', id: app._id, label: app.name },
    before,
    after: auditView(app),
  });
  return app;
}

/** A new secret for a confidential app; the old one stops working at once. */
export async function rotateConnectedAppSecret(
  id: string,
  ctx: RequestContext & { actor: Actor },
): Promise<{ app: ConnectedAppDoc; secret: string }> {
  const app = await findConnectedApp(id, ctx.actor);
  if (app.type !== 'confidential')
    throw new ValidationError('A public app has no secret: it proves itself with PKCE.', { type: 'public' });
  const secret = newSecret();
  app.secretHash = hashSecret(secret);
  await app.save();
  await recordAudit(ctx, {
    action: 'connected_app.secret_rotated',
    target: { type: 'ConnectedApp', id: app._id, label: app.name },
  });
  return { app, secret };
}

/** Deletes the app and revokes everything issued to it. */
export async function deleteConnectedApp(id: string, ctx: RequestContext & { actor: Actor }): Promise<void> {
  const app = await findConnectedApp(id, ctx.actor);
  await ConnectedAppModel.deleteOne({ _id: app._id });
  await revokeGrantsOfClient(app.clientId);
  forgetAppOrigins();
  await recordAudit(ctx, {
    action: 'connected_app.deleted',
    target: { type: 'ConnectedApp', id: app._id, label: app.name },
    before: auditView(app),
  });
}

/** The app behind a client_id, for the provider (no actor: the provider asks, not a person). */
export async function connectedAppByClientId(clientId: string): Promise<ConnectedAppDoc | null> {
  return ConnectedAppModel.findOne({ clientId: String(clientId) });
}
