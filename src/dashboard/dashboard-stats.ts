/**
 * Figures for the admin dashboard, computed by aggregation in the database. Every admin may open the
 * dashboard; user figures need Manage Internal Users and seat figures Manage Licenses (null without).
 */
import { AuditEventModel, LicenseModel, UserModel } from '../data/models';
import { trusted } from 'mongoose';
import type { Actor } from '../access';

export interface DashboardStats {
  registrationsPerDay: { day: string; count: number }[];
  contactless: number;
  qualified: number;
  internal: number;
  /**
   * Change over the last seven days, per headline: contactless users registered (and still contactless),
   * users qualified (a contact added or associated) less those downgraded, internal users created.
   */
  weekChange: { contactless: number; qualified: number; internal: number };
  seats: { name: string; used: number; total: number }[];
}

export async function dashboardFor(
  actor: Actor,
  now: Date = new Date(),
): Promise<{ users: DashboardStats | null; seats: DashboardStats['seats'] | null }> {
  const full =
    actor.permissions.manageInternalUsers || actor.permissions.manageLicenses ? await dashboardStats(now) : null;
  return {
    users: actor.permissions.manageInternalUsers ? full : null,
    seats: actor.permissions.manageLicenses ? full!.seats : null,
  };
}

export async function dashboardStats(now: Date = new Date(), days = 30): Promise<DashboardStats> {
  const since = new Date(now.getTime() - (days - 1) * 86_400_000);
  since.setUTCHours(0, 0, 0, 0);
  const perDay = await UserModel.aggregate<{ _id: string; count: number }>([
    { $match: { createdAt: trusted({ $gte: since }), userType: trusted({ $ne: 'internal' }) } },
    { $group: { _id: { $dateToString: { format: '%Y-%m-%d', date: '$createdAt' } }, count: { $sum: 1 } } },
    { $sort: { _id: 1 } },
  ]);
  const byDay = new Map(perDay.map((d) => [d._id, d.count]));
  const registrationsPerDay = Array.from({ length: days }, (_, i) => {
    const day = new Date(since.getTime() + i * 86_400_000).toISOString().slice(0, 10);
    return { day, count: byDay.get(day) ?? 0 };
  });
  const [kinds] = await UserModel.aggregate<{
    contactless: { n: number }[];
    qualified: { n: number }[];
    internal: { n: number }[];
  }>([
    {
      $facet: {
        contactless: [{ $match: { userType: { $ne: 'internal' }, contact: null } }, { $count: 'n' }],
        qualified: [{ $match: { userType: { $ne: 'internal' }, contact: { $ne: null } } }, { $count: 'n' }],
        internal: [{ $match: { userType: 'internal' } }, { $count: 'n' }],
      },
    },
  ]);
  const licenses = await LicenseModel.find().sort({ name: 1 }).lean();
  const weekAgo = new Date(now.getTime() - 7 * 86_400_000);
  const week = trusted({ $gt: weekAgo, $lte: now });
  const recent = { createdAt: week };
  const [newContactless, newInternal, qualifiedEvents, downgradedEvents] = await Promise.all([
    UserModel.countDocuments({ ...recent, userType: trusted({ $ne: 'internal' }), contact: null }),
    UserModel.countDocuments({ ...recent, userType: 'internal' }),
    AuditEventModel.countDocuments({
      at: week,
      action: trusted({ $in: ['user.contact_added', 'user.contact_associated'] }),
    }),
    AuditEventModel.countDocuments({ at: week, action: 'user.downgraded' }),
  ]);
  return {
    weekChange: { contactless: newContactless, qualified: qualifiedEvents - downgradedEvents, internal: newInternal },
    registrationsPerDay,
    contactless: kinds?.contactless[0]?.n ?? 0,
    qualified: kinds?.qualified[0]?.n ?? 0,
    internal: kinds?.internal[0]?.n ?? 0,
    seats: licenses.map((l) => ({ name: l.name, used: l.usedSeats, total: l.totalSeats })),
  };
}

/** "+5 this week", "−2 this week", "No change this week". */
export function weekChangeText(n: number): string {
  return n === 0 ? 'No change this week' : `${n > 0 ? '+' : '\u2212'}${Math.abs(n)} this week`;
}
