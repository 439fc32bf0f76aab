/**
 * Saving an edited document the same way everywhere: schema validation first (field messages, 422),
 * then the write, with a duplicate key turned into the conflict the caller names for that field (409).
 */
import { Error as MongooseError, type Document } from 'mongoose';
import { duplicateKeyField } from '../data/errors';
import { ConflictError, ValidationError } from '../shared/errors';
import { fieldErrorsOf } from './users';
import { MSG } from '../shared/messages';

export async function validateAndSave(
  doc: Document,
  conflicts: Record<string, () => ConflictError> = {},
): Promise<void> {
  try {
    await doc.validate();
  } catch (err) {
    if (err instanceof MongooseError.ValidationError)
      throw new ValidationError(MSG.fieldsNeedAttention, fieldErrorsOf(err));
    throw err;
  }
  try {
    await doc.save({ validateBeforeSave: false });
  } catch (err) {
    const field = duplicateKeyField(err);
    if (field && conflicts[field]) throw conflicts[field]();
    throw err;
  }
}
