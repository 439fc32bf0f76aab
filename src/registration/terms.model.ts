import { Schema, model, type InferSchemaType, type Types } from 'mongoose';

/**
 * A version of a site's terms, as published (src/registration/terms.ts). Never edited once published:
 * a change is a new version, so what a person accepted stays readable word for word.
 */
const termsVersionSchema = new Schema(
  {
    site: { type: Schema.Types.ObjectId, ref: 'Site', required: true },
    version: { type: String, required: true, trim: true, maxlength: 40 },
    text: { type: String, required: true, maxlength: 50_000 },
    /** From this moment it is the version registration asks for and signed-in people must accept. */
    effectiveAt: { type: Date, required: true },
    publishedBy: { type: Schema.Types.ObjectId, ref: 'User', default: null },
  },
  { timestamps: true },
);
termsVersionSchema.index({ site: 1, version: 1 }, { unique: true });
termsVersionSchema.index({ site: 1, effectiveAt: -1 });

/**
 * The consent ledger: one row each time a person accepts a version of a site's terms, at registration
 * or again at a sign-in after a new version took effect. Append-only: the model refuses every update,
 * replace and delete (below), and the code has one path that changes a row: pseudonymiseConsents in
 * terms.ts, when the person is erased (their rows then name a pseudonym, with no user id, IP or agent).
 */
const consentSchema = new Schema(
  {
    user: { type: Schema.Types.ObjectId, ref: 'User', required: true },
    /** The username at the time, kept so the ledger reads without the user. */
    username: { type: String, required: true },
    site: { type: Schema.Types.ObjectId, ref: 'Site', required: true },
    termsVersion: { type: Schema.Types.ObjectId, ref: 'TermsVersion', required: true },
    version: { type: String, required: true },
    acceptedAt: { type: Date, required: true },
    ip: { type: String, default: null },
    userAgent: { type: String, default: null },
    how: { type: String, enum: ['registration', 're-accept'], required: true },
  },
  { timestamps: false, versionKey: false },
);
consentSchema.index({ user: 1, termsVersion: 1 });
consentSchema.index({ acceptedAt: -1, _id: -1 });
consentSchema.index({ username: 1, acceptedAt: -1 });

const appendOnly = function (this: unknown) {
  throw new Error('The consent ledger is append-only: its rows are never changed or deleted.');
};
consentSchema.pre(
  [
    'updateOne',
    'updateMany',
    'findOneAndUpdate',
    'findOneAndReplace',
    'replaceOne',
    'findOneAndDelete',
    'deleteOne',
    'deleteMany',
  ],
  appendOnly,
);
consentSchema.pre('save', function () {
  if (!this.isNew) throw new Error('The consent ledger is append-only: its rows are never changed or deleted.');
});

export type TermsVersion = InferSchemaType<typeof termsVersionSchema> & { _id: Types.ObjectId };
/** `user` is null on the rows of an erased person (pseudonymiseConsents). */
export type Consent = Omit<InferSchemaType<typeof consentSchema>, 'user'> & {
  _id: Types.ObjectId;
  user: Types.ObjectId | null;
};
export const TermsVersionModel = model('TermsVersion', termsVersionSchema);
export const ConsentModel = model('Consent', consentSchema);
