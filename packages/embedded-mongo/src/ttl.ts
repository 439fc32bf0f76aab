/** The TTL monitor: like MongoDB's, it removes expired documents in the background (every 60 s by default). */
import type { Engine } from './engine';
import { valuesAt } from './keys';

export function removeExpired(engine: Engine, now = Date.now()): number {
  let removed = 0;
  for (const [db, colls] of engine.dbs) {
    for (const coll of colls.values()) {
      for (const index of coll.indexes) {
        const ttl = index.spec.expireAfterSeconds;
        if (typeof ttl !== 'number' || index.fields.length !== 1) continue;
        const field = index.fields[0];
        for (const doc of [...coll.docs.values()]) {
          // An array of dates expires with its earliest one, as in MongoDB; non-dates never expire.
          let earliest = Infinity;
          for (const d of valuesAt(doc, field)) if (d instanceof Date && d.getTime() < earliest) earliest = d.getTime();
          if (earliest === Infinity) continue;
          if (earliest + ttl * 1000 <= now) {
            coll.remove(doc);
            engine.record({ op: 'del', db, coll: coll.name, id: doc._id });
            removed++;
          }
        }
      }
    }
  }
  engine.commit();
  return removed;
}
