/**
 * SCIM Users routes: list (filter, startIndex, count), get, create (with a contact only), replace
 * (PUT), patch (PATCH, applied to the resource then saved like a PUT) and delete (deactivate and hide
 * from SCIM; users are never removed). Every change goes through the domain services the admin pages
 * and the REST API use (editUser, setUserActive, provisionUser, deprovisionUser), with the token's
 * admin's permissions. Users SCIM may not see (internal staff, other scopes, deprovisioned) are 404.
 */
import type { Request, Response, Router } from 'express';
import { UserModel, type UserDoc } from '../data/models';
import { editUser } from '../users';
import { setUserActive } from '../qualification';
import { profileCatalog } from '../roles';
import {
  defaultProvisioningProfileId,
  deprovisionUser,
  findProvisionableUser,
  listUsersByOffset,
  provisionUser,
} from './provisioning';
import { NotSupportedError, ValidationError } from '../shared/errors';
import { apiContext, parseInput } from '../api';
import { scimFilterQuery } from './filter';
import { applyPatch } from './patch';
import {
  fromScimLocale,
  normaliseBody,
  optionalText,
  patchBody,
  primaryEmail,
  resourceToChanges,
  scimUserBody,
  toScim,
  workPhone,
  type Names,
  type ScimUserBody,
} from './resource';
import { inviteNewUser } from '../account';
import { MAX_RESULTS, SCIM } from './schemas';
import { MSG } from '../shared/messages';

async function names(): Promise<Names> {
  const rows = await profileCatalog();
  return {
    profiles: new Map(rows.map((r) => [String(r.profile._id), r.profile.name])),
    licenses: new Map(rows.filter((r) => r.license).map((r) => [String(r.license!._id), r.license!.name])),
  };
}

function send(res: Response, status: number, body: unknown) {
  res.status(status).type('application/scim+json').send(JSON.stringify(body));
}

const intParam = (value: unknown, name: string, fallback: number) => {
  if (value === undefined) return fallback;
  if (typeof value !== 'string' || !/^-?\d{1,9}$/.test(value))
    throw new ValidationError(MSG.fieldsNeedAttention, { [name]: 'Use a whole number.' });
  return Number(value);
};

/** The contact a create asks for: an existing one, or a new one in an account (by id or name). */
function contactOf(body: ScimUserBody, email: string) {
  const ext = body[SCIM.extension];
  if (ext?.contactId) return { contactId: ext.contactId };
  if (!ext?.accountId && !ext?.accountName) return null;
  return {
    firstName: ext.contact?.firstName ?? body.name?.givenName,
    lastName: ext.contact?.lastName ?? body.name?.familyName ?? '',
    email: ext.contact?.email ?? email,
    phone: ext.contact?.phone ?? ext.phone ?? workPhone(body.phoneNumbers),
    title: ext.contact?.title ?? ext.title ?? optionalText(body.title, 128),
    ...(ext.accountId ? { accountId: ext.accountId } : { accountName: ext.accountName }),
  };
}

/** `publicBase` is PUBLIC_URL plus the mount path: never built from the Host header. */
export function scimUserRoutes(router: Router, publicBase: (req: Request) => string): void {
  const client = (res: Response) => apiContext(res).actor.id;
  const resource = async (req: Request, res: Response, user: UserDoc) =>
    toScim(user, publicBase(req), await names(), client(res));

  /** The one save of PUT and PATCH: a whole wanted resource, through the domain edits. */
  async function save(req: Request, res: Response, user: UserDoc, wanted: ScimUserBody, how: 'PUT' | 'PATCH') {
    const ctx = apiContext(res);
    const { edits, active } = resourceToChanges(wanted, user, ctx.actor.id, how);
    if (Object.keys(edits).length) await editUser(String(user._id), edits, ctx);
    if (active !== undefined) await setUserActive(user._id, active, ctx);
    send(res, 200, await resource(req, res, (await UserModel.findById(user._id))!));
  }

  router.get('/Users', async (req, res) => {
    // Other parameters (attributes, excludedAttributes, sortBy…) are ignored, as RFC 7644 allows.
    const { filter, startIndex: si, count: c } = req.query;
    if (filter !== undefined && typeof filter !== 'string')
      throw new ValidationError(MSG.fieldsNeedAttention, { filter: 'Send one filter.' });
    const startIndex = Math.max(1, intParam(si, 'startIndex', 1));
    const count = Math.min(Math.max(0, intParam(c, 'count', 100)), MAX_RESULTS);
    const actor = apiContext(res).actor;
    const page = await listUsersByOffset(actor, {}, startIndex, count, scimFilterQuery(filter, actor.id));
    const n = await names();
    send(res, 200, {
      schemas: [SCIM.list],
      totalResults: page.total,
      startIndex,
      itemsPerPage: page.records.length,
      Resources: page.records.map((u) => toScim(u, publicBase(req), n, actor.id)),
    });
  });

  router.get('/Users/:id', async (req, res) => {
    send(res, 200, await resource(req, res, await findProvisionableUser(String(req.params.id), apiContext(res).actor)));
  });

  router.post('/Users', async (req, res) => {
    const body = parseInput(scimUserBody, normaliseBody(req.body));
    const email = primaryEmail(body.emails) ?? body.userName;
    const ext = body[SCIM.extension];
    const ctx = apiContext(res);
    const user = await provisionUser(
      {
        username: body.userName,
        usernameAsSent: body.userName,
        externalId: body.externalId,
        externalIdOwner: ctx.actor.id,
        email,
        firstName: body.name?.givenName,
        lastName: body.name?.familyName ?? '',
        communityNickname: body.nickName,
        localeSidKey: fromScimLocale(body.locale),
        languageLocaleKey: fromScimLocale(body.preferredLanguage),
        timeZoneSidKey: body.timezone,
        isActive: body.active,
        profileId: ext?.profileId ?? (await defaultProvisioningProfileId()),
      },
      contactOf(body, email),
      ctx,
    );
    // Provisioned users have no password: they are invited to choose one.
    await inviteNewUser(user, {}, apiContext(res));
    const created = await resource(req, res, (await UserModel.findById(user._id))!);
    res.location(created.meta.location);
    send(res, 201, created);
  });

  router.put('/Users/:id', async (req, res) => {
    const user = await findProvisionableUser(String(req.params.id), apiContext(res).actor);
    await save(req, res, user, parseInput(scimUserBody, normaliseBody(req.body)), 'PUT');
  });

  router.patch('/Users/:id', async (req, res) => {
    const body = parseInput(patchBody, req.body);
    const user = await findProvisionableUser(String(req.params.id), apiContext(res).actor);
    const patched = applyPatch(await resource(req, res, user), body.Operations);
    await save(req, res, user, parseInput(scimUserBody, normaliseBody(patched)), 'PATCH');
  });

  router.delete('/Users/:id', async (req, res) => {
    await deprovisionUser(String(req.params.id), apiContext(res));
    res.status(204).end();
  });

  const allow = (methods: string) => (_req: Request, res: Response) => {
    res.set('Allow', methods);
    throw new NotSupportedError(`This address answers ${methods} only.`, 405);
  };
  router.all('/Users', allow('GET, POST'));
  router.all('/Users/:id', allow('GET, PUT, PATCH, DELETE'));
}
