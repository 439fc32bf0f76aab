/**
 * Qualification at scale (issue 24): a dry run and a real bulk upgrade (rows/s), and the p50/p95 of the
 * qualification queue's page query (qualificationQueue, what /admin/qualify calls: the ranked
 * find on the stored score, first page and a later page) over many contactless users, on an in-memory
 * embedded engine, and the one-off recompute of the stored ranking of every new queued user.
 * Sizes: BENCH_QUALIFY_BULK (users upgraded, default 1000; the figure is 10000) and
 * BENCH_QUALIFY_QUEUE (contactless users in the queue, default 2000; the figure is 100000),
 * BENCH_QUALIFY_RUNS samples per query (default 10). Defaults run in well under two minutes.
 * Run: npm run bench -- qualify (or npx tsx bench/qualify.ts).
 */
import { performance } from 'node:perf_hooks';
import { trusted, Types } from 'mongoose';
import { connectDatabase } from '../src/data/connection';
import { seed } from '../src/data/seed';
import { AccountModel, ContactModel, LicenseModel, ProfileModel, UserModel } from '../src/data/models';
import { createAdministrator } from '../src/users/bootstrap';
import { loadActor } from '../src/access/actor';
import { dryRunBulk, startBulk } from '../src/qualification/bulk-actions';
import { qualificationQueue } from '../src/qualification/qualification-queue';
import { processAvailableBulkJobs } from '../src/qualification/bulk-action-worker';
import { searchTermsOf } from '../src/users/search-terms';
import { refreshQueueSignals } from '../src/qualification/queue-signals-store';

const BULK = Number(process.env.BENCH_QUALIFY_BULK || 1000);
const QUEUE = Number(process.env.BENCH_QUALIFY_QUEUE || 2000);
const RUNS = Number(process.env.BENCH_QUALIFY_RUNS || 10);

const pct = (xs: number[], p: number) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))];
const ms = (x: number) => Number(x.toFixed(1));

/** Users inserted straight through the driver in batches (the bench measures the queue, not creation). */
async function insertUsers(n: number, make: (i: number) => Record<string, unknown>) {
  for (let i = 0; i < n; i += 1000) {
    const docs = Array.from({ length: Math.min(1000, n - i) }, (_, j) => make(i + j));
    await UserModel.insertMany(
      docs.map((d) => ({ ...d, searchTerms: searchTermsOf(d as never) })),
      { lean: true },
    );
  }
}

async function main() {
  const db = await connectDatabase({ embeddedDataDir: null });
  await seed();
  const admin = (await createAdministrator({
    username: 'bench-admin@example.com',
    password: 'lantern-copper-wisdom-77',
    lastName: 'Admin',
  }))!;
  const actor = (await loadActor(admin._id))!;
  const ctx = { actor, via: 'admin' as const };
  const ei = (await ProfileModel.findOne({ name: 'External Identity User' }).lean())!;
  const community = (await ProfileModel.findOne({ name: 'Customer Community User' }).lean())!;
  const base = (i: number, prefix: string) => ({
    _id: new Types.ObjectId(),
    firstName: 'Bench',
    lastName: `${prefix}${i}`,
    email: `${prefix}${i}@co${i % 500}.example`,
    username: `${prefix}${i}@bench.example`,
    alias: 'bench',
    communityNickname: `${prefix}${i}`,
    profile: ei._id,
    license: ei.license,
    userType: 'customer',
    isActive: true,
  });

  // Bulk: users with contacts, upgraded to Customer Community with enough seats.
  const account = await AccountModel.create({ name: 'Bench Co' });
  const contacts = await ContactModel.insertMany(
    Array.from({ length: BULK }, (_, i) => ({ lastName: `B${i}`, account: account._id })),
    { lean: true },
  );
  // With a contact, so outside the queue: no stored ranking (what the recompute would write).
  await insertUsers(BULK, (i) => ({
    ...base(i, 'bulk'),
    contact: contacts[i]._id,
    queueStaleAt: null,
    queueVersion: 0,
  }));
  await LicenseModel.updateOne({ _id: community.license }, { $set: { totalSeats: BULK + 100 } });
  const ids = (
    await UserModel.find({ username: trusted({ $regex: /^bulk/ }) })
      .select('_id')
      .lean()
  ).map((u) => String(u._id));

  let t = performance.now();
  const dry = await dryRunBulk({ action: 'upgrade', userIds: ids, profileId: String(community._id) }, ctx);
  const dryMs = performance.now() - t;
  t = performance.now();
  await startBulk({ action: 'upgrade', userIds: ids, profileId: String(community._id) }, ctx);
  await processAvailableBulkJobs({ owner: 'bench' });
  const runMs = performance.now() - t;
  const upgraded = await UserModel.countDocuments({ profile: community._id });
  const license = (await LicenseModel.findById(community.license).lean())!;

  // Queue: contactless users with a mix of signals; a contact per 50th email and per 100th domain.
  const now = Date.now();
  await ContactModel.insertMany(
    Array.from({ length: Math.ceil(QUEUE / 50) }, (_, k) => ({
      lastName: `Q${k * 50}`,
      email: `queue${k * 50}@co${(k * 50) % 500}.example`,
      account: account._id,
    })),
    { lean: true },
  );
  await insertUsers(QUEUE, (i) => ({
    ...base(i, 'queue'),
    contact: null,
    emailVerifiedAt: i % 3 === 0 ? new Date(now - i * 1000) : null,
    lastLoginAt: i % 4 === 0 ? new Date(now - (i % 60) * 86_400_000) : null,
    createdAt: new Date(now - (i % 400) * 86_400_000),
    updatedAt: new Date(now),
    // Stale, as every new user is (the model's default; insertMany lean skips defaults).
    queueStaleAt: new Date(0),
    queueVersion: 0,
  }));
  t = performance.now();
  const recomputed = await refreshQueueSignals(new Date());
  const recomputeMs = performance.now() - t;
  const sample = async (page: number, filters = {}) => {
    const times: number[] = [];
    for (let r = 0; r < RUNS; r++) {
      const s = performance.now();
      await qualificationQueue(actor, filters, page);
      times.push(performance.now() - s);
    }
    return { p50Ms: ms(pct(times, 50)), p95Ms: ms(pct(times, 95)) };
  };
  const first = await sample(1);
  const later = await sample(20);
  const verified = await sample(1, { verified: true, minScore: 30 });
  const top = await qualificationQueue(actor, {}, 1);

  process.stdout.write(
    `${JSON.stringify(
      {
        qualify: {
          bulkUsers: BULK,
          dryRun: {
            ms: Math.round(dryMs),
            rowsPerSecond: Math.round(BULK / (dryMs / 1000)),
            wouldSucceed: dry.wouldSucceed,
            seatsSuffice: dry.seats?.suffice ?? null,
          },
          bulkUpgrade: {
            ms: Math.round(runMs),
            rowsPerSecond: Math.round(BULK / (runMs / 1000)),
            upgraded,
            usedSeats: license.usedSeats,
            totalSeats: license.totalSeats,
          },
          queueUsers: QUEUE,
          queueTotal: top.total,
          topScore: top.rows[0]?.score ?? null,
          firstRecompute: {
            users: recomputed,
            ms: Math.round(recomputeMs),
            usersPerSecond: Math.round(recomputed / (recomputeMs / 1000)),
          },
          queueFirstPage: first,
          queuePage20: later,
          queueVerifiedMin30: verified,
        },
      },
      null,
      2,
    )}\n`,
  );
  await db.close();
}

main().catch((err) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
