import { Schema, model, type InferSchemaType, type HydratedDocument } from 'mongoose';

/** The states of a bulk ingest job, as in Salesforce Bulk API 2.0. */
export const INGEST_JOB_STATES = ['Open', 'UploadComplete', 'InProgress', 'JobComplete', 'Failed', 'Aborted'] as const;
export type IngestJobState = (typeof INGEST_JOB_STATES)[number];

/**
 * A bulk ingest job. Its rows live in IngestJobRow; the job holds the counters, the column header and
 * the lease: a worker owns the job while `leaseExpiresAt` is in the future, and every write it makes is
 * conditional on still owning it, so a crashed worker's job is taken over by another after expiry.
 * `processedThrough` is the highest row number whose result is counted; rows above it are (re)done.
 */
const ingestJobSchema = new Schema(
  {
    object: { type: String, enum: ['User'], required: true },
    operation: { type: String, enum: ['insert'], required: true },
    /** With 'email', a row without a ContactId gets the one free contact that has its email (qualification/contact-match.ts). */
    matchBy: { type: String, enum: ['email', null], default: null },
    state: { type: String, enum: INGEST_JOB_STATES, required: true, default: 'Open' },
    createdBy: { type: Schema.Types.ObjectId, ref: 'User', required: true },
    /** The CSV header of the first upload; later uploads must repeat it. */
    columns: { type: [String], default: undefined },
    /**
     * One upload per job, as in Bulk API 2.0: claimed ('uploading') by a conditional update, 'uploaded'
     * when its rows are all stored; a failed upload deletes its rows and goes back to 'none'.
     */
    uploadState: { type: String, enum: ['none', 'uploading', 'uploaded'], default: 'none' },
    uploadId: { type: Schema.Types.ObjectId, default: null },
    /** Why the last upload was refused (shown on the job until an upload succeeds), so a client sees it. */
    lastUploadError: { type: String, default: null },
    /** Claims by workers; a job that keeps failing is marked Failed instead of retried forever. */
    attempts: { type: Number, default: 0 },
    numberRecordsUploaded: { type: Number, default: 0 },
    processedThrough: { type: Number, default: 0 },
    numberRecordsProcessed: { type: Number, default: 0 },
    numberRecordsFailed: { type: Number, default: 0 },
    errorMessage: { type: String, default: null },
    leaseOwner: { type: String, default: null },
    leaseExpiresAt: { type: Date, default: null },
    startedAt: { type: Date, default: null },
    completedAt: { type: Date, default: null },
  },
  { timestamps: true },
);
ingestJobSchema.index({ state: 1, leaseExpiresAt: 1 });
ingestJobSchema.index({ createdAt: -1, _id: -1 });

/**
 * One CSV record of a job, kept as its raw CSV text (compact; the results files repeat it verbatim).
 * `userId` is chosen at upload, so a retried row finds the user it already created instead of making
 * a second one. Only failures are written back (`status: 'failed'` and `error`): a row the job has
 * counted (row <= processedThrough) that is not marked failed succeeded.
 */
const ingestJobRowSchema = new Schema({
  job: { type: Schema.Types.ObjectId, required: true },
  upload: { type: Schema.Types.ObjectId, required: true },
  row: { type: Number, required: true },
  raw: { type: String, required: true },
  userId: { type: Schema.Types.ObjectId, required: true },
  status: { type: String, enum: ['pending', 'failed'], default: 'pending' },
  error: { type: String, default: null },
});
ingestJobRowSchema.index({ job: 1, row: 1 }, { unique: true });
ingestJobRowSchema.index({ row: 1 });

export type IngestJob = InferSchemaType<typeof ingestJobSchema>;
export type IngestJobDoc = HydratedDocument<IngestJob>;
export const IngestJobModel = model('IngestJob', ingestJobSchema);
export type IngestJobRow = InferSchemaType<typeof ingestJobRowSchema>;
export const IngestJobRowModel = model('IngestJobRow', ingestJobRowSchema);
