/** The admin dashboard: user figures, charts and seats. Registered by the admin router (src/admin/index.ts) after its sign-in guard. */
import { Router } from 'express';
import { dashboardFor, weekChangeText } from './dashboard-stats';
import { barChart, donutChart, shortDay } from './charts';
import { ADMIN, actorOf } from '../admin/routes';
import { csrfProtected } from '../http/csrf';

export function adminDashboardRouter(): Router {
  const router = csrfProtected(Router());

  router.get(ADMIN.dashboard, async (_req, res) => {
    const { users: stats, seats } = await dashboardFor(actorOf(res));
    res.render('admin/dashboard', {
      title: 'Dashboard',
      stats,
      charts: {
        registrations:
          stats &&
          barChart(
            stats.registrationsPerDay.map((d) => ({ label: shortDay(d.day), value: d.count })),
            'Registrations per day, last 30 days',
            { todayLast: true },
          ),
        kinds:
          stats &&
          donutChart(
            [
              { label: 'Contactless', value: stats.contactless },
              { label: 'With contact', value: stats.qualified },
            ],
            'Contactless versus qualified users',
          ),
      },
      change: stats && {
        contactless: weekChangeText(stats.weekChange.contactless),
        qualified: weekChangeText(stats.weekChange.qualified),
        internal: weekChangeText(stats.weekChange.internal),
      },
      shortDay,
      seatRows: (seats ?? []).map((l) => {
        const unlimited = l.total >= 1_000_000;
        const share = l.total > 0 ? l.used / l.total : 1;
        return {
          ...l,
          unlimited,
          left: Math.max(0, l.total - l.used),
          percent: unlimited ? 0 : Math.min(100, Math.round(share * 100)),
          level: unlimited ? 'ok' : share >= 0.95 ? 'critical' : share >= 0.8 ? 'warning' : 'ok',
        };
      }),
    });
  });

  return router;
}
