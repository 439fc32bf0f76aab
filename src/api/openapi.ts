/**
 * The OpenAPI 3.1 document of the REST API, served at /api/v1/openapi.json. Request schemas are
 * generated from the same zod schemas that validate requests (so they cannot drift); a test walks the
 * Express routes and this document and checks that they name the same operations.
 */
import { z } from 'zod';
import {
  newJobBody,
  newUserBody,
  userPatchBody,
  contactBody,
  upgradeBody,
  downgradeBody,
  licensePatchBody,
  jobPatchBody,
  userListQuery,
  newProfileBody,
  profilePatchBody,
  cloneBody,
  newPermissionSetBody,
  permissionSetPatchBody,
  assignmentBody,
  userProfileBody,
  siteMembersBody,
  pageAudienceBody,
  newCommunityPageBody,
  communityPagePatchBody,
  newAppBody,
  appPatchBody,
  newBulkActionBody,
  bulkActionPatchBody,
} from './schemas';
import { V1 } from './v1/paths';
import { OBJECT_ID_SOURCE } from '../shared/ids';
import { BULK_ACTIONS, BULK_JOB_STATES, CONTACT_RULES } from '../data/models';

type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';
interface Op {
  method: Method;
  path: string;
  summary: string;
  body?: z.ZodType | 'csv';
  ok: number;
  response?: string;
  /** CSV answer; 'safe': always spreadsheet-safe (no raw parameter). */
  csv?: boolean | 'safe';
  query?: boolean;
}

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const json = (schema: object) => ({ 'application/json': { schema } });
const list = (item: string) => ({
  type: 'object',
  properties: { records: { type: 'array', items: ref(item) } },
  required: ['records'],
});

export const OPERATIONS: Op[] = [
  { method: 'get', path: V1.openapi, summary: 'This document', ok: 200 },
  {
    method: 'post',
    path: V1.users,
    summary: 'Create a user (contactless unless contactId is given)',
    body: newUserBody,
    ok: 201,
    response: 'User',
  },
  {
    method: 'get',
    path: V1.users,
    summary: 'Search users (filters, keyset pages)',
    ok: 200,
    response: 'UserPage',
    query: true,
  },
  { method: 'get', path: V1.user, summary: 'Read a user', ok: 200, response: 'User' },
  {
    method: 'patch',
    path: V1.user,
    summary: 'Change fields of a user, or (de)activate',
    body: userPatchBody,
    ok: 200,
    response: 'User',
  },
  {
    method: 'post',
    path: V1.userContact,
    summary: 'Create a contact (and account) and associate it, or associate an existing contact',
    body: contactBody,
    ok: 200,
    response: 'User',
  },
  {
    method: 'post',
    path: V1.userUpgrade,
    summary: 'Upgrade to a community profile (takes a seat; needs a contact)',
    body: upgradeBody,
    ok: 200,
    response: 'User',
  },
  {
    method: 'post',
    path: V1.userDowngrade,
    summary: 'Downgrade to contactless (frees the seat, keeps the contact record)',
    body: downgradeBody,
    ok: 200,
    response: 'User',
  },
  { method: 'post', path: V1.userActivate, summary: 'Activate a user', ok: 200, response: 'User' },
  {
    method: 'post',
    path: V1.userDeactivate,
    summary: 'Deactivate a user (ends their sessions)',
    ok: 200,
    response: 'User',
  },
  {
    method: 'post',
    path: V1.userProfile,
    summary: "Move an internal user to another internal profile (never the last administrator's)",
    body: userProfileBody,
    ok: 200,
    response: 'User',
  },
  {
    method: 'get',
    path: V1.userPermissionSets,
    summary: "An internal user's permission sets",
    ok: 200,
    response: 'PermissionSetList',
  },
  {
    method: 'post',
    path: V1.userPermissionSets,
    summary: 'Assign a permission set to an internal user (audited)',
    body: assignmentBody,
    ok: 201,
    response: 'PermissionSetList',
  },
  {
    method: 'delete',
    path: V1.userPermissionSet,
    summary: 'Remove a permission set from a user (audited; never the last administrator)',
    ok: 204,
  },
  { method: 'delete', path: V1.userSessions, summary: 'End every session of a user (site and admin area)', ok: 204 },
  {
    method: 'get',
    path: V1.userExport,
    summary: "A user's data as JSON: profile, sign-in history, sessions, consents, audit of changes (audited)",
    ok: 200,
  },
  {
    method: 'post',
    path: V1.userDeletion,
    summary:
      'Delete a user after the grace period (DELETION_GRACE_DAYS); their sign-in meanwhile cancels it. Answers requestedAt and dueAt',
    ok: 202,
  },
  {
    method: 'post',
    path: V1.userInvitation,
    summary: 'Send the set-password invitation again (users without a password)',
    ok: 202,
    response: 'User',
  },
  { method: 'get', path: V1.profiles, summary: 'List profiles', ok: 200, response: 'ProfileList' },
  {
    method: 'post',
    path: V1.profiles,
    summary: 'Create a profile (its license fixes the user type)',
    body: newProfileBody,
    ok: 201,
    response: 'Profile',
  },
  { method: 'get', path: V1.profile, summary: 'Read a profile', ok: 200, response: 'Profile' },
  {
    method: 'patch',
    path: V1.profile,
    summary: 'Change a profile as of the version read (409 when changed meanwhile)',
    body: profilePatchBody,
    ok: 200,
    response: 'Profile',
  },
  { method: 'delete', path: V1.profile, summary: 'Delete a profile nobody holds (409 naming how many do)', ok: 204 },
  {
    method: 'post',
    path: V1.profileClone,
    summary: 'Copy a profile under a new name',
    body: cloneBody,
    ok: 201,
    response: 'Profile',
  },
  { method: 'get', path: V1.permissionSets, summary: 'List permission sets', ok: 200, response: 'PermissionSetList' },
  {
    method: 'post',
    path: V1.permissionSets,
    summary: 'Create a permission set',
    body: newPermissionSetBody,
    ok: 201,
    response: 'PermissionSet',
  },
  { method: 'get', path: V1.permissionSet, summary: 'Read a permission set', ok: 200, response: 'PermissionSet' },
  {
    method: 'patch',
    path: V1.permissionSet,
    summary: 'Change a permission set as of the version read',
    body: permissionSetPatchBody,
    ok: 200,
    response: 'PermissionSet',
  },
  { method: 'delete', path: V1.permissionSet, summary: 'Delete a permission set nobody holds', ok: 204 },
  { method: 'get', path: V1.licenses, summary: 'List licenses with seats', ok: 200, response: 'LicenseList' },
  {
    method: 'patch',
    path: V1.license,
    summary: "Change a license's total seats",
    body: licensePatchBody,
    ok: 200,
    response: 'License',
  },
  { method: 'get', path: V1.contact, summary: 'Read a contact', ok: 200, response: 'Contact' },
  {
    method: 'get',
    path: V1.sites,
    summary: 'List sites with members and page audiences',
    ok: 200,
    response: 'SiteList',
  },
  {
    method: 'put',
    path: V1.siteMembers,
    summary: "Replace a site's member profiles and permission sets",
    body: siteMembersBody,
    ok: 200,
    response: 'Site',
  },
  {
    method: 'put',
    path: V1.sitePageAudience,
    summary: 'Replace who may open a site page (licenses or profiles)',
    body: pageAudienceBody,
    ok: 200,
    response: 'Site',
  },
  {
    method: 'get',
    path: V1.communityPages,
    summary: 'List community pages (siteId in the query: one site)',
    ok: 200,
    response: 'CommunityPageList',
  },
  {
    method: 'post',
    path: V1.communityPages,
    summary: 'Create a community page on a site (title, text, http(s) links, audience)',
    body: newCommunityPageBody,
    ok: 201,
    response: 'CommunityPage',
  },
  { method: 'get', path: V1.communityPage, summary: 'Read a community page', ok: 200, response: 'CommunityPage' },
  {
    method: 'patch',
    path: V1.communityPage,
    summary: 'Change a community page (the fields sent)',
    body: communityPagePatchBody,
    ok: 200,
    response: 'CommunityPage',
  },
  { method: 'delete', path: V1.communityPage, summary: 'Remove a community page', ok: 204 },
  {
    method: 'get',
    path: V1.apps,
    summary: 'List connected apps (OpenID Connect clients)',
    ok: 200,
    response: 'AppList',
  },
  {
    method: 'post',
    path: V1.apps,
    summary: 'Create a connected app (a confidential one gets its secret in this answer only)',
    body: newAppBody,
    ok: 201,
    response: 'App',
  },
  { method: 'get', path: V1.app, summary: 'Read a connected app', ok: 200, response: 'App' },
  {
    method: 'patch',
    path: V1.app,
    summary: 'Change a connected app (its type stays)',
    body: appPatchBody,
    ok: 200,
    response: 'App',
  },
  {
    method: 'post',
    path: V1.appSecret,
    summary: 'Give a confidential app a new secret (in this answer only; the old one stops at once)',
    ok: 200,
    response: 'App',
  },
  { method: 'delete', path: V1.app, summary: 'Delete a connected app and revoke everything issued to it', ok: 204 },
  {
    method: 'post',
    path: V1.jobs,
    summary: 'Create an ingest job (state Open)',
    body: newJobBody,
    ok: 201,
    response: 'Job',
  },
  { method: 'get', path: V1.jobs, summary: 'List ingest jobs', ok: 200, response: 'JobList' },
  { method: 'get', path: V1.job, summary: 'Read an ingest job: state and counters', ok: 200, response: 'Job' },
  {
    method: 'patch',
    path: V1.job,
    summary: 'Close (UploadComplete) or abort a job',
    body: jobPatchBody,
    ok: 200,
    response: 'Job',
  },
  { method: 'delete', path: V1.job, summary: 'Delete a job that is not running, with its rows', ok: 204 },
  {
    method: 'put',
    path: V1.jobBatches,
    summary: 'Upload the CSV (once per job)',
    body: 'csv',
    ok: 201,
    response: 'Upload',
  },
  {
    method: 'get',
    path: V1.jobSuccessful,
    summary: 'Successful rows: sf__Id, sf__Created, original columns',
    ok: 200,
    csv: true,
  },
  {
    method: 'get',
    path: V1.jobFailed,
    summary: 'Failed rows: sf__Id, sf__Error, original columns',
    ok: 200,
    csv: true,
  },
  { method: 'get', path: V1.jobUnprocessed, summary: 'Rows not processed (aborted or failed job)', ok: 200, csv: true },
  {
    method: 'post',
    path: V1.bulkActions,
    summary:
      'A bulk action on chosen users or a queue search: dryRun true answers what each row would become (200, BulkDryRun); false starts the job (201, BulkAction)',
    body: newBulkActionBody,
    ok: 201,
    response: 'BulkAction',
  },
  {
    method: 'get',
    path: V1.bulkAction,
    summary: 'Read a bulk action: state and progress',
    ok: 200,
    response: 'BulkAction',
  },
  {
    method: 'patch',
    path: V1.bulkAction,
    summary: 'Abort a queued or running bulk action (rows not reached stay pending)',
    body: bulkActionPatchBody,
    ok: 200,
    response: 'BulkAction',
  },
  {
    method: 'get',
    path: V1.bulkActionResults,
    summary: 'Per-row results as JSON, in row order, paged with after and limit',
    ok: 200,
    response: 'BulkResults',
  },
  {
    method: 'get',
    path: V1.bulkActionResultsCsv,
    summary: 'Per-row results as CSV: Row, UserId, Username, Status, Outcome',
    ok: 200,
    csv: 'safe',
  },
];

/** Express path (/v1/users/:id) -> OpenAPI path (/users/{id}) under the server URL /api/v1. */
export function openApiPath(expressPath: string): string {
  return expressPath.replace(/^\/v1/, '').replace(/:(\w+)/g, '{$1}');
}

const idString = { type: 'string', pattern: OBJECT_ID_SOURCE };
const nameRef = { type: 'object', properties: { id: idString, name: { type: ['string', 'null'] } } };

const SCHEMAS: Record<string, object> = {
  Error: {
    type: 'object',
    properties: {
      error: {
        type: 'object',
        properties: {
          code: { type: 'string' },
          message: { type: 'string' },
          fields: { type: 'object', additionalProperties: { type: 'string' } },
          permission: { type: 'string' },
        },
        required: ['code', 'message'],
      },
    },
    required: ['error'],
  },
  User: {
    type: 'object',
    properties: {
      id: idString,
      username: { type: 'string' },
      email: { type: 'string' },
      firstName: { type: 'string' },
      lastName: { type: 'string' },
      alias: { type: 'string' },
      communityNickname: { type: 'string' },
      localeSidKey: { type: 'string' },
      timeZoneSidKey: { type: 'string' },
      languageLocaleKey: { type: 'string' },
      emailEncodingKey: { type: 'string' },
      userType: { enum: ['internal', 'customer', 'partner'] },
      profile: nameRef,
      license: nameRef,
      contactId: { type: ['string', 'null'] },
      siteId: { type: ['string', 'null'] },
      isActive: { type: 'boolean' },
      createdAt: { type: ['string', 'null'], format: 'date-time' },
      lastLoginAt: { type: ['string', 'null'], format: 'date-time' },
      emailVerified: { type: 'boolean' },
      emailVerifiedAt: { type: ['string', 'null'], format: 'date-time' },
    },
  },
  UserPage: {
    type: 'object',
    properties: { records: { type: 'array', items: ref('User') }, nextCursor: { type: ['string', 'null'] } },
    required: ['records', 'nextCursor'],
  },
  Profile: {
    type: 'object',
    properties: {
      id: idString,
      name: { type: 'string' },
      userType: { type: 'string' },
      license: nameRef,
      requiresContact: { type: ['boolean', 'null'] },
      permissions: { type: 'array', items: { type: 'string' } },
      version: { type: 'integer' },
      users: { type: 'integer' },
    },
  },
  PermissionSet: {
    type: 'object',
    properties: {
      id: idString,
      name: { type: 'string' },
      description: { type: 'string' },
      permissions: { type: 'array', items: { type: 'string' } },
      version: { type: 'integer' },
      assignedUsers: { type: 'integer' },
    },
  },
  PermissionSetList: list('PermissionSet'),
  ProfileList: list('Profile'),
  License: {
    type: 'object',
    properties: {
      id: idString,
      name: { type: 'string' },
      userType: { type: 'string' },
      requiresContact: { type: 'boolean' },
      totalSeats: { type: 'integer' },
      usedSeats: { type: 'integer' },
    },
  },
  LicenseList: list('License'),
  Contact: {
    type: 'object',
    properties: {
      id: idString,
      firstName: { type: 'string' },
      lastName: { type: 'string' },
      email: { type: ['string', 'null'] },
      phone: { type: 'string' },
      title: { type: 'string' },
      account: { anyOf: [nameRef, { type: 'null' }] },
      userId: { type: ['string', 'null'] },
    },
  },
  Site: {
    type: 'object',
    properties: {
      id: idString,
      name: { type: 'string' },
      slug: { type: 'string' },
      selfRegistrationEnabled: { type: 'boolean' },
      registrationProfile: nameRef,
      members: {
        type: 'object',
        properties: {
          profileIds: { type: 'array', items: idString },
          permissionSetIds: { type: 'array', items: idString },
        },
      },
      pages: {
        type: 'array',
        items: {
          type: 'object',
          properties: {
            slug: { type: 'string' },
            title: { type: 'string' },
            audience: {
              type: 'object',
              properties: {
                licenseIds: { type: 'array', items: idString },
                profileIds: { type: 'array', items: idString },
              },
            },
          },
        },
      },
    },
  },
  SiteList: list('Site'),
  CommunityPage: {
    type: 'object',
    properties: {
      id: idString,
      siteId: idString,
      title: { type: 'string' },
      text: { type: 'string' },
      links: {
        type: 'array',
        items: { type: 'object', properties: { label: { type: 'string' }, url: { type: 'string' } } },
      },
      audience: {
        type: 'object',
        properties: {
          licenseIds: { type: 'array', items: idString },
          profileIds: { type: 'array', items: idString },
        },
      },
      updatedAt: { type: 'string', format: 'date-time' },
    },
  },
  CommunityPageList: list('CommunityPage'),
  App: {
    type: 'object',
    properties: {
      id: idString,
      clientId: { type: 'string' },
      name: { type: 'string' },
      siteId: idString,
      type: { enum: ['confidential', 'public'] },
      firstParty: { type: 'boolean' },
      redirectUris: { type: 'array', items: { type: 'string' } },
      postLogoutRedirectUris: { type: 'array', items: { type: 'string' } },
      scopes: { type: 'array', items: { type: 'string' } },
      backchannelLogoutUri: { type: ['string', 'null'] },
      clientSecret: { type: 'string' },
    },
  },
  AppList: list('App'),
  Job: {
    type: 'object',
    properties: {
      id: idString,
      object: { const: 'User' },
      operation: { const: 'insert' },
      state: { enum: ['Open', 'UploadComplete', 'InProgress', 'JobComplete', 'Failed', 'Aborted'] },
      jobType: { const: 'V2Ingest' },
      contentType: { const: 'CSV' },
      columnDelimiter: { const: 'COMMA' },
      lineEnding: { const: 'LF' },
      contentUrl: { type: 'string' },
      createdById: idString,
      createdDate: { type: 'string', format: 'date-time' },
      systemModstamp: { type: 'string', format: 'date-time' },
      numberRecordsUploaded: { type: 'integer' },
      numberRecordsProcessed: { type: 'integer' },
      numberRecordsFailed: { type: 'integer' },
      errorMessage: { type: ['string', 'null'] },
    },
  },
  JobList: { type: 'object', properties: { done: { type: 'boolean' }, records: { type: 'array', items: ref('Job') } } },
  Upload: { type: 'object', properties: { id: idString, numberRecordsUploaded: { type: 'integer' } } },
  BulkAction: {
    type: 'object',
    properties: {
      id: idString,
      action: { enum: [...BULK_ACTIONS] },
      state: { enum: [...BULK_JOB_STATES] },
      profileId: { ...idString, type: ['string', 'null'] },
      contactRule: { enum: [...CONTACT_RULES, null] },
      accountId: { ...idString, type: ['string', 'null'] },
      createdById: idString,
      createdDate: { type: 'string', format: 'date-time' },
      completedDate: { type: ['string', 'null'], format: 'date-time' },
      numberRecords: { type: 'integer' },
      numberRecordsProcessed: { type: 'integer' },
      numberRecordsFailed: { type: 'integer' },
      numberRecordsSkipped: { type: 'integer' },
      errorMessage: { type: ['string', 'null'] },
      resultsUrl: { type: 'string' },
    },
  },
  BulkDryRun: {
    type: 'object',
    properties: {
      dryRun: { const: true },
      action: { enum: [...BULK_ACTIONS] },
      numberRecords: { type: 'integer' },
      wouldSucceed: { type: 'integer' },
      wouldSkip: { type: 'integer' },
      wouldFail: { type: 'integer' },
      seats: {
        type: ['object', 'null'],
        description: 'Upgrades: the seats the run needs and those free now; rows past the free seats would fail',
        properties: {
          license: { type: 'string' },
          needed: { type: 'integer' },
          free: { type: 'integer' },
          suffice: { type: 'boolean' },
        },
      },
      rows: {
        type: 'array',
        items: {
          type: 'object',
          properties: {
            row: { type: 'integer' },
            userId: idString,
            username: { type: ['string', 'null'] },
            ok: { type: 'boolean' },
            skipped: { type: 'boolean' },
            takesSeat: { type: 'boolean' },
            outcome: { type: 'string' },
          },
        },
      },
    },
  },
  BulkResults: {
    type: 'object',
    properties: {
      done: { type: 'boolean' },
      nextAfter: { type: ['integer', 'null'] },
      records: {
        type: 'array',
        items: {
          type: 'object',
          properties: {
            row: { type: 'integer' },
            userId: idString,
            username: { type: ['string', 'null'] },
            status: { enum: ['succeeded', 'failed', 'skipped', 'pending'] },
            outcome: { type: ['string', 'null'] },
          },
        },
      },
    },
  },
};

const ERRORS: Record<string, string> = {
  '400': 'Malformed JSON or invalid fields (each named in error.fields)',
  '401': 'No valid bearer token',
  '403': 'A permission is missing (named in error.permission)',
  '404': 'No such record',
  '409':
    'Taken username or nickname, missing contact, no seat left, a record in use, a concurrent change, a lock-out, or a state that does not allow it',
  '413': 'Body too large',
};

function operationObject(op: Op) {
  const params: { name: string; in: string; required: boolean; description?: string; schema: typeof idString }[] = [
    ...op.path.matchAll(/:(\w+)/g),
  ].map((m) => ({
    name: m[1],
    in: 'path',
    required: true,
    schema: m[1] === 'page' ? { type: 'string', pattern: '^[a-z0-9-]{1,40}$' } : idString,
  }));
  if (op.path === V1.bulkActionResults) {
    params.push(
      {
        name: 'after',
        in: 'query',
        required: false,
        description: 'Rows after this row number (default 0)',
        schema: { type: 'string', pattern: '^\\d{1,9}$' },
      },
      {
        name: 'limit',
        in: 'query',
        required: false,
        description: 'At most this many rows, 1 to 1000 (default 1000)',
        schema: { type: 'string', pattern: '^\\d{1,4}$' },
      },
    );
  }
  if (op.query) {
    const q = z.toJSONSchema(userListQuery, { io: 'input', unrepresentable: 'any' }) as {
      properties?: Record<string, object>;
    };
    for (const [name, schema] of Object.entries(q.properties ?? {}))
      params.push({ name, in: 'query', required: false, schema: schema as typeof idString });
  }
  const responses: Record<string, object> = {};
  if (op.csv === 'safe') {
    responses[String(op.ok)] = {
      description: "CSV, streamed, spreadsheet-safe (a cell starting with =, +, -, @, tab or CR gets a ' prefix)",
      content: { 'text/csv': { schema: { type: 'string' } } },
    };
  } else if (op.csv) {
    responses[String(op.ok)] = {
      description:
        "CSV, streamed; spreadsheet-safe by default (a cell starting with =, +, -, @, tab or CR gets a ' prefix); raw=true returns the values exactly as uploaded",
      content: { 'text/csv': { schema: { type: 'string' } } },
    };
    params.push({
      name: 'raw',
      in: 'query',
      required: false,
      description: 'true: values exactly as uploaded, formulas included (default false: spreadsheet-safe)',
      schema: { type: 'string', enum: ['true', 'false'] } as unknown as typeof idString,
    });
  } else if (op.path === V1.openapi)
    responses['200'] = { description: 'OpenAPI 3.1 document', content: json({ type: 'object' }) };
  else
    responses[String(op.ok)] = op.response
      ? { description: 'OK', content: json(ref(op.response)) }
      : { description: 'No content' };
  // POST /bulk-actions answers a dry run with 200 and its own body.
  if (op.path === V1.bulkActions) responses['200'] = { description: 'Dry run', content: json(ref('BulkDryRun')) };
  for (const [status, description] of Object.entries(ERRORS))
    responses[status] = { description, content: json(ref('Error')) };
  let requestBody: object | undefined;
  if (op.body === 'csv') requestBody = { required: true, content: { 'text/csv': { schema: { type: 'string' } } } };
  else if (op.body)
    requestBody = { required: true, content: json(z.toJSONSchema(op.body, { io: 'input', unrepresentable: 'any' })) };
  return {
    summary: op.summary,
    operationId: `${op.method}${openApiPath(op.path)
      .replace(/[{}]/g, '')
      .replace(/\/(\w)/g, (_m, c: string) => c.toUpperCase())}`,
    parameters: params,
    ...(requestBody ? { requestBody } : {}),
    responses,
  };
}

export function openApiDocument(): object {
  const paths: Record<string, Record<string, object>> = {};
  for (const op of OPERATIONS) (paths[openApiPath(op.path)] ??= {})[op.method] = operationObject(op);
  return {
    openapi: '3.1.0',
    info: {
      title: 'Identity Portal API',
      version: '1.0.0',
      description:
        'Create and qualify users, bulk ingest jobs, bulk actions. Every route needs Authorization: Bearer <token>.',
    },
    servers: [{ url: '/api/v1' }],
    security: [{ bearer: [] }],
    paths,
    components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } }, schemas: SCHEMAS },
  };
}
