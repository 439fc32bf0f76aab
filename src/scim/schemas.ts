/** SCIM discovery (RFC 7643 sections 5-7): what this service provider supports, and its schemas. */
export const SCIM = {
  core: 'urn:ietf:params:scim:schemas:core:2.0:User',
  /**
   * Ours: the contact (or account to create one in), the profile, and read-only license details. In
   * Entra ID's pattern (urn:ietf:params:scim:schemas:extension:<Name>:2.0:User): Entra can send custom
   * attributes only under such a name.
   */
  extension: 'urn:ietf:params:scim:schemas:extension:portal:2.0:User',
  /** The extension's first name, still read as an alias. */
  legacyExtension: 'urn:identity-portal:scim:schemas:extension:2.0:User',
  enterprise: 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User',
  list: 'urn:ietf:params:scim:api:messages:2.0:ListResponse',
  patch: 'urn:ietf:params:scim:api:messages:2.0:PatchOp',
  error: 'urn:ietf:params:scim:api:messages:2.0:Error',
  spc: 'urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig',
  resourceType: 'urn:ietf:params:scim:schemas:core:2.0:ResourceType',
  schema: 'urn:ietf:params:scim:schemas:core:2.0:Schema',
} as const;

export const MAX_RESULTS = 200;

export function serviceProviderConfig(base: string) {
  return {
    schemas: [SCIM.spc],
    documentationUri: '/README.md#api',
    patch: { supported: true },
    bulk: { supported: false, maxOperations: 0, maxPayloadSize: 0 },
    filter: { supported: true, maxResults: MAX_RESULTS },
    // Passwords are never taken over SCIM (README: turn password sync off); people set their own.
    changePassword: { supported: false },
    sort: { supported: false },
    etag: { supported: false },
    authenticationSchemes: [
      {
        type: 'oauthbearertoken',
        name: 'Bearer token',
        description: 'An API token made in the admin area: Authorization: Bearer <token>.',
        primary: true,
      },
    ],
    meta: { resourceType: 'ServiceProviderConfig', location: `${base}/ServiceProviderConfig` },
  };
}

export function userResourceType(base: string) {
  return {
    schemas: [SCIM.resourceType],
    id: 'User',
    name: 'User',
    endpoint: '/Users',
    description:
      'Site users (never internal staff). Created with a contact only; contactless users are created on the site or over the REST API.',
    schema: SCIM.core,
    schemaExtensions: [{ schema: SCIM.extension, required: false }],
    meta: { resourceType: 'ResourceType', location: `${base}/ResourceTypes/User` },
  };
}

const attr = (name: string, extra: Record<string, unknown> = {}) => ({
  name,
  type: 'string',
  multiValued: false,
  required: false,
  caseExact: false,
  mutability: 'readWrite',
  returned: 'default',
  uniqueness: 'none',
  ...extra,
});

export function schemaDefinitions(base: string) {
  return [
    {
      schemas: [SCIM.schema],
      id: SCIM.core,
      name: 'User',
      description: 'User account',
      attributes: [
        attr('userName', {
          required: true,
          uniqueness: 'server',
          description: 'Email-shaped; kept as sent, unique regardless of case.',
        }),
        attr('externalId', {
          caseExact: true,
          description: "The provisioning client's id; unique per API token owner.",
        }),
        attr('name', {
          type: 'complex',
          subAttributes: [
            attr('givenName'),
            attr('familyName', { required: true }),
            attr('formatted', { mutability: 'readOnly' }),
          ],
        }),
        attr('displayName', { mutability: 'readOnly' }),
        attr('nickName', { uniqueness: 'server', description: 'The community nickname.' }),
        attr('emails', {
          type: 'complex',
          multiValued: true,
          required: true,
          subAttributes: [attr('value'), attr('type'), attr('primary', { type: 'boolean' })],
        }),
        attr('active', { type: 'boolean' }),
        attr('locale'),
        attr('preferredLanguage'),
        attr('timezone'),
        attr('userType', { mutability: 'readOnly' }),
      ],
      meta: { resourceType: 'Schema', location: `${base}/Schemas/${SCIM.core}` },
    },
    {
      schemas: [SCIM.schema],
      id: SCIM.extension,
      name: 'PortalUser',
      description: 'The contact of the user (required to create one), the profile, and read-only license details.',
      attributes: [
        attr('contactId', {
          mutability: 'immutable',
          description: 'An existing contact to associate (create only); returned.',
        }),
        attr('accountId', {
          mutability: 'writeOnly',
          returned: 'never',
          description: 'Create the contact in this existing account (create only).',
        }),
        attr('accountName', {
          mutability: 'writeOnly',
          returned: 'never',
          description:
            'Create the contact in the account of this name, made if missing (create only; later changes are ignored).',
        }),
        attr('phone', {
          mutability: 'writeOnly',
          returned: 'never',
          description: "The new contact's phone (create only; default: the work phone number).",
        }),
        attr('title', {
          mutability: 'writeOnly',
          returned: 'never',
          description: "The new contact's title (create only; default: the user's title).",
        }),
        attr('contact', {
          type: 'complex',
          mutability: 'writeOnly',
          returned: 'never',
          subAttributes: ['firstName', 'lastName', 'email', 'phone', 'title'].map((n) => attr(n)),
        }),
        attr('profileId', { mutability: 'immutable', description: 'Default: Customer Community User.' }),
        attr('profileName', { mutability: 'readOnly' }),
        attr('licenseName', { mutability: 'readOnly' }),
      ],
      meta: { resourceType: 'Schema', location: `${base}/Schemas/${SCIM.extension}` },
    },
  ];
}
