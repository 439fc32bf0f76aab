import { Schema, model, type InferSchemaType, type HydratedDocument } from 'mongoose';
import { MSG } from '../shared/messages';

/** What a bulk action does to each user of its selection (src/qualification/bulk-actions.ts). */
export const BULK_ACTIONS = [
  'addContact',
  'upgrade',
  'downgrade',
  'deactivate',
  'endSessions',
  'sendInvitations',
] as const;
export type BulkAction = (typeof BULK_ACTIONS)[number];
/** How addContact finds each user's contact: the one with the user's email, or a new one in an account. */
export const CONTACT_RULES = ['matchEmail', 'newInAccount'] as const;
export type ContactRule = (typeof CONTACT_RULES)[number];
export const BULK_JOB_STATES = ['Queued', 'InProgress', 'JobComplete', 'Failed', 'Aborted'] as const;

/**
 * A bulk action run in the background, with the ingest job's lease (src/jobs/ingest-worker.ts): a worker
 * owns the job while `leaseExpiresAt` is in the future and moves `processedThrough` only while it does.
 * Its users are fixed when it is created (one BulkActionRow each, in order).
 */
const bulkActionJobSchema = new Schema(
  {
    action: { type: String, enum: BULK_ACTIONS, required: true },
    profileId: { type: Schema.Types.ObjectId, ref: 'Profile', default: null },
    contactRule: { type: String, enum: [...CONTACT_RULES, null], default: null },
    accountId: { type: Schema.Types.ObjectId, ref: 'Account', default: null },
    state: { type: String, enum: BULK_JOB_STATES, required: true, default: 'Queued' },
    createdBy: { type: Schema.Types.ObjectId, ref: 'User', required: true },
    numberRecords: { type: Number, required: true },
    processedThrough: { type: Number, default: 0 },
    numberRecordsProcessed: { type: Number, default: 0 },
    numberRecordsFailed: { type: Number, default: 0 },
    numberRecordsSkipped: { type: Number, default: 0 },
    attempts: { type: Number, default: 0 },
    errorMessage: { type: String, default: null },
    leaseOwner: { type: String, default: null },
    leaseExpiresAt: { type: Date, default: null },
    completedAt: { type: Date, default: null },
  },
  { timestamps: true },
);
bulkActionJobSchema.index({ state: 1, leaseExpiresAt: 1 });
bulkActionJobSchema.index({ createdBy: 1, createdAt: -1 });

/**
 * One user of a job. `outcome` says what became of them, or why not: `failed` (a refusal), or `skipped`
 * (nothing to do for this user: an invitation to someone already set up, inactive, or without an address).
 */
const bulkActionRowSchema = new Schema({
  job: { type: Schema.Types.ObjectId, required: true },
  row: { type: Number, required: true },
  userId: { type: Schema.Types.ObjectId, required: true },
  status: { type: String, enum: ['pending', 'succeeded', 'failed', 'skipped'], default: 'pending' },
  outcome: { type: String, default: null },
});
bulkActionRowSchema.index({ job: 1, row: 1 }, { unique: true });

/** A queue search an admin named, to come back to or act on: its filters as the page reads them. */
const savedSearchSchema = new Schema(
  {
    owner: { type: Schema.Types.ObjectId, ref: 'User', required: true },
    name: { type: String, required: [true, 'Name the search.'], trim: true, maxlength: [60, MSG.atMostCharacters(60)] },
    query: { type: String, default: '', maxlength: 500 },
  },
  { timestamps: true },
);
savedSearchSchema.index({ owner: 1, name: 1 }, { unique: true });

export type BulkActionJob = InferSchemaType<typeof bulkActionJobSchema>;
export type BulkActionJobDoc = HydratedDocument<BulkActionJob>;
export const BulkActionJobModel = model('BulkActionJob', bulkActionJobSchema);
export const BulkActionRowModel = model('BulkActionRow', bulkActionRowSchema);
export type SavedSearch = InferSchemaType<typeof savedSearchSchema>;
export const SavedSearchModel = model('SavedSearch', savedSearchSchema);
