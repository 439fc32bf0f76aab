/** Relative and exact times (time-format.ts) and the country of an IP (place.ts, offline database). */
import { describeWhen, exactTime, relativeTime } from '../../../src/account/time-format';
import { placeOf } from '../../../src/account/place';

const now = new Date('2026-12-05T17:00:00Z');
const ago = (ms: number) => new Date(now.getTime() - ms);

it('says how long ago in words, in the largest fitting unit', () => {
  expect(relativeTime(ago(3_000), now)).toBe('now');
  expect(relativeTime(ago(30_000), now)).toBe('30 seconds ago');
  expect(relativeTime(ago(5 * 60_000), now)).toBe('5 minutes ago');
  expect(relativeTime(ago(3 * 3_600_000), now)).toBe('3 hours ago');
  expect(relativeTime(ago(24 * 3_600_000), now)).toBe('yesterday');
  expect(relativeTime(ago(10 * 86_400_000), now)).toBe('10 days ago');
  expect(relativeTime(ago(90 * 86_400_000), now)).toBe('3 months ago');
  expect(relativeTime(ago(800 * 86_400_000), now)).toBe('2 years ago');
});

it("gives the exact time in the person's time zone, and UTC for a zone that does not exist", () => {
  expect(exactTime(now, 'Europe/Paris')).toBe('5 Dec 2026, 18:00 CET');
  expect(exactTime(now, 'Asia/Tokyo')).toBe('6 Dec 2026, 02:00 GMT+9');
  expect(exactTime(now, 'Nowhere/Atlantis')).toBe('5 Dec 2026, 17:00 UTC');
  expect(describeWhen(ago(3 * 3_600_000), 'GMT', now)).toEqual({
    iso: '2026-12-05T14:00:00.000Z',
    relative: '3 hours ago',
    exact: '5 Dec 2026, 14:00 UTC',
  });
});

it('names the country of a public IPv4 or IPv6 address, and no place for private or broken ones', () => {
  expect(placeOf('81.2.69.142')).toBe('United Kingdom');
  expect(placeOf('::ffff:8.8.8.8')).toBe('United States');
  expect(placeOf('2001:4860:4860::8888')).toBe('United States');
  for (const ip of ['127.0.0.1', '10.1.2.3', '192.168.0.1', '::1', 'not-an-ip', '', null])
    expect(placeOf(ip)).toBe('Unknown place');
});

it('words the relative time and the place in the page language', () => {
  expect(describeWhen(ago(3 * 3_600_000), 'Asia/Tokyo', now, 'ja')).toEqual({
    iso: '2026-12-05T14:00:00.000Z',
    relative: '3 時間前',
    exact: exactTime(ago(3 * 3_600_000), 'Asia/Tokyo', 'ja'),
  });
  expect(describeWhen(ago(3 * 3_600_000), 'Asia/Tokyo', now, 'ja').exact).toMatch(/^2026年12月5日 23:00 JST$/);
  expect(placeOf('81.2.69.142', 'ja')).toBe('イギリス');
  expect(placeOf('10.1.2.3', 'ja')).toBe('不明な場所');
});
