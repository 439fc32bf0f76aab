/**
 * "Never without an administrator" as one atomic step, with no transaction (a standalone MongoDB and
 * the embedded engine have none). The invariant spans users, profiles and permission sets, so no single
 * conditional update can hold it; instead every change that could take an administrator away is
 * committed against a guard document's generation (optimistic concurrency, like src/data/seats.ts):
 * 1. read the generation g;  2. count with the change as a hypothesis (src/access/lockout.ts);
 * 3. write;  4. advance the generation from g to g+1 in one conditional update.
 * If step 4 fails, another guarded change was committed after our count and may not have been seen by
 * it: count again with both written (after reading the new generation) and either commit from that
 * generation or undo our write and refuse. Two changes that each leave an administrator but together
 * leave none therefore can't both commit: whoever commits second has counted the first.
 */
import { duplicateKeyField } from '../data/errors';
import { GuardModel } from '../data/models';

const KEY_ADMINISTRATORS = 'key-administrators';

export async function guardGeneration(): Promise<number> {
  const existing = await GuardModel.findById(KEY_ADMINISTRATORS).lean();
  if (existing) return existing.generation ?? 0;
  try {
    await GuardModel.create({ _id: KEY_ADMINISTRATORS, generation: 0 });
  } catch (err) {
    // Two first changes at once: the other one created it.
    if (duplicateKeyField(err) === null) throw err;
  }
  return (await GuardModel.findById(KEY_ADMINISTRATORS).lean())?.generation ?? 0;
}

/** Commits a guarded change counted at generation `from`; false when another committed since. */
export async function advanceGuard(from: number): Promise<boolean> {
  const res = await GuardModel.updateOne({ _id: KEY_ADMINISTRATORS, generation: from }, { $inc: { generation: 1 } });
  return res.modifiedCount === 1;
}
