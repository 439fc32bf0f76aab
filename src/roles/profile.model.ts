import { Schema, model, type InferSchemaType, type HydratedDocument } from 'mongoose';
import { USER_TYPES } from '../qualification/license.model';

/** Administrative permissions a profile may grant, in the product's words. */
export const PERMISSIONS = [
  'manageInternalUsers',
  'manageCustomerUsers',
  'manageExternalUsers',
  'loginAs',
  'manageSites',
  'manageLicenses',
  'manageApiTokens',
  'viewAuditTrail',
  'manageProfiles',
  'viewOutbox',
] as const;
export type Permission = (typeof PERMISSIONS)[number];

export const PERMISSION_LABELS: Record<Permission, string> = {
  manageInternalUsers: 'Manage Internal Users',
  manageCustomerUsers: 'Manage Customer Users',
  manageExternalUsers: 'Manage External Users',
  loginAs: 'Login As',
  manageSites: 'Manage Sites',
  manageLicenses: 'Manage Licenses',
  manageApiTokens: 'Manage API Tokens',
  viewAuditTrail: 'View Audit Trail',
  manageProfiles: 'Manage Profiles and Permission Sets',
  viewOutbox: 'View Mail Outbox',
};

export function isPermission(name: unknown): name is Permission {
  return typeof name === 'string' && (PERMISSIONS as readonly string[]).includes(name);
}

const permissionsShape = Object.fromEntries(PERMISSIONS.map((p) => [p, { type: Boolean, default: false }])) as Record<
  Permission,
  { type: BooleanConstructor; default: boolean }
>;

/** The permissions sub-document, shared by profiles and permission sets. */
export const permissionsSchema = () => new Schema(permissionsShape, { _id: false });

const profileSchema = new Schema(
  {
    name: { type: String, required: true, trim: true, maxlength: 80 },
    license: { type: Schema.Types.ObjectId, ref: 'License', required: true },
    userType: { type: String, enum: USER_TYPES, required: true },
    permissions: { type: permissionsSchema(), default: () => ({}) },
    /** Bumped by every edit; an edit names the version it started from (optimistic concurrency). */
    version: { type: Number, default: 0 },
  },
  { timestamps: true },
);
profileSchema.index({ name: 1 }, { unique: true });

export type Profile = InferSchemaType<typeof profileSchema>;
export type ProfileDoc = HydratedDocument<Profile>;
export const ProfileModel = model('Profile', profileSchema);
