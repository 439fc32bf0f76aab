/**
 * The one way an HTML form is read, in the site and the admin area alike, with zod as the API reads
 * JSON (src/api/validate.ts). A urlencoded body turns a repeated field (`a=1&a=2`, a duplicated
 * checkbox) into an array and `a[b]=1` into an object; a single-valued field accepts a string only, so
 * either is refused with a 422 naming the field (MSG.sendOnceAsText) before anything is
 * read, never silently turned into '' or "unchecked". Forms carry extra fields (_csrf, _form), so the
 * object is not strict, unlike the API's bodies.
 */
import { z } from 'zod';
import { ValidationError, type FieldErrors } from '../shared/errors';
import { MSG } from '../shared/messages';

/** One text field; absent reads as ''. Without `max`, the body parser's size limit is the only bound. */
export function formText(max?: number) {
  const text = z.string({ error: MSG.sendOnceAsText });
  return z.preprocess(
    (v) => (v === undefined ? '' : v),
    max === undefined ? text : text.max(max, MSG.atMostCharacters(max)),
  );
}

/** One text field that must be filled in: '' and absent are refused with MSG.required. */
export function formRequired(max = 1024) {
  return z.preprocess(
    (v) => (v === undefined ? '' : v),
    z.string({ error: MSG.sendOnceAsText }).min(1, MSG.required).max(max, MSG.atMostCharacters(max)),
  );
}

/** One optional text field: absent or '' reads as undefined. */
export function formOptional(max = 1024) {
  return z.preprocess(
    (v) => (v === '' ? undefined : v),
    z.string({ error: MSG.sendOnceAsText }).max(max, MSG.atMostCharacters(max)).optional(),
  );
}

/** A field that may repeat (a list of checkboxes): one value arrives as a string, none as []. */
export function formList(maxItems = 200) {
  return z.preprocess(
    (v) => (v === undefined || v === '' ? [] : typeof v === 'string' ? [v] : v),
    z.array(z.string(), { error: MSG.sendEachChoiceAsText }).transform((list) => list.slice(0, maxItems)),
  );
}

function fieldsOf(error: z.ZodError): FieldErrors {
  const fields: FieldErrors = {};
  for (const issue of error.issues) {
    // An element of a list that is not text names the list, as the form knows it.
    const name = String(issue.path[0] ?? 'body');
    fields[name] ??= issue.path.length > 1 ? MSG.sendEachChoiceAsText : issue.message;
  }
  return fields;
}

/** Reads the declared fields of a form body; a refused field is a 422 with every field's message. */
export function readForm<S extends z.ZodRawShape>(body: unknown, shape: S): z.infer<z.ZodObject<S>> {
  const b = body && typeof body === 'object' ? body : {};
  // Own properties only: a body is a plain object, and `constructor` or `__proto__` are not fields.
  const own = Object.fromEntries(
    Object.keys(shape).map((k) => [
      k,
      Object.prototype.hasOwnProperty.call(b, k) ? (b as Record<string, unknown>)[k] : undefined,
    ]),
  );
  const result = z.object(shape).safeParse(own);
  if (result.success) return result.data;
  throw new ValidationError(MSG.fieldsNeedAttention, fieldsOf(result.error));
}
