/**
 * The seat meter: a daily snapshot of every license's seats, the forecast read from them (seats used and
 * free over time, upgrades per week, the day the license runs out at the current rate) and a warning mail
 * to the administrators who manage licenses when that day comes within the configured threshold: sent
 * once per crossing (claimed by one conditional update, so two instances never both send), sent again
 * only after the forecast was clear in between. Every function takes `now`: tests move the clock.
 */
import { trusted, type Types } from 'mongoose';
import {
  AuditEventModel,
  LicenseModel,
  PermissionSetModel,
  ProfileModel,
  SeatSnapshotModel,
  UserModel,
} from '../data/models';
import { queueMails } from '../mail';
import type { Actor } from '../access';
import { assertPermission } from '../access';

const DAY_MS = 86_400_000;
/** The window the rates are read over: long enough to smooth a busy day, short enough to follow a trend. */
export const FORECAST_WINDOW_DAYS = 28;
/** Days of history the seats page shows. */
export const HISTORY_DAYS = 56;

export const dayOf = (d: Date): string => d.toISOString().slice(0, 10);

/** Records today's seats of every license (idempotent: a second run that day replaces the reading). */
export async function collectSeatSnapshots(now: Date): Promise<number> {
  const licenses = await LicenseModel.find().select('usedSeats totalSeats').lean();
  if (!licenses.length) return 0;
  await SeatSnapshotModel.bulkWrite(
    licenses.map((l) => ({
      updateOne: {
        filter: { license: l._id, day: dayOf(now) },
        update: { $set: { usedSeats: l.usedSeats, totalSeats: l.totalSeats, at: now } },
        upsert: true,
      },
    })),
    { ordered: false },
  );
  return licenses.length;
}

export interface SeatForecast {
  licenseId: Types.ObjectId;
  name: string;
  used: number;
  total: number;
  free: number;
  history: { day: string; used: number; total: number }[];
  /** user.upgraded events onto this license per week, over the window. */
  upgradesPerWeek: number;
  /** Seats taken less seats freed per week, from the oldest snapshot in the window to now. */
  netPerWeek: number;
  /** When the free seats run out at netPerWeek; null when they do not (no growth, or none free to lose). */
  runsOutAt: Date | null;
}

/** The forecast of every license (or of one), read from the snapshots and the audit trail. */
export async function seatForecasts(now: Date, licenseId?: Types.ObjectId): Promise<SeatForecast[]> {
  const licenses = await LicenseModel.find(licenseId ? { _id: licenseId } : {})
    .sort({ name: 1 })
    .lean();
  const since = new Date(now.getTime() - FORECAST_WINDOW_DAYS * DAY_MS);
  const out: SeatForecast[] = [];
  for (const l of licenses) {
    const history = (
      await SeatSnapshotModel.find({
        license: l._id,
        day: trusted({ $gte: dayOf(new Date(now.getTime() - HISTORY_DAYS * DAY_MS)) }),
      })
        .sort({ day: 1 })
        .lean()
    ).map((s) => ({ day: s.day, used: s.usedSeats, total: s.totalSeats, at: s.at }));
    const upgrades = await AuditEventModel.countDocuments({
      action: 'user.upgraded',
      'after.license': l.name,
      at: trusted({ $gte: since, $lte: now }),
    });
    const first = history.find((h) => h.at >= since);
    const weeks = first ? (now.getTime() - first.at.getTime()) / (7 * DAY_MS) : 0;
    // Less than a day of history says nothing about a rate.
    const netPerWeek = first && weeks >= 1 / 7 ? (l.usedSeats - first.used) / weeks : 0;
    const free = Math.max(0, l.totalSeats - l.usedSeats);
    const runsOutAt = netPerWeek > 0 ? new Date(now.getTime() + (free / netPerWeek) * 7 * DAY_MS) : null;
    out.push({
      licenseId: l._id,
      name: l.name,
      used: l.usedSeats,
      total: l.totalSeats,
      free,
      history: history.map(({ day, used, total }) => ({ day, used, total })),
      upgradesPerWeek: Math.round((upgrades / (FORECAST_WINDOW_DAYS / 7)) * 10) / 10,
      netPerWeek: Math.round(netPerWeek * 10) / 10,
      runsOutAt,
    });
  }
  return out;
}

/** The forecasts as the seats page shows them: for administrators who manage licenses. */
export async function seatMeter(actor: Actor, now = new Date()): Promise<SeatForecast[]> {
  assertPermission(actor, 'manageLicenses');
  return seatForecasts(now);
}

/** Active internal users whose profile or a permission set grants Manage Licenses. */
async function licenseManagers(): Promise<
  { _id: Types.ObjectId; email: string; firstName: string; lastName: string; languageLocaleKey: string }[]
> {
  const [profiles, sets] = await Promise.all([
    ProfileModel.find({ 'permissions.manageLicenses': true }).select('_id').lean(),
    PermissionSetModel.find({ 'permissions.manageLicenses': true }).select('_id').lean(),
  ]);
  const grants = [
    { profile: trusted({ $in: profiles.map((p) => p._id) }) },
    { permissionSets: trusted({ $in: sets.map((s) => s._id) }) },
  ];
  const found = new Map<
    string,
    { _id: Types.ObjectId; email: string; firstName: string; lastName: string; languageLocaleKey: string }
  >();
  for (const g of grants) {
    for (const u of await UserModel.find({ ...g, isActive: true, userType: 'internal' })
      .select('email firstName lastName languageLocaleKey')
      .lean())
      found.set(String(u._id), u);
  }
  return [...found.values()];
}

/**
 * Sends the warning for each license whose run-out date is within `thresholdDays` and not yet warned
 * about, and clears the mark of those whose forecast is clear again. Returns the licenses warned about.
 */
export async function warnSeatsRunningOut(now: Date, thresholdDays: number): Promise<string[]> {
  const limit = new Date(now.getTime() + thresholdDays * DAY_MS);
  const warned: string[] = [];
  for (const f of await seatForecasts(now)) {
    const soon = f.runsOutAt !== null && f.runsOutAt <= limit;
    if (!soon) {
      await LicenseModel.updateOne(
        { _id: f.licenseId, seatWarningSentAt: trusted({ $ne: null }) },
        { $set: { seatWarningSentAt: null } },
      );
      continue;
    }
    const claimed = await LicenseModel.updateOne(
      { _id: f.licenseId, seatWarningSentAt: null },
      { $set: { seatWarningSentAt: now } },
    );
    if (claimed.modifiedCount !== 1) continue;
    const admins = await licenseManagers();
    await queueMails(
      admins.map((a) => ({
        to: a.email,
        template: 'seat-warning' as const,
        user: a._id,
        language: a.languageLocaleKey,
        locals: {
          name: `${a.firstName ?? ''} ${a.lastName}`.trim(),
          license: f.name,
          used: f.used,
          total: f.total,
          free: f.free,
          netPerWeek: f.netPerWeek,
          runsOutOn: dayOf(f.runsOutAt!),
          thresholdDays,
        },
      })),
      now,
    );
    warned.push(f.name);
  }
  return warned;
}

/** The meter's daily round: today's snapshot, then the warnings. */
export async function runSeatMeter(now: Date, thresholdDays: number): Promise<string[]> {
  await collectSeatSnapshots(now);
  return warnSeatsRunningOut(now, thresholdDays);
}

/**
 * Runs the meter now and then every `intervalMs` (hourly by default: the snapshot is one per day
 * whatever the count of runs, and a warning goes out within the hour of its crossing). The timer never
 * keeps the process alive; an error is logged and the next round tries again.
 */
export function startSeatMeter(opts: {
  warningDays: number;
  intervalMs?: number;
  log: { warn(obj: object, msg: string): void };
}): { stop(): void } {
  const round = () =>
    runSeatMeter(new Date(), opts.warningDays).catch((err: unknown) =>
      opts.log.warn({ err }, 'The seat meter could not run; trying again at the next round'),
    );
  void round();
  const timer = setInterval(round, opts.intervalMs ?? 3_600_000);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
