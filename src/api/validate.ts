/**
 * Input at the edge: a zod schema per body or query. Strict objects: an unknown field is a 400 naming
 * it (so a typo, or an attempt to set passwordHash, license, userType or sessionEpoch, never passes
 * silently), and a value of the wrong type (an object or array where text belongs) is a 400 naming the
 * field; it never reaches a query. The domain still checks the values themselves (lengths, patterns).
 */
import { z } from 'zod';
import { ValidationError, type FieldErrors } from '../shared/errors';
import { OBJECT_ID_PATTERN } from '../shared/ids';
import { MSG } from '../shared/messages';

function fieldsOf(error: z.ZodError): FieldErrors {
  const fields: FieldErrors = {};
  for (const issue of error.issues) {
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys)
        fields[[...issue.path, key].join('.')] = 'Unknown or read-only field; leave it out.';
      continue;
    }
    const name = issue.path.join('.') || 'body';
    fields[name] ??= issue.message;
  }
  return fields;
}

export function parseInput<S extends z.ZodType>(schema: S, value: unknown): z.infer<S> {
  const result = schema.safeParse(value === undefined ? {} : value);
  if (result.success) return result.data;
  throw new ValidationError(MSG.fieldsNeedAttention, fieldsOf(result.error));
}

/** Text: "required" when missing, "send text" when another type came. */
export function text(max = 1024) {
  return z
    .string({ error: (iss) => (iss.input === undefined ? MSG.required : 'Send this field as text.') })
    .max(max, `Use at most ${max} characters.`);
}

export const objectId = z
  .string({ error: (iss) => (iss.input === undefined ? MSG.required : 'Send this id as text.') })
  .regex(OBJECT_ID_PATTERN, 'Use a valid id (24 hexadecimal characters).');

export const bool = z.boolean({ error: 'Send true or false.' });

/** Booleans in a query string. */
export const queryBool = z.enum(['true', 'false'], { error: 'Use true or false.' }).transform((v) => v === 'true');
