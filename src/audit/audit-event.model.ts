import { Schema, model, type InferSchemaType, type HydratedDocument } from 'mongoose';

/** One admin action or registration: who did what to whom, the change, when and from where. */
const auditEventSchema = new Schema({
  at: { type: Date, required: true, default: () => new Date() },
  action: { type: String, required: true },
  actor: {
    type: new Schema(
      { id: { type: Schema.Types.ObjectId, default: null }, username: { type: String, default: null } },
      { _id: false },
    ),
    default: null,
  },
  /** During Login As: the user the actor (the admin) was signed in as. The change is never the user's own. */
  onBehalfOf: {
    type: new Schema(
      { id: { type: Schema.Types.ObjectId, default: null }, username: { type: String, default: null } },
      { _id: false },
    ),
    default: null,
  },
  target: {
    type: new Schema(
      { type: String, id: { type: Schema.Types.ObjectId, default: null }, label: String },
      { _id: false },
    ),
    default: null,
  },
  before: { type: Schema.Types.Mixed, default: null },
  after: { type: Schema.Types.Mixed, default: null },
  ip: { type: String, default: null },
  via: { type: String, enum: ['site', 'admin', 'api', 'scim', 'bulk', 'system'], default: 'system' },
});
auditEventSchema.index({ at: -1, _id: -1 });
auditEventSchema.index({ 'target.id': 1, at: -1 });
auditEventSchema.index({ action: 1, at: -1 });

export type AuditEvent = InferSchemaType<typeof auditEventSchema>;
export type AuditEventDoc = HydratedDocument<AuditEvent>;
export const AuditEventModel = model('AuditEvent', auditEventSchema);
