/**
 * SCIM Users: list (filter, startIndex, count), get, create (with a contact only), replace, patch
 * (active, name, emails and a few more), delete (deactivates: users are never removed). Every change
 * goes through the domain services the admin pages use, with the token's admin's permissions.
 */
import type { Request, Response, Router } from 'express';
import { z } from 'zod';
import { UserModel, type UserDoc } from '../../data/models';
import { userDetails, editUser, type UserEdits } from '../../domain/user-admin';
import { setUserActive } from '../../domain/qualification';
import { findUserOr404 } from '../../domain/users';
import { listProfiles } from '../../domain/profiles';
import { defaultProvisioningProfileId, listUsersByOffset, provisionUser } from '../../domain/provisioning';
import { ValidationError, NotFoundError } from '../../domain/errors';
import { apiContext } from '../bearer';
import { parseInput } from '../validate';
import { fromScimLocale, patchBody, primaryEmail, scimUserBody, toScim, type Names, type ScimUserBody } from './resource';
import { parseScimFilter } from './filter';
import { inviteNewUser } from '../../domain/invitations';
import { MAX_RESULTS, SCIM } from './schemas';

/** 400 with scimType mutability or invalidPath. */
export class ScimRequestError extends Error {
  readonly status = 400;
  readonly expose = true;
  constructor(message: string, public readonly scimType: string) {
    super(message);
  }
}

/** Absolute base of resource locations (behind a proxy, TRUST_PROXY makes protocol and host right). */
const base = (req: Request) => `${req.protocol}://${req.get('host')}${req.baseUrl}`;

async function names(): Promise<Names> {
  const rows = await listProfiles();
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
  if (typeof value !== 'string' || !/^-?\d{1,9}$/.test(value)) throw new ValidationError('Some fields need attention.', { [name]: 'Use a whole number.' });
  return Number(value);
};

/** The editable attributes of a SCIM user as domain edits. */
function editsFrom(body: Partial<ScimUserBody>): Partial<UserEdits> {
  return {
    firstName: body.name?.givenName,
    lastName: body.name?.familyName,
    email: primaryEmail(body.emails),
    communityNickname: body.nickName,
    localeSidKey: fromScimLocale(body.locale),
    languageLocaleKey: fromScimLocale(body.preferredLanguage),
    timeZoneSidKey: body.timezone,
  };
}

/**
 * PUT replaces the user (RFC 7644 3.5.1): the required attributes must be present, and optional
 * read-write ones left out are reset to their defaults (given name empty, locale and language en-US,
 * time zone GMT) rather than kept. Left as they are when omitted: nickName (every user needs a unique
 * one) and active (a replace that forgot it must not lock anyone out or let anyone back in).
 */
function replacementEdits(body: ScimUserBody): Partial<UserEdits> {
  const missing = [!body.name?.familyName && 'name.familyName', !primaryEmail(body.emails) && 'emails'].filter(Boolean);
  if (missing.length) throw new ScimRequestError(`PUT replaces the whole user: ${missing.join(' and ')} ${missing.length > 1 ? 'are' : 'is'} required.`, 'invalidValue');
  const defaults = (path: string) => UserModel.schema.path(path).options.default as string;
  const edits = editsFrom(body);
  return {
    ...edits,
    firstName: edits.firstName ?? '',
    localeSidKey: edits.localeSidKey ?? defaults('localeSidKey'),
    languageLocaleKey: edits.languageLocaleKey ?? defaults('languageLocaleKey'),
    timeZoneSidKey: edits.timeZoneSidKey ?? defaults('timeZoneSidKey'),
  };
}

async function applyChanges(id: string, edits: Partial<UserEdits>, active: boolean | undefined, req: Request, res: Response) {
  const ctx = apiContext(res);
  const self = ctx.actor.id.toHexString() === id.toLowerCase();
  if (active !== undefined && self) await setUserActive(id, active, ctx);
  if (Object.values(edits).some((v) => v !== undefined)) await editUser(id, edits, ctx);
  else await userDetails(id, ctx.actor);
  if (active !== undefined && !self) await setUserActive(id, active, ctx);
  send(res, 200, toScim(await findUserOr404(id), base(req), await names()));
}

/** One PATCH operation onto the pending edits; paths are the attributes this provider supports. */
function applyOperation(op: { op: string; path?: string; value?: unknown }, edits: Partial<UserEdits>, state: { active?: boolean }) {
  const kind = op.op.toLowerCase();
  if (!['add', 'replace', 'remove'].includes(kind)) throw new ScimRequestError(`Unknown op "${op.op}": use add, replace or remove.`, 'invalidSyntax');
  if (!op.path) {
    if (kind === 'remove' || !op.value || typeof op.value !== 'object' || Array.isArray(op.value)) throw new ScimRequestError('An operation without a path needs an object value.', 'invalidValue');
    for (const [path, value] of Object.entries(op.value as Record<string, unknown>)) applyOperation({ op: kind, path, value }, edits, state);
    return;
  }
  const path = op.path.replace(/^urn:ietf:params:scim:schemas:core:2\.0:User:/i, '');
  const value = kind === 'remove' ? undefined : op.value;
  const text = (max: number) => {
    if (kind === 'remove') return '';
    const parsed = z.string().max(max).safeParse(value);
    if (!parsed.success) throw new ScimRequestError(`${path} takes text of at most ${max} characters.`, 'invalidValue');
    return parsed.data;
  };
  switch (path.toLowerCase()) {
    case 'active': {
      const v = typeof value === 'string' ? value.toLowerCase() : value; // some tools send "False"
      if (v !== true && v !== false && v !== 'true' && v !== 'false') throw new ScimRequestError('active takes true or false.', 'invalidValue');
      state.active = v === true || v === 'true';
      return;
    }
    case 'name.givenname': edits.firstName = text(40); return;
    case 'name.familyname': if (kind === 'remove') break; edits.lastName = text(80); return;
    case 'name': {
      const parsed = scimUserBody.shape.name.safeParse(value);
      if (kind === 'remove' || !parsed.success || !parsed.data) throw new ScimRequestError('name takes an object with givenName and familyName.', 'invalidValue');
      if (parsed.data.givenName !== undefined) edits.firstName = parsed.data.givenName;
      if (parsed.data.familyName !== undefined) edits.lastName = parsed.data.familyName;
      return;
    }
    case 'emails': {
      const parsed = scimUserBody.shape.emails.safeParse(value);
      if (kind === 'remove' || !parsed.success || !primaryEmail(parsed.data)) throw new ScimRequestError('emails takes a list of { value, primary }.', 'invalidValue');
      edits.email = primaryEmail(parsed.data);
      return;
    }
    case 'emails[type eq "work"].value':
    case 'emails.value': if (kind === 'remove') break; edits.email = text(254); return;
    case 'nickname': if (kind === 'remove') break; edits.communityNickname = text(40); return;
    case 'locale': if (kind === 'remove') break; edits.localeSidKey = fromScimLocale(text(20)); return;
    case 'preferredlanguage': if (kind === 'remove') break; edits.languageLocaleKey = fromScimLocale(text(20)); return;
    case 'timezone': if (kind === 'remove') break; edits.timeZoneSidKey = text(60); return;
    case 'username': throw new ScimRequestError('userName cannot be changed.', 'mutability');
    default: throw new ScimRequestError(`The path "${op.path}" is not supported: use active, name, emails, nickName, locale, preferredLanguage or timezone.`, 'invalidPath');
  }
  throw new ScimRequestError(`${op.path} is required and cannot be removed.`, 'mutability');
}

export function scimUserRoutes(router: Router): void {
  router.get('/Users', async (req, res) => {
    const { filter, startIndex: si, count: c, ...rest } = req.query;
    const unknown = Object.keys(rest).filter((k) => !['attributes', 'excludedAttributes', 'sortBy', 'sortOrder'].includes(k));
    if (unknown.length) throw new ValidationError('Some fields need attention.', Object.fromEntries(unknown.map((k) => [k, 'Unknown parameter.'])));
    if (filter !== undefined && typeof filter !== 'string') throw new ValidationError('Some fields need attention.', { filter: 'Send one filter.' });
    const startIndex = Math.max(1, intParam(si, 'startIndex', 1));
    const count = Math.min(Math.max(0, intParam(c, 'count', 100)), MAX_RESULTS);
    const { id, ...filters } = parseScimFilter(filter);
    const actor = apiContext(res).actor;
    let page: { total: number; records: UserDoc[] };
    if (id !== undefined) {
      const found = await userDetails(id, actor).then((d) => [d.user], (err) => {
        if (err instanceof NotFoundError) return [];
        throw err;
      });
      page = { total: found.length, records: startIndex === 1 ? found.slice(0, count) : [] };
    } else {
      page = await listUsersByOffset(actor, filters, startIndex, count);
    }
    const n = await names();
    send(res, 200, { schemas: [SCIM.list], totalResults: page.total, startIndex, itemsPerPage: page.records.length, Resources: page.records.map((u) => toScim(u, base(req), n)) });
  });

  router.get('/Users/:id', async (req, res) => {
    const { user } = await userDetails(String(req.params.id), apiContext(res).actor);
    send(res, 200, toScim(user, base(req), await names()));
  });

  router.post('/Users', async (req, res) => {
    const body = parseInput(scimUserBody, req.body);
    const ext = body[SCIM.extension];
    const email = primaryEmail(body.emails) ?? body.userName;
    const contact = ext?.contactId
      ? { contactId: ext.contactId }
      : ext?.accountId || ext?.accountName
        ? {
            firstName: ext.contact?.firstName ?? body.name?.givenName,
            lastName: ext.contact?.lastName ?? body.name?.familyName ?? '',
            email: ext.contact?.email ?? email,
            phone: ext.contact?.phone,
            title: ext.contact?.title,
            ...(ext.accountId ? { accountId: ext.accountId } : { accountName: ext.accountName }),
          }
        : null;
    const profileId = ext?.profileId ?? (await defaultProvisioningProfileId());
    const user = await provisionUser(
      {
        username: body.userName,
        email,
        firstName: body.name?.givenName,
        lastName: body.name?.familyName ?? '',
        communityNickname: body.nickName,
        localeSidKey: fromScimLocale(body.locale),
        languageLocaleKey: fromScimLocale(body.preferredLanguage),
        timeZoneSidKey: body.timezone,
        isActive: body.active,
        profileId,
      },
      contact,
      apiContext(res),
    );
    // Provisioned users have no password: they are invited to choose one.
    await inviteNewUser(user, {}, apiContext(res));
    res.location(`${base(req)}/Users/${user._id}`);
    send(res, 201, toScim((await UserModel.findById(user._id))!, base(req), await names()));
  });

  router.put('/Users/:id', async (req, res) => {
    const id = String(req.params.id);
    const body = parseInput(scimUserBody, req.body);
    const { user } = await userDetails(id, apiContext(res).actor);
    if (body.userName.trim().toLowerCase() !== user.username) throw new ScimRequestError('userName cannot be changed.', 'mutability');
    await applyChanges(id, replacementEdits(body), body.active, req, res);
  });

  router.patch('/Users/:id', async (req, res) => {
    const id = String(req.params.id);
    const body = parseInput(patchBody, req.body);
    const edits: Partial<UserEdits> = {};
    const state: { active?: boolean } = {};
    for (const op of body.Operations) applyOperation(op, edits, state);
    await applyChanges(id, edits, state.active, req, res);
  });

  router.delete('/Users/:id', async (req, res) => {
    await setUserActive(String(req.params.id), false, apiContext(res));
    res.status(204).end();
  });
}
