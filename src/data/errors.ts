/** Recognises MongoDB's duplicate-key error (E11000) and tells which indexed field collided. */
export function duplicateKeyField(err: unknown): string | null {
  if (!err || typeof err !== 'object') return null;
  const e = err as { code?: number; keyPattern?: Record<string, unknown>; keyValue?: Record<string, unknown>; errmsg?: string; message?: string };
  if (e.code !== 11000) return null;
  const key = e.keyPattern ?? e.keyValue;
  if (key) return Object.keys(key)[0] ?? '_id';
  const m = /index: (\w+?)_/.exec(e.errmsg ?? e.message ?? '');
  return m ? m[1] : '_id';
}
