import { Schema, model, type InferSchemaType, type HydratedDocument } from 'mongoose';

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
    /** Whether users who have not confirmed their email address may sign in (with a banner asking them to). */
    allowUnverifiedSignIn: { type: Boolean, default: true },
    /** Whether a user's username changes with their email (when it was their email) once a new address is confirmed. */
    usernameFollowsEmail: { type: Boolean, default: false },
    /** Whether the site's users must sign in with a second factor (they enrol at their next sign-in). */
    requireMfa: { type: Boolean, default: false },
  },
  { timestamps: true },
);
siteSchema.index({ slug: 1 }, { unique: true });

export type Site = InferSchemaType<typeof siteSchema>;
export type SiteDoc = HydratedDocument<Site>;
export const SiteModel = model('Site', siteSchema);
