/**
 * The dashboard's figures and its registrations chart: each headline's change over seven days (the clock
 * is a parameter), readable date labels, gridlines at round values and the today mark.
 */
import { startTestApp, type TestApp } from '../../helpers/app';
import { makeAdmin } from '../../helpers/admin';
import { AuditEventModel, LicenseModel, ProfileModel, UserModel } from '../../../src/data/models';
import { dashboardStats, weekChangeText } from '../../../src/dashboard/dashboard-stats';
import { barChart, niceTicks, shortDay } from '../../../src/dashboard/charts';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp('unit-dashboard');
});
afterAll(() => t.stop());

const DAY = 86_400_000;
const NOW = new Date('2024-11-23T15:00:00Z');

async function external(n: number, createdAt: Date, contact: boolean) {
  const profile = (await ProfileModel.findOne({ name: 'External Identity User' }).lean())!;
  const license = (await LicenseModel.findOne({ name: 'External Identity' }).lean())!;
  for (let i = 0; i < n; i++) {
    const id = `${createdAt.getTime()}-${contact}-${i}`;
    await UserModel.collection.insertOne({
      lastName: `U${id}`,
      email: `u${id}@example.com`,
      username: `u${id}@example.com`,
      alias: 'u',
      communityNickname: `u${id}`,
      profile: profile._id,
      license: license._id,
      userType: 'customer',
      contact: contact ? profile._id : null,
      isActive: true,
      createdAt,
      updatedAt: createdAt,
    });
  }
}

describe('dashboard stats', () => {
  it('counts each headline and its change over the last seven days', async () => {
    await makeAdmin(); // an internal user created now, after NOW: not in NOW's week
    await external(3, new Date(NOW.getTime() - 2 * DAY), false); // registered this week, still contactless
    await external(2, new Date(NOW.getTime() - 20 * DAY), false); // registered before
    await external(1, new Date(NOW.getTime() - 20 * DAY), true); // qualified
    const at = (days: number) => new Date(NOW.getTime() - days * DAY);
    await AuditEventModel.insertMany([
      { at: at(1), action: 'user.contact_added', channel: 'admin' },
      { at: at(2), action: 'user.contact_associated', channel: 'admin' },
      { at: at(3), action: 'user.downgraded', channel: 'admin' },
      { at: at(9), action: 'user.contact_added', channel: 'admin' },
    ]);
    const stats = await dashboardStats(NOW);
    expect(stats.contactless).toBe(5);
    expect(stats.qualified).toBe(1);
    expect(stats.internal).toBe(1);
    expect(stats.weekChange).toEqual({ contactless: 3, qualified: 1, internal: 0 });
    expect(stats.registrationsPerDay).toHaveLength(30);
    expect(stats.registrationsPerDay[29]).toEqual({ day: '2024-11-23', count: 0 });
    expect(stats.registrationsPerDay[27]).toEqual({ day: '2024-11-21', count: 3 });
    // Seven days later the registrations are last week's.
    expect((await dashboardStats(new Date(NOW.getTime() + 7 * DAY))).weekChange.contactless).toBe(0);
  });

  it('words a change', () => {
    expect(weekChangeText(5)).toBe('+5 this week');
    expect(weekChangeText(-2)).toBe('\u22122 this week');
    expect(weekChangeText(0)).toBe('No change this week');
  });
});

describe('registrations chart', () => {
  it('labels days as people read them', () => {
    expect(shortDay('2024-11-23')).toBe('Nov 23');
    expect(shortDay('2025-01-05')).toBe('Jan 5');
    expect(shortDay('not a day')).toBe('not a day');
  });

  it('puts gridlines at round values', () => {
    expect(niceTicks(0)).toEqual([0, 1]);
    expect(niceTicks(3)).toEqual([0, 1, 2, 3]);
    expect(niceTicks(7)).toEqual([0, 2, 4, 6, 8]);
    expect(niceTicks(130)).toEqual([0, 50, 100, 150]);
  });

  it('draws labels counted back from today, gridlines and a today mark, with no inline style or script', () => {
    const days = Array.from({ length: 30 }, (_, i) => new Date(Date.UTC(2024, 9, 25 + i)).toISOString().slice(0, 10));
    const svg = barChart(
      days.map((d, i) => ({ label: shortDay(d), value: i % 4 })),
      'Registrations per day, last 30 days',
      { todayLast: true },
    );
    const labels = [...svg.matchAll(/<text class="axis" x="[\d.]+" y="\d+" text-anchor="middle">([^<]+)<\/text>/g)].map(
      (m) => m[1],
    );
    expect(labels).toEqual(['Oct 26', 'Nov 2', 'Nov 9', 'Nov 16', 'Nov 23']);
    expect((svg.match(/<line class="grid-line"/g) ?? []).length).toBe(4); // 0, 1, 2, 3
    expect(svg).toContain('<text class="today-label"');
    expect(svg).toMatch(
      /<line class="today-mark"[^>]*\/><text class="today-label"[^>]*>Today<\/text><rect class="bar bar-today"/,
    );
    expect(svg).toContain('<desc id="c-reg-d">Oct 25 to Nov 23: ');
    expect(svg).not.toMatch(/style=|<script|on[a-z]+=/i);
  });
});
