/**
 * A user as a SCIM resource and back. Locales travel in SCIM's form (en-US) and are stored in
 * Salesforce's (en_US). Only the attributes listed here are read; others a client sends (displayName,
 * title, phone numbers, addresses, roles, the enterprise extension…) are ignored, as RFC 7644 lets a
 * service provider do, so nothing else can be set. Read-only attributes (id, meta, profileName,
 * licenseName, contactId) are ignored on the way in; null means unassigned (RFC 7643 2.5).
 *
 * `resourceToChanges` is the one mapping from a whole wanted resource to domain edits: PUT sends the
 * body, PATCH the current resource with its operations applied (patch.ts).
 */
import { z } from 'zod';
import type { Types } from 'mongoose';
import { UserModel, type UserDoc } from '../data/models';
import type { UserEdits } from '../users';
import { ScimRequestError } from './scim-error';
import { SCIM } from './schemas';
import { externalIdOf } from '../users';
import { OBJECT_ID_PATTERN } from '../shared/ids';
import { normaliseUsername } from '../shared/username';
import { MSG } from '../shared/messages';

export const toScimLocale = (v: string | null | undefined) => (v ? v.replace('_', '-') : undefined);
export const fromScimLocale = (v: string | undefined) => (v ? v.replace('-', '_') : undefined);

export interface Names {
  profiles: Map<string, string>;
  licenses: Map<string, string>;
}

/** The userName as the client sent it, unless the username changed elsewhere since. */
function userNameOf(u: UserDoc): string {
  return u.usernameAsSent && normaliseUsername(u.usernameAsSent) === u.username ? u.usernameAsSent : u.username;
}

/** `client`: the caller (the API token's admin); externalId is shown to the client that set it only. */
export function toScim(u: UserDoc, base: string, names: Names, client: Types.ObjectId) {
  const ownExternalId = externalIdOf(u.scimExternalIds, client) ?? undefined;
  return {
    schemas: [SCIM.core, SCIM.extension],
    id: String(u._id),
    ...(ownExternalId ? { externalId: ownExternalId } : {}),
    userName: userNameOf(u),
    name: {
      givenName: u.firstName ?? '',
      familyName: u.lastName,
      formatted: `${u.firstName ?? ''} ${u.lastName}`.trim(),
    },
    displayName: `${u.firstName ?? ''} ${u.lastName}`.trim(),
    nickName: u.communityNickname,
    emails: [{ value: u.email, type: 'work', primary: true }],
    active: u.isActive !== false,
    locale: toScimLocale(u.localeSidKey),
    preferredLanguage: toScimLocale(u.languageLocaleKey),
    timezone: u.timeZoneSidKey,
    userType: u.userType,
    [SCIM.extension]: {
      contactId: u.contact ? String(u.contact) : null,
      profileId: String(u.profile),
      profileName: names.profiles.get(String(u.profile)) ?? null,
      licenseName: names.licenses.get(String(u.license)) ?? null,
    },
    meta: {
      resourceType: 'User',
      created: u.get('createdAt')?.toISOString?.(),
      lastModified: u.get('updatedAt')?.toISOString?.(),
      location: `${base}/Users/${u._id}`,
    },
  };
}
export type ScimView = ReturnType<typeof toScim>;

/** True/False as booleans or as the strings some clients send ("True", "false"). */
const flag = z.union([
  z.boolean(),
  z
    .string()
    .regex(/^(true|false)$/i, 'Use true or false.')
    .transform((s) => s.toLowerCase() === 'true'),
]);
const str = z.string().max(254);
const email = z.looseObject({ value: str, type: z.string().max(40).optional(), primary: flag.optional() });
const hex = z.string().regex(OBJECT_ID_PATTERN, MSG.useValidId);

export const scimUserBody = z.looseObject({
  schemas: z.array(z.string()).refine((s) => s.includes(SCIM.core), `schemas must include ${SCIM.core}.`),
  userName: z.string().trim().min(1, 'Enter a userName.').max(80),
  externalId: z.string().min(1).max(255).optional(),
  name: z
    .looseObject({ givenName: z.string().max(40).optional(), familyName: z.string().max(80).optional() })
    .optional(),
  nickName: z.string().max(40).optional(),
  emails: z.array(email).max(10).optional(),
  active: flag.optional(),
  locale: z.string().max(20).optional(),
  preferredLanguage: z.string().max(20).optional(),
  timezone: z.string().max(60).optional(),
  [SCIM.extension]: z
    .looseObject({
      contactId: hex.optional(),
      accountId: hex.optional(),
      accountName: z.string().max(120).optional(),
      profileId: hex.optional(),
      phone: z.string().max(40).optional(),
      title: z.string().max(128).optional(),
      contact: z
        .looseObject({
          firstName: z.string().max(40).optional(),
          lastName: z.string().max(80).optional(),
          email: str.optional(),
          phone: z.string().max(40).optional(),
          title: z.string().max(128).optional(),
        })
        .optional(),
    })
    .optional(),
});
export type ScimUserBody = z.infer<typeof scimUserBody>;

export const PASSWORDS_REFUSED =
  'Passwords are not synchronised over SCIM: turn password sync off in the provisioning app (Okta: Provisioning > To App > Sync Password). People set their own password on the site.';

/**
 * A body as the schema reads it: nulls dropped (unassigned), the extension's old name read as the new
 * one, and no password (passwords are not synchronised: README, API section). Call assertShallow first.
 */
export function normaliseBody(body: unknown): unknown {
  if (!body || typeof body !== 'object' || Array.isArray(body)) return body;
  const out = withoutNulls(body) as Record<string, unknown>;
  if (out[SCIM.legacyExtension] !== undefined && out[SCIM.extension] === undefined)
    out[SCIM.extension] = out[SCIM.legacyExtension];
  delete out[SCIM.legacyExtension];
  if (out.password !== undefined) throw new ScimRequestError(PASSWORDS_REFUSED, 'invalidValue');
  return out;
}

function withoutNulls(value: unknown): unknown {
  if (Array.isArray(value)) return value.filter((v) => v !== null).map(withoutNulls);
  if (!value || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.entries(value)
      .filter(([, v]) => v !== null)
      .map(([k, v]) => [k, withoutNulls(v)]),
  );
}

const isPrimary = (e: { primary?: boolean }) => e.primary === true;

/** The primary email, else the work one, else the first. */
export function primaryEmail(emails: ScimUserBody['emails']): string | undefined {
  if (!emails?.length) return undefined;
  return (emails.find(isPrimary) ?? emails.find((e) => e.type?.toLowerCase() === 'work') ?? emails[0]).value;
}

/** A core attribute the portal does not keep, read only to fill in a new contact. */
export function optionalText(value: unknown, max: number): string | undefined {
  return typeof value === 'string' && value.length <= max ? value : undefined;
}

export function workPhone(phoneNumbers: unknown): string | undefined {
  if (!Array.isArray(phoneNumbers)) return undefined;
  const phones = phoneNumbers.filter(
    (p): p is { value: string; type?: string; primary?: unknown } =>
      !!p && typeof p === 'object' && typeof p.value === 'string',
  );
  const phone = phones.find((p) => p.primary === true) ?? phones.find((p) => p.type === 'work') ?? phones[0];
  return optionalText(phone?.value, 40);
}

export interface Changes {
  edits: Partial<UserEdits>;
  active?: boolean;
}

const defaultOf = (path: string) => UserModel.schema.path(path).options.default as string;

/**
 * What a wanted resource changes on `user` (only what differs). The resource is the whole user: the
 * required attributes must be there, optional read-write ones missing go back to their defaults (given
 * name empty, locale and language en-US, time zone GMT). `kept` lists what stays as it is when missing
 * (PUT keeps nickName, active and externalId; a PATCH that removed them is refused).
 */
export function resourceToChanges(
  wanted: ScimUserBody,
  user: UserDoc,
  client: Types.ObjectId,
  how: 'PUT' | 'PATCH',
): Changes {
  const missing = [
    !wanted.name?.familyName && 'name.familyName',
    !primaryEmail(wanted.emails) && 'emails',
    how === 'PATCH' && !wanted.nickName && 'nickName',
  ].filter(Boolean);
  if (missing.length) {
    throw how === 'PUT'
      ? new ScimRequestError(
          `PUT replaces the whole user: ${missing.join(' and ')} ${missing.length > 1 ? 'are' : 'is'} required.`,
          'invalidValue',
        )
      : new ScimRequestError(
          `${missing.join(' and ')} ${missing.length > 1 ? 'are' : 'is'} required and cannot be removed.`,
          'mutability',
        );
  }
  const ext = wanted[SCIM.extension];
  if (ext?.profileId && ext.profileId.toLowerCase() !== String(user.profile)) {
    throw new ScimRequestError(
      'profileId cannot be changed over SCIM: change the license in the admin area.',
      'mutability',
    );
  }
  const ownExternalId = externalIdOf(user.scimExternalIds, client);
  const wantedExternalId = wanted.externalId ?? (how === 'PUT' ? ownExternalId : null);
  const target: Partial<UserEdits> = {
    username: normaliseUsername(wanted.userName),
    usernameAsSent: wanted.userName,
    firstName: wanted.name?.givenName ?? '',
    lastName: wanted.name!.familyName!,
    email: primaryEmail(wanted.emails)!.trim().toLowerCase(),
    communityNickname: wanted.nickName ?? user.communityNickname,
    localeSidKey: fromScimLocale(wanted.locale) ?? defaultOf('localeSidKey'),
    languageLocaleKey: fromScimLocale(wanted.preferredLanguage) ?? defaultOf('languageLocaleKey'),
    timeZoneSidKey: wanted.timezone ?? defaultOf('timeZoneSidKey'),
  };
  const edits = Object.fromEntries(
    Object.entries(target).filter(
      ([k, v]) => v !== (user.get(k) ?? (k === 'usernameAsSent' ? user.username : undefined)),
    ),
  ) as Partial<UserEdits>;
  // Only this client's own externalId changes; other clients' ids stay (src/users/external-ids.ts).
  if (wantedExternalId !== ownExternalId)
    Object.assign(edits, { externalId: wantedExternalId, externalIdOwner: client });
  const active = wanted.active === undefined || wanted.active === (user.isActive !== false) ? undefined : wanted.active;
  return { edits, active };
}

export const patchBody = z.looseObject({
  schemas: z.array(z.string()).refine((s) => s.includes(SCIM.patch), `schemas must include ${SCIM.patch}.`),
  Operations: z
    .array(
      z.looseObject({ op: z.string().max(20), path: z.string().max(500).optional(), value: z.unknown().optional() }),
    )
    .min(1)
    .max(100),
});
export type PatchOperation = z.infer<typeof patchBody>['Operations'][number];
