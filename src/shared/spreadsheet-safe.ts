/**
 * Formula injection: a CSV cell that starts with = + - @ tab or CR is run as a formula by spreadsheet
 * programs (OWASP "CSV Injection"), so exports meant for people prefix such cells with a ' and the
 * spreadsheet shows them as text.
 */
export function neutraliseCell(value: unknown): string {
  const text =
    value === null || value === undefined ? '' : typeof value === 'object' ? JSON.stringify(value) : String(value);
  return /^[=+\-@\t\r]/.test(text) ? `'${text}` : text;
}
