import { Schema, model, type InferSchemaType, type HydratedDocument, type Types } from 'mongoose';
import { DEFAULT_LANGUAGE, SUPPORTED_LANGUAGES } from '../i18n/languages';

/**
 * A page of a site open only to an audience: users whose license or profile is listed (either suffices).
 * Checked at every request, so an upgrade or downgrade changes what a user can open at once.
 */
const sitePageSchema = new Schema(
  {
    slug: {
      type: String,
      required: true,
      trim: true,
      lowercase: true,
      maxlength: 40,
      match: /^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$/,
    },
    title: { type: String, required: true, trim: true, maxlength: 80 },
    body: { type: String, default: '', maxlength: 4000 },
    audience: {
      type: new Schema(
        {
          licenses: { type: [{ type: Schema.Types.ObjectId, ref: 'License' }], default: [] },
          profiles: { type: [{ type: Schema.Types.ObjectId, ref: 'Profile' }], default: [] },
        },
        { _id: false },
      ),
      default: () => ({}),
    },
  },
  { _id: false },
);

/** The user fields a site may ask for on its registration form beyond name, email and password. */
export const EXTRA_SIGNUP_FIELDS = ['phone', 'companyName', 'localeSidKey', 'timeZoneSidKey'] as const;
export type ExtraSignupField = (typeof EXTRA_SIGNUP_FIELDS)[number];
export const REGISTRATION_MODES = ['open', 'invite-only', 'closed'] as const;
export type RegistrationMode = (typeof REGISTRATION_MODES)[number];

/**
 * Who may register by self-service while self-registration is on (src/registration/policy.ts enforces
 * it): everyone, only holders of a valid invitation, or nobody; which email domains (a rule matches the
 * domain itself and its subdomains; blocked wins); whether disposable addresses are refused (mailchecker's
 * list), letting privacy relays through or not. Admin, API, bulk and SCIM creation ignore it: staff are trusted.
 */
const registrationPolicySchema = new Schema(
  {
    mode: { type: String, enum: REGISTRATION_MODES, default: 'open' },
    allowedDomains: { type: [String], default: [] },
    blockedDomains: { type: [String], default: [] },
    blockDisposable: { type: Boolean, default: false },
    allowPrivacyRelays: { type: Boolean, default: true },
    /** Extra fields of the registration form, in the form's order. */
    extraFields: {
      type: [
        new Schema(
          {
            field: { type: String, enum: EXTRA_SIGNUP_FIELDS, required: true },
            required: { type: Boolean, default: false },
          },
          { _id: false },
        ),
      ],
      default: [],
    },
  },
  { _id: false },
);

/** A site (Experience Cloud site): its own pages under /s/<slug>/ and its registration settings. */
const siteSchema = new Schema(
  {
    name: { type: String, required: true, trim: true, maxlength: 80 },
    slug: {
      type: String,
      required: true,
      trim: true,
      lowercase: true,
      maxlength: 40,
      match: [/^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$/, 'Use lower-case letters, digits and hyphens.'],
    },
    /** "Allow customers and partners to self-register". New sites start with it off. */
    selfRegistrationEnabled: { type: Boolean, default: false },
    registrationProfile: { type: Schema.Types.ObjectId, ref: 'Profile', required: true },
    defaultAccount: { type: Schema.Types.ObjectId, ref: 'Account', default: null },
    /**
     * Salesforce's "Members": only users whose profile, or one of whose permission sets, is listed may
     * sign in here. New sites start with none; the registration profile must be one while self-registration is on.
     */
    members: {
      type: new Schema(
        {
          profiles: { type: [{ type: Schema.Types.ObjectId, ref: 'Profile' }], default: [] },
          permissionSets: { type: [{ type: Schema.Types.ObjectId, ref: 'PermissionSet' }], default: [] },
        },
        { _id: false },
      ),
      default: () => ({ profiles: [], permissionSets: [] }),
    },
    pages: { type: [sitePageSchema], default: [] },
    registrationPolicy: { type: registrationPolicySchema, default: () => ({}) },
    /** Whether users who have not confirmed their email address may sign in (with a banner asking them to). */
    allowUnverifiedSignIn: { type: Boolean, default: true },
    /**
     * Whether a user's username changes with their email (when it was their email) once a new address is
     * confirmed: on by default, so "your email is your username" stays true.
     */
    usernameFollowsEmail: { type: Boolean, default: true },
    /** Whether the site's users must sign in with a second factor (they enrol at their next sign-in). */
    requireMfa: { type: Boolean, default: false },
    /** The language of its pages and mails for people whose own (or whose browser's) the portal does not speak. */
    defaultLanguage: { type: String, enum: SUPPORTED_LANGUAGES, default: DEFAULT_LANGUAGE },
    /**
     * How the site looks and signs its mails (src/sites/branding.ts validates it): colours as #rrggbb
     * (served as CSS custom properties in /s/<slug>/brand.css, never inline), a logo (an image uploaded
     * here, or an address on this portal), and the sender of its mails. Empty: the portal's defaults.
     */
    branding: {
      type: new Schema(
        {
          primaryColor: { type: String, default: null },
          headerColor: { type: String, default: null },
          logoUrl: { type: String, default: null },
          logo: {
            type: new Schema(
              { data: { type: Buffer, required: true }, contentType: { type: String, required: true } },
              { _id: false },
            ),
            default: null,
          },
          senderName: { type: String, default: null, maxlength: 80 },
          senderAddress: { type: String, default: null, maxlength: 254 },
        },
        { _id: false },
      ),
      default: () => ({}),
    },
  },
  { timestamps: true },
);
siteSchema.index({ slug: 1 }, { unique: true });

/**
 * Called after every write to sites through mongoose (the site cache empties itself): document saves and
 * deletes, query updates and deletes, inserts. Hooks must be on the schema before the model is compiled.
 */
export const siteWriteListeners = new Set<() => void>();
const siteWritten = () => siteWriteListeners.forEach((listener) => listener());
siteSchema.post('save', siteWritten);
siteSchema.post('deleteOne', { document: true, query: true }, siteWritten);
siteSchema.post(
  ['updateOne', 'updateMany', 'findOneAndUpdate', 'findOneAndDelete', 'findOneAndReplace', 'replaceOne', 'deleteMany'],
  siteWritten,
);
siteSchema.post('insertMany', siteWritten);

export type Site = InferSchemaType<typeof siteSchema>;
export type SiteDoc = HydratedDocument<Site>;
/** A site as read for a request (src/data/site-cache.ts): a plain object, frozen, shared between requests. */
export type SiteRecord = DeepReadonly<Site & { _id: Types.ObjectId }>;
type DeepReadonly<T> = T extends Types.ObjectId | Date
  ? T
  : T extends (infer U)[]
    ? readonly DeepReadonly<U>[]
    : T extends object
      ? { readonly [K in keyof T]: DeepReadonly<T[K]> }
      : T;
export const SiteModel = model('Site', siteSchema);
