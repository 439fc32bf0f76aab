import { Schema, model, type InferSchemaType, type HydratedDocument } from 'mongoose';
import { permissionsSchema } from './profile.model';
import { MSG } from '../shared/messages';

/**
 * A permission set: a named set of the same administrative permissions a profile grants, assigned to
 * internal users on top of their profile (User.permissionSets). A user's effective permissions are
 * their profile's plus their sets' (src/access/actor.ts).
 */
const permissionSetSchema = new Schema(
  {
    name: {
      type: String,
      required: [true, MSG.nameThePermissionSet],
      trim: true,
      maxlength: [80, MSG.atMostCharacters(80)],
    },
    description: { type: String, trim: true, maxlength: [255, MSG.atMostCharacters(255)], default: '' },
    permissions: { type: permissionsSchema(), default: () => ({}) },
    version: { type: Number, default: 0 },
  },
  { timestamps: true },
);
permissionSetSchema.index({ name: 1 }, { unique: true, collation: { locale: 'en', strength: 2 } });

export type PermissionSet = InferSchemaType<typeof permissionSetSchema>;
export type PermissionSetDoc = HydratedDocument<PermissionSet>;
export const PermissionSetModel = model('PermissionSet', permissionSetSchema);
