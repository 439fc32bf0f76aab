/**
 * The queue's weights are plain rules: the score of each combination of signals, the predicates over a
 * user agreeing with it, and the moment the clock alone changes a stored score.
 */
import {
  evaluateSignals,
  isCompanyDomain,
  scoreOf,
  SIGNAL_RULES,
  type Signals,
} from '../../../src/qualification/qualification-signals';

const none: Signals = {
  emailVerified: false,
  contactEmail: false,
  accountDomain: false,
  signedInRecently: false,
  registeredRecently: false,
};
const now = new Date('2030-06-30T12:00:00Z');
const daysAgo = (d: number) => new Date(now.getTime() - d * 86_400_000);

it.each([
  [{}, 0, []],
  [{ emailVerified: true }, 25, ['Email verified (+25)']],
  [
    { contactEmail: true, accountDomain: true },
    55,
    ['Email matches an existing contact (+35)', "Email domain matches an existing account's domain (+20)"],
  ],
  [
    { signedInRecently: true, registeredRecently: true },
    20,
    ['Signed in during the last 30 days (+15)', 'Registered in the last 30 days (+5)'],
  ],
  [
    { emailVerified: true, contactEmail: true, accountDomain: true, signedInRecently: true, registeredRecently: true },
    100,
    expect.any(Array),
  ],
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

it('evaluateSignals computes the signals and score of scoreOf, and when a time-based signal ends', () => {
  const inputs = { now, contactEmails: new Set(['a@acme.example']), accountDomains: new Set(['acme.example']) };
  const users = [
    { email: 'a@acme.example', emailVerifiedAt: daysAgo(1), lastLoginAt: daysAgo(2), createdAt: daysAgo(3) },
    { email: 'b@other.example', emailVerifiedAt: null, lastLoginAt: daysAgo(31), createdAt: daysAgo(400) },
    { email: 'c@acme.example', lastLoginAt: null, createdAt: daysAgo(29) },
  ];
  const out = users.map((u) => evaluateSignals(u, inputs));
  expect(out.map((d) => d.signals)).toEqual([
    { contactEmail: true, emailVerified: true, accountDomain: true, signedInRecently: true, registeredRecently: true },
    none,
    { ...none, accountDomain: true, registeredRecently: true },
  ]);
  for (const d of out) expect(d.score).toBe(scoreOf(d.signals).score);
  expect(out.map((d) => d.score)).toEqual([100, 0, 25]);
  // The registration three days ago ends first (in 27 days, before the sign-in's 28); nothing
  // time-based holds for the second user.
  expect(out.map((d) => d.changesAt)).toEqual([daysAgo(-27), null, daysAgo(-1)]);
});

it('a signal ends strictly after now, so a score recomputed at its end is not stale again at once', () => {
  const inputs = { now, contactEmails: new Set<string>(), accountDomains: new Set<string>() };
  const exactly30 = evaluateSignals({ email: 'x@y.example', createdAt: daysAgo(30), lastLoginAt: null }, inputs);
  expect(exactly30.signals.registeredRecently).toBe(false);
  expect(exactly30.changesAt).toBeNull();
});
