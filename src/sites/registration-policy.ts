/**
 * Editing a site's registration policy (Manage Sites): open, invite-only or closed; allowed and blocked
 * email domains; disposable addresses; extra sign-up fields. src/registration/policy.ts enforces it.
 */
import { z } from 'zod';
import {
  EXTRA_SIGNUP_FIELDS,
  REGISTRATION_MODES,
  SiteModel,
  type ExtraSignupField,
  type RegistrationMode,
  type SiteDoc,
} from '../data/models';
import type { Actor, RequestContext } from '../access';
import { assertPermission } from '../access';
import { recordAudit } from '../audit';
import { NotFoundError, ValidationError, type FieldErrors } from '../shared/errors';
import { normaliseDomain } from '../shared/email-domains';
import { isObjectIdString } from '../shared/ids';
import { MSG } from '../shared/messages';

export interface RegistrationPolicyInput {
  mode: string;
  /** Domains as typed: one per line, or separated by commas or spaces. */
  allowedDomains: string;
  blockedDomains: string;
  blockDisposable: boolean;
  allowPrivacyRelays: boolean;
  /** Extra fields in form order, each asked as optional or required. */
  extraFields?: Array<{ field: string; required: boolean }>;
}

const MAX_DOMAINS = 200;

/** A list of typed domains, each normalised; the ones that are no domain are named in the field's message. */
function domainList(typed: string, field: string, fields: FieldErrors): string[] {
  const items = typed.split(/[\s,;]+/).filter(Boolean);
  const bad = items.filter((d) => !normaliseDomain(d));
  if (bad.length)
    fields[field] =
      `These are not domains: ${bad.slice(0, 5).join(', ')}. Write one domain per line, like example.com.`;
  else if (items.length > MAX_DOMAINS) fields[field] = `List at most ${MAX_DOMAINS} domains.`;
  return [...new Set(items.map((d) => normaliseDomain(d)!).filter(Boolean))];
}

const extraFieldsSchema = z
  .array(z.object({ field: z.enum(EXTRA_SIGNUP_FIELDS), required: z.boolean() }))
  .max(EXTRA_SIGNUP_FIELDS.length);

export async function updateRegistrationPolicy(
  id: string,
  input: RegistrationPolicyInput,
  ctx: RequestContext & { actor: Actor },
): Promise<SiteDoc> {
  assertPermission(ctx.actor, 'manageSites');
  const site: SiteDoc | null = isObjectIdString(id) ? await SiteModel.findById(id) : null;
  if (!site) throw new NotFoundError('No site has this id.');
  const fields: FieldErrors = {};
  if (!(REGISTRATION_MODES as readonly string[]).includes(input.mode))
    fields.mode = `Choose one of: ${REGISTRATION_MODES.join(', ')}.`;
  const allowedDomains = domainList(input.allowedDomains, 'allowedDomains', fields);
  const blockedDomains = domainList(input.blockedDomains, 'blockedDomains', fields);
  const extra = extraFieldsSchema.safeParse(input.extraFields ?? site.registrationPolicy?.extraFields ?? []);
  if (!extra.success) fields.extraFields = `Choose fields from: ${EXTRA_SIGNUP_FIELDS.join(', ')}.`;
  else if (new Set(extra.data.map((f) => f.field)).size !== extra.data.length)
    fields.extraFields = 'Choose each field once.';
  if (Object.keys(fields).length) throw new ValidationError(MSG.fieldsNeedAttention, fields);
  const before = policyOf(site);
  site.registrationPolicy = {
    mode: input.mode as RegistrationMode,
    allowedDomains,
    blockedDomains,
    blockDisposable: input.blockDisposable,
    allowPrivacyRelays: input.allowPrivacyRelays,
    extraFields: (extra.data ?? []) as Array<{ field: ExtraSignupField; required: boolean }>,
  } as SiteDoc['registrationPolicy'];
  await site.save();
  await recordAudit(ctx, {
    action: 'site.registration_policy_changed',
    target: { type: 'Site', id: site._id, label: site.slug },
    before,
    after: policyOf(site),
  });
  return site;
}

function policyOf(site: SiteDoc): Record<string, unknown> {
  const p = site.registrationPolicy;
  return {
    mode: p?.mode ?? 'open',
    allowedDomains: [...(p?.allowedDomains ?? [])],
    blockedDomains: [...(p?.blockedDomains ?? [])],
    blockDisposable: p?.blockDisposable ?? false,
    allowPrivacyRelays: p?.allowPrivacyRelays ?? true,
    extraFields: (p?.extraFields ?? []).map((f) => ({ field: f.field, required: f.required })),
  };
}
