/** Projections through mingo, with fields put back in the stored document's order as MongoDB returns them. */
import type { Document } from 'bson';
import { newQuery } from './matcher';

function inDocumentOrder(original: Document, projected: Document): Document {
  const out: Document = {};
  for (const k of Object.keys(original)) if (k in projected) out[k] = projected[k];
  for (const k of Object.keys(projected)) if (!(k in out)) out[k] = projected[k];
  return out;
}

export function project(docs: Document[], projection: Document | undefined | null): Document[] {
  if (!projection || Object.keys(projection).length === 0) return docs;
  const projected = newQuery({}).find(docs, projection).all() as Document[];
  return projected.map((p, i) => inDocumentOrder(docs[i], p));
}
