import { Schema, model, type InferSchemaType, type HydratedDocument } from 'mongoose';

/**
 * An API token. Only a SHA-256 of the secret is stored (tokens are long random values, so a fast hash
 * is enough); the plain token is shown once when created. It acts with its creator's permissions.
 */
const apiTokenSchema = new Schema(
  {
    name: { type: String, required: [true, 'Name the token.'], trim: true, maxlength: 80 },
    prefix: { type: String, required: true },
    hash: { type: String, required: true, select: false },
    createdBy: { type: Schema.Types.ObjectId, ref: 'User', required: true },
    lastUsedAt: { type: Date, default: null },
    revokedAt: { type: Date, default: null },
  },
  { timestamps: true },
);
apiTokenSchema.index({ hash: 1 }, { unique: true });

export type ApiToken = InferSchemaType<typeof apiTokenSchema>;
export type ApiTokenDoc = HydratedDocument<ApiToken>;
export const ApiTokenModel = model('ApiToken', apiTokenSchema);
