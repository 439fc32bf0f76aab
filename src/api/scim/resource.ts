/**
 * A user as a SCIM resource and back. Locales travel in SCIM's form (en-US) and are stored in
 * Salesforce's (en_US). Only the attributes listed here are read; others a client sends are ignored
 * (RFC 7644 lets a service provider ignore attributes it does not support), so nothing else can be set.
 */
import { z } from 'zod';
import type { UserDoc } from '../../data/models';
import { SCIM } from './schemas';

export const toScimLocale = (v: string | null | undefined) => (v ? v.replace('_', '-') : undefined);
export const fromScimLocale = (v: string | undefined) => (v ? v.replace('-', '_') : undefined);

export interface Names { profiles: Map<string, string>; licenses: Map<string, string> }

export function toScim(u: UserDoc, base: string, names: Names) {
  return {
    schemas: [SCIM.core, SCIM.extension],
    id: String(u._id),
    userName: u.username,
    name: { givenName: u.firstName ?? '', familyName: u.lastName, formatted: `${u.firstName ?? ''} ${u.lastName}`.trim() },
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

const str = z.string().max(254);
const email = z.looseObject({ value: str, type: z.string().max(40).optional(), primary: z.boolean().optional() });
const hex = z.string().regex(/^[0-9a-f]{24}$/i, 'Use a valid id.');

export const scimUserBody = z.looseObject({
  schemas: z.array(z.string()).refine((s) => s.includes(SCIM.core), `schemas must include ${SCIM.core}.`),
  userName: str,
  name: z.looseObject({ givenName: z.string().max(40).optional(), familyName: z.string().max(80).optional() }).optional(),
  nickName: z.string().max(40).optional(),
  emails: z.array(email).max(10).optional(),
  active: z.boolean().optional(),
  locale: z.string().max(20).optional(),
  preferredLanguage: z.string().max(20).optional(),
  timezone: z.string().max(60).optional(),
  [SCIM.extension]: z
    .looseObject({
      contactId: hex.optional(),
      accountId: hex.optional(),
      accountName: z.string().max(120).optional(),
      profileId: hex.optional(),
      contact: z.looseObject({ firstName: z.string().max(40).optional(), lastName: z.string().max(80).optional(), email: str.optional(), phone: z.string().max(40).optional(), title: z.string().max(128).optional() }).optional(),
    })
    .optional(),
});
export type ScimUserBody = z.infer<typeof scimUserBody>;

export function primaryEmail(emails: ScimUserBody['emails']): string | undefined {
  if (!emails?.length) return undefined;
  return (emails.find((e) => e.primary) ?? emails[0]).value;
}

export const patchBody = z.looseObject({
  schemas: z.array(z.string()).refine((s) => s.includes(SCIM.patch), `schemas must include ${SCIM.patch}.`),
  Operations: z.array(z.looseObject({ op: z.string(), path: z.string().max(200).optional(), value: z.unknown().optional() })).min(1).max(100),
});
