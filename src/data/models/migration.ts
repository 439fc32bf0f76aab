import { Schema, model } from 'mongoose';

/** Data migrations already applied (src/data/migrations.ts); each runs once per database. */
const migrationSchema = new Schema({ _id: { type: String, required: true }, appliedAt: { type: Date, required: true } });

export const MigrationModel = model('Migration', migrationSchema);
