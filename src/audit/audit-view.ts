/**
 * The audit trail as sentences: "root.admin upgraded Ada Lovelace: External Identity User → Customer
 * Community User", with the before/after as a diff that names profiles, licenses, contacts and sites
 * instead of showing their ids, and a link to the target. A change made during Login As names both:
 * "root.admin, logged in as Ada Lovelace, updated the profile of Ada Lovelace".
 */
import { trusted, Types } from 'mongoose';
import {
  AccountModel,
  ContactModel,
  LicenseModel,
  ProfileModel,
  SiteModel,
  UserModel,
  type AuditEvent,
} from '../data/models';
import { ADMIN } from '../admin/routes';
import { isObjectIdString } from '../shared/ids';

/** Readable names of the actions, as a verb phrase ("upgraded") and as a filter label ("User upgraded"). */
export const ACTION_VERBS: Record<string, [verb: string, label: string]> = {
  'user.registered': ['registered', 'User registered'],
  'user.created': ['created', 'User created'],
  'user.edited': ['edited the details of', 'User details edited'],
  'user.contact_added': ['added a contact for', 'Contact added'],
  'user.contact_associated': ['associated a contact with', 'Contact associated'],
  'user.upgraded': ['upgraded', 'User upgraded'],
  'user.downgraded': ['downgraded', 'User downgraded'],
  'user.activated': ['activated', 'User activated'],
  'user.deactivated': ['deactivated', 'User deactivated'],
  'user.deprovisioned': ['deprovisioned', 'User deprovisioned'],
  'user.profile_changed': ['changed the profile of', 'Internal profile changed'],
  'user.profile_updated': ['updated the profile of', 'Own profile updated'],
  'user.permission_set_assigned': ['assigned a permission set to', 'Permission set assigned'],
  'user.permission_set_removed': ['removed a permission set from', 'Permission set removed'],
  'user.password_changed': ['changed the password of', 'Password changed'],
  'user.password_reset_link_sent': ['sent a password reset link to', 'Password reset link sent'],
  'user.password_reset_by_link': ['reset the password by link of', 'Password reset by link'],
  'user.invitation_sent': ['sent an invitation to', 'Invitation sent'],
  'user.invitation_accepted': ['accepted the invitation of', 'Invitation accepted'],
  'user.verification_sent': ['sent a verification link to', 'Verification link sent'],
  'user.email_verified': ['verified the email of', 'Email verified'],
  'user.email_change_requested': ['asked to change the email of', 'Email change requested'],
  'user.email_changed': ['changed the email of', 'Email changed'],
  'user.mfa_reset': ['reset two-factor sign-in of', 'Two-factor reset'],
  'user.mfa_recovery_codes_regenerated': ['made new recovery codes for', 'Recovery codes regenerated'],
  'user.session_ended': ['ended a session of', 'Session ended'],
  'user.sessions_ended': ['ended every session of', 'All sessions ended'],
  'user.other_sessions_ended': ['ended the other sessions of', 'Other sessions ended'],
  'login_as.started': ['logged in as', 'Login As started'],
  'login_as.ended': ['stopped logging in as', 'Login As ended'],
  'license.seats_changed': ['changed the seats of', 'License seats changed'],
  'profile.created': ['created the profile', 'Profile created'],
  'profile.updated': ['updated the profile', 'Profile updated'],
  'profile.cloned': ['cloned the profile', 'Profile cloned'],
  'profile.deleted': ['deleted the profile', 'Profile deleted'],
  'permission_set.created': ['created the permission set', 'Permission set created'],
  'permission_set.updated': ['updated the permission set', 'Permission set updated'],
  'permission_set.deleted': ['deleted the permission set', 'Permission set deleted'],
  'site.created': ['created the site', 'Site created'],
  'site.updated': ['updated the site', 'Site updated'],
  'site.members_changed': ['changed the members of', 'Site members changed'],
  'site.page_audience_changed': ['changed who sees a page of', 'Page audience changed'],
  'identity_provider.created': ['added the external identity provider', 'Identity provider added'],
  'identity_provider.updated': ['updated the external identity provider', 'Identity provider updated'],
  'identity_provider.removed': ['removed the external identity provider', 'Identity provider removed'],
  'user.identity_linked': ['linked an external sign-in to', 'External sign-in linked'],
  'user.identity_unlinked': ['removed an external sign-in from', 'External sign-in removed'],
  'connected_app.created': ['created the connected app', 'Connected app created'],
  'connected_app.updated': ['updated the connected app', 'Connected app updated'],
  'connected_app.secret_rotated': ['gave a new secret to the connected app', 'Connected app secret rotated'],
  'connected_app.deleted': ['deleted the connected app', 'Connected app deleted'],
  'site.registration_policy_changed': ['changed the registration policy of', 'Registration policy changed'],
  'site.registration_invitation_created': ['created an invitation to register on', 'Invitation to register created'],
  'site.registration_invitation_revoked': ['withdrew an invitation to register on', 'Invitation to register withdrawn'],
  'site.terms_published': ['published terms for', 'Terms published'],
  'registration.refused': ['was refused registration on', 'Registration refused'],
  'api_token.created': ['created the API token', 'API token created'],
  'api_token.revoked': ['revoked the API token', 'API token revoked'],
  'delegated_group.created': ['created the delegated admin group', 'Delegated group created'],
  'delegated_group.updated': ['updated the delegated admin group', 'Delegated group updated'],
  'ingest_job.created': ['started the bulk job', 'Bulk job started'],
  'ingest_job.deleted': ['deleted the bulk job', 'Bulk job deleted'],
  'community_page.created': ['created the community page', 'Community page created'],
  'community_page.updated': ['updated the community page', 'Community page updated'],
  'community_page.deleted': ['removed the community page', 'Community page removed'],
  'user.asked_to_join': ['asked to join the community:', 'Asked to join the community'],
};

const LOOKUPS: Record<string, 'profile' | 'license' | 'contact' | 'account' | 'site'> = {
  profile: 'profile',
  profileId: 'profile',
  license: 'license',
  contact: 'contact',
  contactId: 'contact',
  account: 'account',
  accountId: 'account',
  site: 'site',
  siteId: 'site',
};

type Lean = AuditEvent & { _id: Types.ObjectId };
export interface AuditRow {
  id: string;
  at: Date;
  action: string;
  actor: string;
  /** During Login As: the user the actor was signed in as ("root.admin, logged in as Ada Lovelace, …"). */
  onBehalfOf: string | null;
  verb: string;
  target: string;
  targetHref: string | null;
  summary: string;
  changes: { field: string; before: string; after: string }[];
  ip: string | null;
  via: string;
}

function show(v: unknown): string {
  if (v === null || v === undefined || v === '') return '—';
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

/** Turns events into sentences, resolving ids of profiles, licenses, contacts, accounts, sites and users to names. */
export async function auditRows(events: Lean[]): Promise<AuditRow[]> {
  const wanted: Record<string, Set<string>> = {
    profile: new Set(),
    license: new Set(),
    contact: new Set(),
    account: new Set(),
    site: new Set(),
    user: new Set(),
  };
  for (const e of events) {
    for (const side of [e.before, e.after] as unknown[]) {
      if (!side || typeof side !== 'object') continue;
      for (const [k, v] of Object.entries(side)) if (LOOKUPS[k] && isObjectIdString(v)) wanted[LOOKUPS[k]].add(v);
    }
    if (e.target?.type === 'User' && e.target.id) wanted.user.add(String(e.target.id));
    if (e.onBehalfOf?.id) wanted.user.add(String(e.onBehalfOf.id));
  }
  // The one thing namesOf needs of a model (any of the six), without naming mongoose's overloads.
  type NameSource = { find(filter: object): { select(f: string): { lean<T>(): { exec(): Promise<T> } } } };
  type Named = { _id: Types.ObjectId; name?: string; firstName?: string | null; lastName?: string | null };
  // One query per kind of record the events name, only for the kinds that appear.
  const namesOf = (model: NameSource, kind: string, fields: string): Promise<Named[]> =>
    wanted[kind].size
      ? model
          .find({ _id: trusted({ $in: [...wanted[kind]].map((i) => new Types.ObjectId(i)) }) })
          .select(fields)
          .lean<Named[]>()
          .exec()
      : Promise.resolve([]);
  const [profiles, licenses, contacts, accounts, sites, users] = await Promise.all([
    namesOf(ProfileModel, 'profile', 'name'),
    namesOf(LicenseModel, 'license', 'name'),
    namesOf(ContactModel, 'contact', 'firstName lastName'),
    namesOf(AccountModel, 'account', 'name'),
    namesOf(SiteModel, 'site', 'name'),
    namesOf(UserModel, 'user', 'firstName lastName'),
  ]);
  const names = new Map<string, string>();
  for (const x of [...profiles, ...licenses, ...accounts, ...sites]) names.set(String(x._id), x.name ?? '');
  for (const c of contacts) names.set(String(c._id), `${c.firstName ?? ''} ${c.lastName}`.trim());
  const userNames = new Map(users.map((u) => [String(u._id), `${u.firstName ?? ''} ${u.lastName ?? ''}`.trim()]));
  const named = (k: string, v: unknown) =>
    LOOKUPS[k] && typeof v === 'string' && names.has(v) ? names.get(v)! : show(v);

  return events.map((e) => {
    const before = (e.before && typeof e.before === 'object' ? e.before : {}) as Record<string, unknown>;
    const after = (e.after && typeof e.after === 'object' ? e.after : {}) as Record<string, unknown>;
    const fields = [...new Set([...Object.keys(before), ...Object.keys(after)])];
    const changes = fields
      .map((f) => ({
        field: f,
        before: f in before ? named(f, before[f]) : '—',
        after: f in after ? named(f, after[f]) : '—',
      }))
      .filter((c) => c.before !== c.after);
    const targetId = e.target?.id ? String(e.target.id) : null;
    const target = (targetId && userNames.get(targetId)) || e.target?.label || '';
    const main = changes.find((c) => c.field === 'profile') ?? (changes.length === 1 ? changes[0] : null);
    const summary = main && main.before !== '—' ? `${main.before} → ${main.after}` : '';
    return {
      id: String(e._id),
      at: e.at,
      action: e.action,
      actor:
        e.actor?.username ??
        (e.action === 'user.registered' || e.action === 'registration.refused' ? 'A guest' : 'The system'),
      onBehalfOf: e.onBehalfOf
        ? (e.onBehalfOf.id && userNames.get(String(e.onBehalfOf.id))) || e.onBehalfOf.username || null
        : null,
      verb: ACTION_VERBS[e.action]?.[0] ?? e.action,
      target,
      targetHref:
        targetId && e.target?.type === 'User'
          ? ADMIN.user(targetId)
          : targetId && e.target?.type === 'Profile'
            ? ADMIN.profile(targetId)
            : targetId && e.target?.type === 'PermissionSet'
              ? ADMIN.permissionSet(targetId)
              : null,
      summary,
      changes,
      ip: e.ip ?? null,
      via: e.via ?? 'system',
    };
  });
}
