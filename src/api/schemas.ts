/** The request bodies and queries of the REST API, one zod schema each (see validate.ts for the rules). */
import { z } from 'zod';
import { bool, objectId, queryBool, text } from './validate';
import { MSG } from '../shared/messages';
import { BULK_ACTIONS, CONTACT_RULES } from '../data/models';
import { MAX_BULK_USERS, QUEUE_SORTS } from '../qualification';

/** POST /users: the fields of Salesforce's User example in camelCase, plus password, contact and site. */
export const newUserBody = z.strictObject({
  firstName: text(40).optional(),
  lastName: text(80),
  email: text(254),
  alias: text(8).optional(),
  username: text(80).optional(),
  communityNickname: text(40).optional(),
  localeSidKey: text(20).optional(),
  timeZoneSidKey: text(60).optional(),
  languageLocaleKey: text(20).optional(),
  emailEncodingKey: text(20).optional(),
  profileId: objectId.optional(),
  contactId: objectId.nullable().optional(),
  siteId: objectId.nullable().optional(),
  password: text(1024).optional(),
  isActive: bool.optional(),
  /** A user created without a password is mailed a set-password invitation unless this is false. */
  sendInvitation: bool.optional(),
});

/** PATCH /users/:id: any of these; profile, license and contact change through their own routes. */
export const userPatchBody = z.strictObject({
  /** Email-shaped and unique (409 username_taken); the user then signs in with it (or their email). */
  username: text(80).optional(),
  firstName: text(40).optional(),
  lastName: text(80).optional(),
  email: text(254).optional(),
  alias: text(8).optional(),
  communityNickname: text(40).optional(),
  localeSidKey: text(20).optional(),
  timeZoneSidKey: text(60).optional(),
  languageLocaleKey: text(20).optional(),
  emailEncodingKey: text(20).optional(),
  isActive: bool.optional(),
});

export const userListQuery = z.strictObject({
  q: text(100).optional(),
  username: text(80).optional(),
  email: text(254).optional(),
  contactless: queryBool.optional(),
  license: objectId.optional(),
  profile: objectId.optional(),
  site: objectId.optional(),
  active: queryBool.optional(),
  cursor: text(200).optional(),
  limit: z
    .string({ error: 'Use a number.' })
    .regex(/^\d{1,3}$/, 'Use a number from 1 to 200.')
    .transform(Number)
    .pipe(z.number().min(1, 'Use a number from 1 to 200.').max(200, 'Use a number from 1 to 200.'))
    .optional(),
});

/** POST /users/:id/contact: an existing contact, or the fields of a new one and its account. */
export const contactBody = z
  .strictObject({
    contactId: objectId.optional(),
    firstName: text(40).optional(),
    lastName: text(80).optional(),
    email: text(254).optional(),
    phone: text(40).optional(),
    title: text(128).optional(),
    accountId: objectId.optional(),
    accountName: text(120).optional(),
    /** Associate the contact with the user's email instead of creating one (a new one only when none matches). */
    matchBy: z.literal('email', { error: 'Use "email".' }).optional(),
  })
  .superRefine((b, ctx) => {
    if (b.contactId !== undefined && b.matchBy !== undefined)
      ctx.addIssue({ code: 'custom', path: ['matchBy'], message: 'Send either contactId or matchBy; not both.' });
    const newContactFields = ['firstName', 'lastName', 'email', 'phone', 'title', 'accountId', 'accountName'] as const;
    if (b.contactId !== undefined) {
      for (const f of newContactFields) {
        if (b[f] !== undefined)
          ctx.addIssue({
            code: 'custom',
            path: [f],
            message: 'Send either contactId, or the fields of a new contact; not both.',
          });
      }
    } else if (b.lastName === undefined && b.matchBy === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['lastName'],
        message: 'This field is required (or send contactId to associate an existing contact).',
      });
    }
  });

export const upgradeBody = z.strictObject({ profileId: objectId });
export const downgradeBody = z.strictObject({ profileId: objectId.optional() });
export const emptyBody = z.strictObject({});

export const licensePatchBody = z.strictObject({
  totalSeats: z
    .number({ error: 'Send a whole number.' })
    .int('Send a whole number.')
    .min(0, 'Use 0 or more.')
    .max(100_000_000, 'Use at most 100000000.'),
});

export const newJobBody = z.strictObject({
  object: z.literal('User', { error: 'Only "User" can be ingested.' }),
  operation: z.literal('insert', { error: 'Only "insert" is supported.' }),
  /** Rows without a ContactId get the contact that has their email (none: as without; several or taken: the row fails). */
  matchBy: z.literal('email', { error: 'Use "email".' }).optional(),
  contentType: z.literal('CSV', { error: 'Only "CSV" is supported.' }).optional(),
  columnDelimiter: z.literal('COMMA', { error: 'Only "COMMA" is supported.' }).optional(),
  lineEnding: z.enum(['LF', 'CRLF'], { error: 'Use LF or CRLF.' }).optional(),
});

export const jobPatchBody = z.strictObject({
  state: z.enum(['UploadComplete', 'Aborted'], { error: 'Use UploadComplete or Aborted.' }),
});

/** Query of the job result files: ?spreadsheetSafe=true neutralises formula cells (default: raw, as uploaded). */
export const resultsQuery = z.object({
  raw: z.enum(['true', 'false'], { error: 'Use true or false.' }).optional(),
});

/** Permission names, checked against the known ones in the domain (an unknown one is named back). */
const permissionList = z
  .array(text(60), { error: 'Send a list of permission names.' })
  .max(50, 'Send at most 50 names.');
const idList = z.array(objectId, { error: 'Send a list of ids.' }).max(500, 'Send at most 500 ids.');
const version = z.number({ error: MSG.sendVersion }).int(MSG.sendVersion);

export const newProfileBody = z.strictObject({
  name: text(80),
  licenseId: objectId,
  userType: z.enum(['internal', 'customer', 'partner'], { error: 'Use internal, customer or partner.' }).optional(),
  permissions: permissionList.optional(),
});
export const profilePatchBody = z.strictObject({
  name: text(80).optional(),
  licenseId: objectId.optional(),
  userType: z.enum(['internal', 'customer', 'partner'], { error: 'Use internal, customer or partner.' }).optional(),
  permissions: permissionList.optional(),
  version,
});
export const cloneBody = z.strictObject({ name: text(80) });

export const newPermissionSetBody = z.strictObject({
  name: text(80),
  description: text(255).optional(),
  permissions: permissionList.optional(),
});
export const permissionSetPatchBody = z.strictObject({
  name: text(80).optional(),
  description: text(255).optional(),
  permissions: permissionList.optional(),
  version,
});
export const assignmentBody = z.strictObject({ permissionSetId: objectId });
export const userProfileBody = z.strictObject({ profileId: objectId });

export const siteMembersBody = z.strictObject({ profileIds: idList, permissionSetIds: idList });
export const pageAudienceBody = z.strictObject({ licenseIds: idList, profileIds: idList });

const pageLinks = z
  .array(z.strictObject({ label: text(80), url: text(2000) }), { error: 'Send a list of links.' })
  .max(20, 'Send at most 20 links.');
const communityPageFields = {
  title: text(120),
  text: text(20_000).optional(),
  links: pageLinks.optional(),
  licenseIds: idList.optional(),
  profileIds: idList.optional(),
};
export const newCommunityPageBody = z.strictObject({ siteId: objectId, ...communityPageFields });
export const communityPagePatchBody = z.strictObject({ ...communityPageFields, title: text(120).optional() });
export const communityPageQuery = z.strictObject({ siteId: objectId.optional() });

const uriList = z.array(text(2000), { error: 'Send a list of addresses.' }).max(20, 'Send at most 20 addresses.');
const appFields = {
  name: text(100),
  siteId: objectId,
  redirectUris: uriList,
  postLogoutRedirectUris: uriList.optional(),
  scopes: z.array(text(40), { error: 'Send a list of scopes.' }).max(10),
  firstParty: bool,
  backchannelLogoutUri: text(2000).nullable().optional(),
};
export const newAppBody = z.strictObject({
  ...appFields,
  type: z.enum(['confidential', 'public'], { error: 'Use confidential or public.' }),
});
export const appPatchBody = z.strictObject(appFields);

/** A queue search (the filters of /admin/qualify), for a bulk action on every user it lists. */
const queueFilter = z.strictObject({
  siteId: objectId.optional(),
  verified: bool.optional(),
  minScore: z
    .number({ error: 'Send a whole number from 0 to 100.' })
    .int('Send a whole number from 0 to 100.')
    .min(0, 'Use 0 or more.')
    .max(100, 'Use at most 100.')
    .optional(),
  sort: z.enum(QUEUE_SORTS, { error: `Use one of: ${QUEUE_SORTS.join(', ')}.` }).optional(),
});

/** POST /bulk-actions: the action and its settings, on chosen users or on a queue search; a dry run or the job. */
export const newBulkActionBody = z
  .strictObject({
    action: z.enum(BULK_ACTIONS, { error: `Use one of: ${BULK_ACTIONS.join(', ')}.` }),
    dryRun: bool,
    userIds: z
      .array(objectId, { error: 'Send a list of user ids.' })
      .min(1, 'Select at least one user.')
      .max(MAX_BULK_USERS, `Select at most ${MAX_BULK_USERS} users.`)
      .optional(),
    filter: queueFilter.optional(),
    profileId: objectId.optional(),
    contactRule: z.enum(CONTACT_RULES, { error: `Use one of: ${CONTACT_RULES.join(', ')}.` }).optional(),
    accountId: objectId.optional(),
  })
  .superRefine((b, ctx) => {
    if ((b.userIds === undefined) === (b.filter === undefined))
      ctx.addIssue({
        code: 'custom',
        path: ['userIds'],
        message: 'Send either userIds (chosen users) or filter (a queue search); exactly one.',
      });
  });

export const bulkActionPatchBody = z.strictObject({
  state: z.literal('Aborted', { error: 'Use Aborted.' }),
});

/** Paging of a bulk action's JSON report: the rows after row `after`, `limit` at a time. */
export const bulkResultsQuery = z.strictObject({
  after: z
    .string({ error: 'Send a row number.' })
    .regex(/^\d{1,9}$/, 'Send a row number.')
    .transform(Number)
    .optional(),
  limit: z
    .string({ error: 'Send a number from 1 to 1000.' })
    .regex(/^\d{1,4}$/, 'Send a number from 1 to 1000.')
    .transform(Number)
    .refine((n) => n >= 1 && n <= 1000, 'Send a number from 1 to 1000.')
    .optional(),
});
