/**
 * Reading forms at the edge: only the declared fields, only as strings. A field sent as an object or an
 * array (username[$ne]=x, repeated parameters, JSON objects) is a 422 with a message, never a query.
 * The reading itself is src/http/form-input.ts (zod), shared with the admin area.
 */
import { formOptional, formRequired, readForm } from './form-input';

export function readStrings<K extends string>(
  body: unknown,
  required: readonly K[],
  optional: readonly string[] = [],
  maxLength = 1024,
): Record<K, string> & Record<string, string | undefined> {
  const shape = Object.fromEntries([
    ...optional.map((n) => [n, formOptional(maxLength)]),
    ...required.map((n) => [n, formRequired(maxLength)]),
  ]);
  return readForm(body, shape) as Record<K, string> & Record<string, string | undefined>;
}

/** Values to put back into a form after an error: the declared text fields only, never passwords. */
export function keepTyped(body: unknown, names: readonly string[]): Record<string, string> {
  const b = (body && typeof body === 'object' ? body : {}) as Record<string, unknown>;
  return Object.fromEntries(names.map((n) => [n, typeof b[n] === 'string' ? (b[n] as string).slice(0, 300) : '']));
}

/**
 * Passwords typed into a refused form. The field partial (views/partials/field.ejs, keepSecret) puts one
 * back only when the refusal is about other fields, so a mistyped email does not cost the password; the
 * refused page is sent with Cache-Control: no-store (error-writer.ts).
 */
export function typedPasswords(body: unknown, names: readonly string[]): Record<string, string> {
  const b = (body && typeof body === 'object' ? body : {}) as Record<string, unknown>;
  return Object.fromEntries(names.map((n) => [n, typeof b[n] === 'string' ? (b[n] as string).slice(0, 1024) : '']));
}
