import { Schema, model, type InferSchemaType, type HydratedDocument } from 'mongoose';
import { USER_TYPES } from './license';

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
  viewOutbox: 'View Mail Outbox',
};

const permissionsShape = Object.fromEntries(PERMISSIONS.map((p) => [p, { type: Boolean, default: false }])) as Record<
  Permission,
  { type: BooleanConstructor; default: boolean }
>;

const profileSchema = new Schema(
  {
    name: { type: String, required: true, trim: true, maxlength: 80 },
    license: { type: Schema.Types.ObjectId, ref: 'License', required: true },
    userType: { type: String, enum: USER_TYPES, required: true },
    permissions: { type: new Schema(permissionsShape, { _id: false }), default: () => ({}) },
  },
  { timestamps: true },
);
profileSchema.index({ name: 1 }, { unique: true });

export type Profile = InferSchemaType<typeof profileSchema>;
export type ProfileDoc = HydratedDocument<Profile>;
export const ProfileModel = model('Profile', profileSchema);
