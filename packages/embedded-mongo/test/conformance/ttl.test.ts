/**
 * TTL indexes remove expired documents in the background. On the embedded engine the monitor runs every
 * 200 ms here; MongoDB's runs every 60 s, so against MONGODB_URI this waits up to 70 s.
 */
import { useTestDb } from '../helpers/mongo';

const t = useTestDb('ttl', { ttlMonitorIntervalMs: 200 });

async function eventually(check: () => Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await check()) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return check();
}

it('removes documents whose per-document expiry date has passed (expireAfterSeconds: 0)', async () => {
  const sessions = t.db.collection('sessions');
  await sessions.createIndex({ expires: 1 }, { expireAfterSeconds: 0 });
  await sessions.insertMany([
    { _id: 'old' as never, expires: new Date(Date.now() - 1000) },
    { _id: 'fresh' as never, expires: new Date(Date.now() + 3_600_000) },
    { _id: 'no-date' as never, expires: 'not a date' },
  ]);
  const gone = await eventually(
    async () => (await sessions.countDocuments({ _id: 'old' as never })) === 0,
    t.embedded ? 5000 : 70_000,
  );
  expect(gone).toBe(true);
  expect((await sessions.find({}).toArray()).map((d) => d._id).sort()).toEqual(['fresh', 'no-date']);
}, 90_000);
