/**
 * What the API answers. Explicit lists of fields, so a new schema field (or a secret such as
 * passwordHash or sessionEpoch) never leaks by accident. Ids are 24-hex strings, dates ISO 8601.
 */
import type { Types } from 'mongoose';
import { profileCatalog } from '../roles';
import { permissionNames } from '../access';
import type { ConnectedAppDoc } from '../oidc';

type Id = Types.ObjectId;
const id = (v: Id | null | undefined) => (v ? String(v) : null);
const iso = (d: Date | null | undefined) => (d ? new Date(d).toISOString() : null);

export interface UserLike {
  _id: Id;
  username: string;
  email: string;
  firstName?: string | null;
  lastName: string;
  alias: string;
  communityNickname: string;
  localeSidKey: string;
  timeZoneSidKey: string;
  languageLocaleKey: string;
  emailEncodingKey?: string | null;
  userType: string;
  profile: Id;
  license: Id;
  contact?: Id | null;
  site?: Id | null;
  isActive?: boolean | null;
  createdAt?: Date | null;
  lastLoginAt?: Date | null;
  emailVerifiedAt?: Date | null;
}

/** Loads profile and license names once, then serialises any number of users. */
export async function userSerializer(): Promise<(u: UserLike) => Record<string, unknown>> {
  const rows = await profileCatalog();
  const profiles = new Map(rows.map((r) => [String(r.profile._id), r.profile.name]));
  const licenses = new Map(rows.filter((r) => r.license).map((r) => [String(r.license!._id), r.license!.name]));
  return (u) => ({
    id: String(u._id),
    username: u.username,
    email: u.email,
    firstName: u.firstName ?? '',
    lastName: u.lastName,
    alias: u.alias,
    communityNickname: u.communityNickname,
    localeSidKey: u.localeSidKey,
    timeZoneSidKey: u.timeZoneSidKey,
    languageLocaleKey: u.languageLocaleKey,
    emailEncodingKey: u.emailEncodingKey ?? 'UTF-8',
    userType: u.userType,
    profile: { id: String(u.profile), name: profiles.get(String(u.profile)) ?? null },
    license: { id: String(u.license), name: licenses.get(String(u.license)) ?? null },
    contactId: id(u.contact),
    siteId: id(u.site),
    isActive: u.isActive !== false,
    createdAt: iso(u.createdAt),
    lastLoginAt: iso(u.lastLoginAt),
    emailVerified: Boolean(u.emailVerifiedAt),
    emailVerifiedAt: iso(u.emailVerifiedAt),
  });
}

export function serializeProfile(
  p: { _id: Id; name: string; userType: string; license: Id; permissions?: unknown; version?: number | null },
  license: { name: string; requiresContact: boolean } | null,
  users?: number,
) {
  return {
    id: String(p._id),
    name: p.name,
    userType: p.userType,
    license: { id: String(p.license), name: license?.name ?? null },
    requiresContact: license?.requiresContact ?? null,
    permissions: permissionNames(p.permissions as Record<string, boolean>),
    version: p.version ?? 0,
    ...(users !== undefined ? { users } : {}),
  };
}

export function serializePermissionSet(
  s: { _id: Id; name: string; description?: string | null; permissions?: unknown; version?: number | null },
  assignedUsers?: number,
) {
  return {
    id: String(s._id),
    name: s.name,
    description: s.description ?? '',
    permissions: permissionNames(s.permissions as Record<string, boolean>),
    version: s.version ?? 0,
    ...(assignedUsers !== undefined ? { assignedUsers } : {}),
  };
}

export function serializeLicense(l: {
  _id: Id;
  name: string;
  userType: string;
  requiresContact: boolean;
  totalSeats: number;
  usedSeats: number;
}) {
  return {
    id: String(l._id),
    name: l.name,
    userType: l.userType,
    requiresContact: l.requiresContact,
    totalSeats: l.totalSeats,
    usedSeats: l.usedSeats,
  };
}

interface SiteLike {
  _id: Id;
  name: string;
  slug: string;
  selfRegistrationEnabled?: boolean | null;
  registrationProfile: unknown;
  members?: { profiles: Id[]; permissionSets: Id[] } | null;
  pages?: { slug: string; title: string; audience?: { licenses: Id[]; profiles: Id[] } | null }[] | null;
}

export function serializeSite(s: SiteLike) {
  const rp = s.registrationProfile as { _id?: Id; name?: string } | Id;
  const profileId = rp && typeof rp === 'object' && '_id' in rp && rp._id ? rp._id : (rp as Id);
  return {
    id: String(s._id),
    name: s.name,
    slug: s.slug,
    selfRegistrationEnabled: Boolean(s.selfRegistrationEnabled),
    registrationProfile: { id: String(profileId), name: (rp as { name?: string })?.name ?? null },
    members: {
      profileIds: (s.members?.profiles ?? []).map(String),
      permissionSetIds: (s.members?.permissionSets ?? []).map(String),
    },
    pages: (s.pages ?? []).map((p) => ({
      slug: p.slug,
      title: p.title,
      audience: {
        licenseIds: (p.audience?.licenses ?? []).map(String),
        profileIds: (p.audience?.profiles ?? []).map(String),
      },
    })),
  };
}

export function serializeContact(
  c: {
    _id: Id;
    firstName?: string | null;
    lastName: string;
    email?: string | null;
    phone?: string | null;
    title?: string | null;
  },
  account: { _id: Id; name: string } | null,
  userId: Id | null,
) {
  return {
    id: String(c._id),
    firstName: c.firstName ?? '',
    lastName: c.lastName,
    email: c.email ?? null,
    phone: c.phone ?? '',
    title: c.title ?? '',
    account: account ? { id: String(account._id), name: account.name } : null,
    userId: id(userId),
  };
}

/** Bulk API 2.0's JobInfo, in its own field names. */
export function serializeJob(j: {
  _id: Id;
  object: string;
  operation: string;
  state: string;
  createdBy: Id;
  createdAt?: Date;
  updatedAt?: Date;
  numberRecordsUploaded?: number | null;
  numberRecordsProcessed?: number | null;
  numberRecordsFailed?: number | null;
  errorMessage?: string | null;
  lastUploadError?: string | null;
  columns?: string[] | null;
  matchBy?: string | null;
}) {
  return {
    id: String(j._id),
    object: j.object,
    operation: j.operation,
    state: j.state,
    jobType: 'V2Ingest',
    contentType: 'CSV',
    columnDelimiter: 'COMMA',
    lineEnding: 'LF',
    matchBy: j.matchBy ?? null,
    contentUrl: `/api/v1/jobs/ingest/${j._id}/batches`,
    createdById: String(j.createdBy),
    createdDate: iso(j.createdAt),
    systemModstamp: iso(j.updatedAt),
    numberRecordsUploaded: j.numberRecordsUploaded ?? 0,
    numberRecordsProcessed: j.numberRecordsProcessed ?? 0,
    numberRecordsFailed: j.numberRecordsFailed ?? 0,
    // While Open, a refused upload's reason is the job's error, so a client polling the job sees why.
    errorMessage:
      j.errorMessage ??
      (j.state === 'Open' && j.lastUploadError ? `The last upload was refused: ${j.lastUploadError}` : null),
  };
}

/** A connected app; its secret is never read back (only create and rotate return it, once). */
export function serializeApp(a: ConnectedAppDoc, secret?: string | null) {
  return {
    id: String(a._id),
    clientId: a.clientId,
    name: a.name,
    siteId: String(a.site),
    type: a.type,
    firstParty: a.firstParty,
    redirectUris: [...a.redirectUris],
    postLogoutRedirectUris: [...a.postLogoutRedirectUris],
    scopes: [...a.scopes],
    backchannelLogoutUri: a.backchannelLogoutUri ?? null,
    ...(secret ? { clientSecret: secret } : {}),
  };
}

/** A bulk action job: its settings, state, counters and where its report is. */
export function serializeBulkJob(j: {
  _id: Id;
  action: string;
  state: string;
  profileId?: Id | null;
  contactRule?: string | null;
  accountId?: Id | null;
  createdBy: Id;
  createdAt?: Date;
  completedAt?: Date | null;
  numberRecords: number;
  processedThrough?: number | null;
  numberRecordsProcessed?: number | null;
  numberRecordsFailed?: number | null;
  numberRecordsSkipped?: number | null;
  errorMessage?: string | null;
}) {
  return {
    id: String(j._id),
    action: j.action,
    state: j.state,
    profileId: j.profileId ? String(j.profileId) : null,
    contactRule: j.contactRule ?? null,
    accountId: j.accountId ? String(j.accountId) : null,
    createdById: String(j.createdBy),
    createdDate: iso(j.createdAt),
    completedDate: iso(j.completedAt),
    numberRecords: j.numberRecords,
    numberRecordsProcessed: j.numberRecordsProcessed ?? 0,
    numberRecordsFailed: j.numberRecordsFailed ?? 0,
    numberRecordsSkipped: j.numberRecordsSkipped ?? 0,
    errorMessage: j.errorMessage ?? null,
    resultsUrl: `/api/v1/bulk-actions/${j._id}/results`,
  };
}

/** A dry run: what each row would become, and for upgrades whether the license's free seats suffice. */
export function serializeDryRun(
  action: string,
  d: {
    rows: {
      userId: Id;
      username: string | null;
      ok: boolean;
      outcome: string;
      takesSeat: boolean;
      skipped?: boolean;
    }[];
    seats: { license: string; needed: number; free: number; suffice: boolean } | null;
    wouldSucceed: number;
    wouldSkip: number;
    wouldFail: number;
  },
) {
  return {
    dryRun: true,
    action,
    numberRecords: d.rows.length,
    wouldSucceed: d.wouldSucceed,
    wouldSkip: d.wouldSkip,
    wouldFail: d.wouldFail,
    seats: d.seats,
    rows: d.rows.map((r, i) => ({
      row: i + 1,
      userId: String(r.userId),
      username: r.username,
      ok: r.ok,
      skipped: r.skipped ?? false,
      takesSeat: r.takesSeat,
      outcome: r.outcome,
    })),
  };
}
