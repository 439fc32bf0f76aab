/**
 * The OpenAPI 3.1 document of the REST API, served at /api/v1/openapi.json. Request schemas are
 * generated from the same zod schemas that validate requests (so they cannot drift); a test walks the
 * Express routes and this document and checks that they name the same operations.
 */
import { z } from 'zod';
import { newJobBody, newUserBody, userPatchBody, contactBody, upgradeBody, downgradeBody, licensePatchBody, jobPatchBody, userListQuery } from './schemas';
import { V1 } from './v1/paths';

type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';
interface Op { method: Method; path: string; summary: string; body?: z.ZodType | 'csv'; ok: number; response?: string; csv?: boolean; query?: boolean }

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const json = (schema: object) => ({ 'application/json': { schema } });
const list = (item: string) => ({ type: 'object', properties: { records: { type: 'array', items: ref(item) } }, required: ['records'] });

export const OPERATIONS: Op[] = [
  { method: 'get', path: V1.openapi, summary: 'This document', ok: 200 },
  { method: 'post', path: V1.users, summary: 'Create a user (contactless unless contactId is given)', body: newUserBody, ok: 201, response: 'User' },
  { method: 'get', path: V1.users, summary: 'Search users (filters, keyset pages)', ok: 200, response: 'UserPage', query: true },
  { method: 'get', path: V1.user, summary: 'Read a user', ok: 200, response: 'User' },
  { method: 'patch', path: V1.user, summary: 'Change fields of a user, or (de)activate', body: userPatchBody, ok: 200, response: 'User' },
  { method: 'post', path: V1.userContact, summary: 'Create a contact (and account) and associate it, or associate an existing contact', body: contactBody, ok: 200, response: 'User' },
  { method: 'post', path: V1.userUpgrade, summary: 'Upgrade to a community profile (takes a seat; needs a contact)', body: upgradeBody, ok: 200, response: 'User' },
  { method: 'post', path: V1.userDowngrade, summary: 'Downgrade to contactless (frees the seat, keeps the contact record)', body: downgradeBody, ok: 200, response: 'User' },
  { method: 'post', path: V1.userActivate, summary: 'Activate a user', ok: 200, response: 'User' },
  { method: 'post', path: V1.userDeactivate, summary: 'Deactivate a user (ends their sessions)', ok: 200, response: 'User' },
  { method: 'delete', path: V1.userSessions, summary: 'End every session of a user (site and admin area)', ok: 204 },
  { method: 'post', path: V1.userInvitation, summary: 'Send the set-password invitation again (users without a password)', ok: 202, response: 'User' },
  { method: 'get', path: V1.profiles, summary: 'List profiles', ok: 200, response: 'ProfileList' },
  { method: 'get', path: V1.licenses, summary: 'List licenses with seats', ok: 200, response: 'LicenseList' },
  { method: 'patch', path: V1.license, summary: "Change a license's total seats", body: licensePatchBody, ok: 200, response: 'License' },
  { method: 'get', path: V1.contact, summary: 'Read a contact', ok: 200, response: 'Contact' },
  { method: 'get', path: V1.sites, summary: 'List sites', ok: 200, response: 'SiteList' },
  { method: 'post', path: V1.jobs, summary: 'Create an ingest job (state Open)', body: newJobBody, ok: 201, response: 'Job' },
  { method: 'get', path: V1.jobs, summary: 'List ingest jobs', ok: 200, response: 'JobList' },
  { method: 'get', path: V1.job, summary: 'Read an ingest job: state and counters', ok: 200, response: 'Job' },
  { method: 'patch', path: V1.job, summary: 'Close (UploadComplete) or abort a job', body: jobPatchBody, ok: 200, response: 'Job' },
  { method: 'delete', path: V1.job, summary: 'Delete a job that is not running, with its rows', ok: 204 },
  { method: 'put', path: V1.jobBatches, summary: 'Upload the CSV (once per job)', body: 'csv', ok: 201, response: 'Upload' },
  { method: 'get', path: V1.jobSuccessful, summary: 'Successful rows: sf__Id, sf__Created, original columns', ok: 200, csv: true },
  { method: 'get', path: V1.jobFailed, summary: 'Failed rows: sf__Id, sf__Error, original columns', ok: 200, csv: true },
  { method: 'get', path: V1.jobUnprocessed, summary: 'Rows not processed (aborted or failed job)', ok: 200, csv: true },
];

/** Express path (/v1/users/:id) -> OpenAPI path (/users/{id}) under the server URL /api/v1. */
export function openApiPath(expressPath: string): string {
  return expressPath.replace(/^\/v1/, '').replace(/:(\w+)/g, '{$1}');
}

const idString = { type: 'string', pattern: '^[0-9a-fA-F]{24}$' };
const nameRef = { type: 'object', properties: { id: idString, name: { type: ['string', 'null'] } } };

const SCHEMAS: Record<string, object> = {
  Error: {
    type: 'object',
    properties: {
      error: {
        type: 'object',
        properties: { code: { type: 'string' }, message: { type: 'string' }, fields: { type: 'object', additionalProperties: { type: 'string' } }, permission: { type: 'string' } },
        required: ['code', 'message'],
      },
    },
    required: ['error'],
  },
  User: {
    type: 'object',
    properties: {
      id: idString, username: { type: 'string' }, email: { type: 'string' }, firstName: { type: 'string' }, lastName: { type: 'string' }, alias: { type: 'string' },
      communityNickname: { type: 'string' }, localeSidKey: { type: 'string' }, timeZoneSidKey: { type: 'string' }, languageLocaleKey: { type: 'string' },
      emailEncodingKey: { type: 'string' }, userType: { enum: ['internal', 'customer', 'partner'] }, profile: nameRef, license: nameRef,
      contactId: { type: ['string', 'null'] }, siteId: { type: ['string', 'null'] }, isActive: { type: 'boolean' },
      createdAt: { type: ['string', 'null'], format: 'date-time' }, lastLoginAt: { type: ['string', 'null'], format: 'date-time' },
      emailVerified: { type: 'boolean' }, emailVerifiedAt: { type: ['string', 'null'], format: 'date-time' },
    },
  },
  UserPage: { type: 'object', properties: { records: { type: 'array', items: ref('User') }, nextCursor: { type: ['string', 'null'] } }, required: ['records', 'nextCursor'] },
  Profile: { type: 'object', properties: { id: idString, name: { type: 'string' }, userType: { type: 'string' }, license: nameRef, requiresContact: { type: ['boolean', 'null'] } } },
  ProfileList: list('Profile'),
  License: { type: 'object', properties: { id: idString, name: { type: 'string' }, userType: { type: 'string' }, requiresContact: { type: 'boolean' }, totalSeats: { type: 'integer' }, usedSeats: { type: 'integer' } } },
  LicenseList: list('License'),
  Contact: { type: 'object', properties: { id: idString, firstName: { type: 'string' }, lastName: { type: 'string' }, email: { type: ['string', 'null'] }, phone: { type: 'string' }, title: { type: 'string' }, account: { anyOf: [nameRef, { type: 'null' }] }, userId: { type: ['string', 'null'] } } },
  Site: { type: 'object', properties: { id: idString, name: { type: 'string' }, slug: { type: 'string' }, selfRegistrationEnabled: { type: 'boolean' }, registrationProfile: nameRef } },
  SiteList: list('Site'),
  Job: {
    type: 'object',
    properties: {
      id: idString, object: { const: 'User' }, operation: { const: 'insert' }, state: { enum: ['Open', 'UploadComplete', 'InProgress', 'JobComplete', 'Failed', 'Aborted'] },
      jobType: { const: 'V2Ingest' }, contentType: { const: 'CSV' }, columnDelimiter: { const: 'COMMA' }, lineEnding: { const: 'LF' }, contentUrl: { type: 'string' },
      createdById: idString, createdDate: { type: 'string', format: 'date-time' }, systemModstamp: { type: 'string', format: 'date-time' },
      numberRecordsUploaded: { type: 'integer' }, numberRecordsProcessed: { type: 'integer' }, numberRecordsFailed: { type: 'integer' }, errorMessage: { type: ['string', 'null'] },
    },
  },
  JobList: { type: 'object', properties: { done: { type: 'boolean' }, records: { type: 'array', items: ref('Job') } } },
  Upload: { type: 'object', properties: { id: idString, numberRecordsUploaded: { type: 'integer' } } },
};

const ERRORS: Record<string, string> = {
  '400': 'Malformed JSON or invalid fields (each named in error.fields)',
  '401': 'No valid bearer token',
  '403': 'A permission is missing (named in error.permission)',
  '404': 'No such record',
  '409': 'Taken username or nickname, missing contact, no seat left, or a state that does not allow it',
  '413': 'Body too large',
};

function operationObject(op: Op) {
  const params = [...op.path.matchAll(/:(\w+)/g)].map((m) => ({ name: m[1], in: 'path', required: true, schema: idString }));
  if (op.query) {
    const q = z.toJSONSchema(userListQuery, { io: 'input', unrepresentable: 'any' }) as { properties?: Record<string, object> };
    for (const [name, schema] of Object.entries(q.properties ?? {})) params.push({ name, in: 'query', required: false, schema: schema as typeof idString });
  }
  const responses: Record<string, object> = {};
  if (op.csv) responses[String(op.ok)] = { description: 'CSV, streamed', content: { 'text/csv': { schema: { type: 'string' } } } };
  else if (op.path === V1.openapi) responses['200'] = { description: 'OpenAPI 3.1 document', content: json({ type: 'object' }) };
  else responses[String(op.ok)] = op.response ? { description: 'OK', content: json(ref(op.response)) } : { description: 'No content' };
  for (const [status, description] of Object.entries(ERRORS)) responses[status] = { description, content: json(ref('Error')) };
  let requestBody: object | undefined;
  if (op.body === 'csv') requestBody = { required: true, content: { 'text/csv': { schema: { type: 'string' } } } };
  else if (op.body) requestBody = { required: true, content: json(z.toJSONSchema(op.body, { io: 'input', unrepresentable: 'any' })) };
  return { summary: op.summary, operationId: `${op.method}${openApiPath(op.path).replace(/[{}]/g, '').replace(/\/(\w)/g, (_m, c: string) => c.toUpperCase())}`, parameters: params, ...(requestBody ? { requestBody } : {}), responses };
}

export function openApiDocument(): object {
  const paths: Record<string, Record<string, object>> = {};
  for (const op of OPERATIONS) (paths[openApiPath(op.path)] ??= {})[op.method] = operationObject(op);
  return {
    openapi: '3.1.0',
    info: { title: 'Identity Portal API', version: '1.0.0', description: 'Create and qualify users, bulk ingest jobs. Every route needs Authorization: Bearer <token>.' },
    servers: [{ url: '/api/v1' }],
    security: [{ bearer: [] }],
    paths,
    components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } }, schemas: SCHEMAS },
  };
}
