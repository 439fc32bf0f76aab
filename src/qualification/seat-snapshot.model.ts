import { Schema, model, type InferSchemaType } from 'mongoose';

/**
 * A license's seats on one day (UTC), kept by the seat meter (seat-forecast.ts): the history the seats
 * page draws and the forecast's rate read. One per license and day; a later reading that day replaces it.
 */
const seatSnapshotSchema = new Schema(
  {
    license: { type: Schema.Types.ObjectId, ref: 'License', required: true },
    /** YYYY-MM-DD, UTC. */
    day: { type: String, required: true, match: /^\d{4}-\d{2}-\d{2}$/ },
    usedSeats: { type: Number, required: true, min: 0 },
    totalSeats: { type: Number, required: true, min: 0 },
    at: { type: Date, required: true },
  },
  { versionKey: false },
);
seatSnapshotSchema.index({ license: 1, day: 1 }, { unique: true });

export type SeatSnapshot = InferSchemaType<typeof seatSnapshotSchema>;
export const SeatSnapshotModel = model('SeatSnapshot', seatSnapshotSchema);
