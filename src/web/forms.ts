/**
 * Reading forms at the edge: only the declared fields, only as strings. A field sent as an object or an
 * array (username[$ne]=x, repeated parameters, JSON objects) is a 422 with a message, never a query.
 */
import { ValidationError } from '../domain/errors';
import { MSG } from '../shared/messages';

export function readStrings<K extends string>(body: unknown, required: readonly K[], optional: readonly string[] = [], maxLength = 1024): Record<K, string> & Record<string, string | undefined> {
  const b = (body && typeof body === 'object' ? body : {}) as Record<string, unknown>;
  const out: Record<string, string | undefined> = {};
  const fields: Record<string, string> = {};
  for (const name of [...required, ...optional]) {
    const value = Object.prototype.hasOwnProperty.call(b, name) ? b[name] : undefined;
    if (value === undefined || value === '') {
      out[name] = undefined;
    } else if (typeof value !== 'string') {
      fields[name] = MSG.sendOnceAsText;
    } else if (value.length > maxLength) {
      fields[name] = `Use at most ${maxLength} characters.`;
    } else {
      out[name] = value;
    }
  }
  for (const name of required) if (out[name] === undefined && !fields[name]) fields[name] = MSG.required;
  if (Object.keys(fields).length) throw new ValidationError(MSG.fieldsNeedAttention, fields);
  return out as Record<K, string> & Record<string, string | undefined>;
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
