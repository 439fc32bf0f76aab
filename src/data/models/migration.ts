import { Schema, model } from 'mongoose';

/** Data migrations already applied (src/data/migrations.ts); each runs once per database. */
/** `report`: what a migration found that an operator should act on (server.ts logs it at start). */
const migrationSchema = new Schema({ _id: { type: String, required: true }, appliedAt: { type: Date, required: true }, report: { type: Schema.Types.Mixed, default: null } });

export const MigrationModel = model('Migration', migrationSchema);
