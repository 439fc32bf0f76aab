import { Schema, model } from 'mongoose';

/**
 * Proof-of-work challenges already accepted once (src/bot-check). A solved challenge is single use:
 * its id is inserted here when it is accepted, and the unique _id refuses a second insert from any
 * instance. Kept until the challenge would have expired anyway (TTL index), after which the signature
 * check refuses it by itself.
 */
const spentChallengeSchema = new Schema(
  {
    /** The challenge hash (a SHA-256 in hex) or a no-script ticket's signature. */
    _id: { type: String, required: true, maxlength: 128 },
    expiresAt: { type: Date, required: true },
  },
  { versionKey: false },
);
spentChallengeSchema.index({ expiresAt: 1 }, { expireAfterSeconds: 0 });

export const SpentChallengeModel = model('SpentChallenge', spentChallengeSchema);
