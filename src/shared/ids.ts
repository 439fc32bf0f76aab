import { Types } from 'mongoose';
import { NotFoundError, ValidationError } from './errors';
import { MSG } from './messages';

/**
 * The one id parser. An id is 24 hexadecimal digits, nothing else (not a number, not an object: a query
 * operator smuggled in as an id stays out), and a bad id handed to `findById` is a CastError (a 500), so
 * every place that takes an id from a request parses it here first.
 */
export const OBJECT_ID_SOURCE = '^[0-9a-fA-F]{24}$';
/** For zod's `.regex` and other validators; the same text goes into the OpenAPI document. */
export const OBJECT_ID_PATTERN = new RegExp(OBJECT_ID_SOURCE);

export function isObjectIdString(value: unknown): value is string {
  return typeof value === 'string' && OBJECT_ID_PATTERN.test(value);
}

/** The id as an ObjectId, or null when the value is not one (an ObjectId passes through). */
export function toObjectId(value: unknown): Types.ObjectId | null {
  if (value instanceof Types.ObjectId) return value;
  return isObjectIdString(value) ? new Types.ObjectId(value) : null;
}

/** For an id in a path: a malformed one names nothing, so it is the same 404 as an unknown one. */
export function parseIdOr404(value: unknown, message: string): Types.ObjectId {
  const id = toObjectId(value);
  if (!id) throw new NotFoundError(message);
  return id;
}

/** For an id in a form or body: a malformed one is a field to correct (422 naming the field). */
export function parseIdField(
  value: unknown,
  field: string,
  fieldMessage: string = MSG.useValidId,
  message: string = MSG.fieldsNeedAttention,
): Types.ObjectId {
  const id = toObjectId(value);
  if (!id) throw new ValidationError(message, { [field]: fieldMessage });
  return id;
}
