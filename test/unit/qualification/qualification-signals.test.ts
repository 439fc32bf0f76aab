/**
 * The queue's weights are plain rules: the score of each combination of signals, and the database
 * expression (run here by mingo, the aggregation library the embedded engine uses) agreeing with it.
 */
import { Aggregator } from 'mingo';
import { isCompanyDomain, scoreOf, signalStages, SIGNAL_RULES, type Signals } from '../../../src/qualification/qualification-signals';

const none: Signals = { emailVerified: false, contactEmail: false, accountDomain: false, signedInRecently: false, registeredRecently: false };
const now = new Date('2030-06-30T12:00:00Z');
const daysAgo = (d: number) => new Date(now.getTime() - d * 86_400_000);

it.each([
  [{}, 0, []],
  [{ emailVerified: true }, 25, ['Email verified (+25)']],
  [{ contactEmail: true, accountDomain: true }, 55, ['Email matches an existing contact (+35)', "Email domain matches an existing account's domain (+20)"]],
  [{ signedInRecently: true, registeredRecently: true }, 20, ['Signed in during the last 30 days (+15)', 'Registered in the last 30 days (+5)']],
  [{ emailVerified: true, contactEmail: true, accountDomain: true, signedInRecently: true, registeredRecently: true }, 100, expect.any(Array)],
])('signals %j score %i with their reasons', (held, score, reasons) => {
  expect(scoreOf({ ...none, ...held })).toEqual({ score, reasons });
});

it('weights add up to 100 and each signal appears once', () => {
  expect(SIGNAL_RULES.reduce((s, r) => s + r.weight, 0)).toBe(100);
  expect(new Set(SIGNAL_RULES.map((r) => r.name)).size).toBe(Object.keys(none).length);
});

it('public mail domains never count as a company domain', () => {
  expect(isCompanyDomain('gmail.com')).toBe(false);
  expect(isCompanyDomain('GMAIL.COM')).toBe(false);
  expect(isCompanyDomain('acme.example')).toBe(true);
  expect(isCompanyDomain('')).toBe(false);
});

it('the database expression computes the same signals and score as scoreOf', () => {
  const docs = [
    { _id: 1, email: 'a@acme.example', emailVerifiedAt: daysAgo(1), lastLoginAt: daysAgo(2), createdAt: daysAgo(3), matchedContacts: [{ _id: 9 }] },
    { _id: 2, email: 'b@other.example', emailVerifiedAt: null, lastLoginAt: daysAgo(31), createdAt: daysAgo(400), matchedContacts: [] },
    { _id: 3, email: 'c@acme.example', lastLoginAt: null, createdAt: daysAgo(29), matchedContacts: [] },
  ];
  const out = new Aggregator(signalStages({ now, accountDomains: ['acme.example'] })).run(docs) as unknown as { _id: number; signals: Signals; score: number }[];
  expect(out.map((d) => d.signals)).toEqual([
    { contactEmail: true, emailVerified: true, accountDomain: true, signedInRecently: true, registeredRecently: true },
    none,
    { ...none, accountDomain: true, registeredRecently: true },
  ]);
  for (const d of out) expect(d.score).toBe(scoreOf(d.signals).score);
  expect(out.map((d) => d.score)).toEqual([100, 0, 25]);
});
