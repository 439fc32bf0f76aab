import { Schema, model, type InferSchemaType, type HydratedDocument } from 'mongoose';

export const USER_TYPES = ['internal', 'customer', 'partner'] as const;
export type UserType = (typeof USER_TYPES)[number];

/**
 * A license and its seats. `usedSeats` is changed only by conditional single-document updates
 * (src/data/seats.ts), so it can never exceed `totalSeats`, even under concurrent upgrades.
 */
const licenseSchema = new Schema(
  {
    name: { type: String, required: true, trim: true, maxlength: 80 },
    userType: { type: String, enum: USER_TYPES, required: true },
    requiresContact: { type: Boolean, required: true },
    totalSeats: { type: Number, required: true, min: 0, validate: Number.isInteger },
    usedSeats: { type: Number, required: true, min: 0, default: 0, validate: Number.isInteger },
    /** When the seat meter last warned that this license runs out (cleared once the forecast is clear again). */
    seatWarningSentAt: { type: Date, default: null },
    /**
     * Seats a bulk import batch has taken for users it has not finished inserting (src/data/seats.ts):
     * recorded in the same update that takes them, so a batch cut off by a crash can be settled exactly.
     */
    seatHolds: {
      type: [
        new Schema(
          {
            key: { type: String, required: true },
            userIds: [Schema.Types.ObjectId],
            at: { type: Date, required: true },
          },
          { _id: false },
        ),
      ],
      default: undefined,
      select: false,
    },
  },
  { timestamps: true },
);
licenseSchema.index({ name: 1 }, { unique: true });

export type License = InferSchemaType<typeof licenseSchema>;
export type LicenseDoc = HydratedDocument<License>;
export const LicenseModel = model('License', licenseSchema);
