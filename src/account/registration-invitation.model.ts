import { Schema, model, type InferSchemaType, type HydratedDocument } from 'mongoose';

/**
 * An invitation to register on an invite-only site (src/account/invitations.ts): for one address (used
 * once, by the first registration that names it) or for a whole email domain (any address at the domain
 * or a subdomain may register with it until it expires or is revoked). Only the SHA-256 of the link's
 * token is kept, as for the other links by mail.
 */
const registrationInvitationSchema = new Schema(
  {
    site: { type: Schema.Types.ObjectId, ref: 'Site', required: true },
    /** Exactly one of email and domain is set. */
    email: { type: String, default: null },
    domain: { type: String, default: null },
    hash: { type: String, required: true },
    expiresAt: { type: Date, required: true },
    usedAt: { type: Date, default: null },
    usedBy: { type: Schema.Types.ObjectId, ref: 'User', default: null },
    revokedAt: { type: Date, default: null },
    createdBy: { type: Schema.Types.ObjectId, ref: 'User', default: null },
  },
  { timestamps: true },
);
registrationInvitationSchema.index({ hash: 1 }, { unique: true });
registrationInvitationSchema.index({ site: 1, createdAt: -1 });

export type RegistrationInvitation = InferSchemaType<typeof registrationInvitationSchema>;
export type RegistrationInvitationDoc = HydratedDocument<RegistrationInvitation>;
export const RegistrationInvitationModel = model('RegistrationInvitation', registrationInvitationSchema);
