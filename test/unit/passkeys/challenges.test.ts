/** The challenge rules (challenges.ts) and the relying party (relying-party.ts): pure, no database. */
import {
  CHALLENGE_MS,
  takeChallenge,
  type ChallengeStore,
  type PendingChallenge,
} from '../../../src/passkeys/challenges';
import { relyingParty } from '../../../src/passkeys/relying-party';

function store(initial?: PendingChallenge): ChallengeStore & { held(): PendingChallenge | undefined } {
  let slot = initial;
  return {
    put: (p) => {
      slot = p;
    },
    take: () => {
      const p = slot;
      slot = undefined;
      return p;
    },
    held: () => slot,
  };
}

const at = 1_000_000;

it('gives a challenge once: the second take finds nothing', () => {
  const s = store({ challenge: 'abc', purpose: 'sign-in', at });
  expect(takeChallenge(s, 'sign-in', undefined, at + 1)).toBe('abc');
  expect(takeChallenge(s, 'sign-in', undefined, at + 2)).toBeNull();
});

it('refuses a challenge made for another purpose, and forgets it all the same', () => {
  const s = store({ challenge: 'abc', purpose: 'register', userId: 'u1', at });
  expect(takeChallenge(s, 'sign-in', undefined, at)).toBeNull();
  expect(s.held()).toBeUndefined();
});

it('binds a registration or second-step challenge to its user', () => {
  expect(
    takeChallenge(store({ challenge: 'c', purpose: 'register', userId: 'u1', at }), 'register', 'u2', at),
  ).toBeNull();
  expect(
    takeChallenge(store({ challenge: 'c', purpose: 'second-factor', userId: 'u1', at }), 'second-factor', 'u1', at),
  ).toBe('c');
});

it('lets a challenge expire after five minutes, and refuses one from the future', () => {
  expect(
    takeChallenge(store({ challenge: 'c', purpose: 'sign-in', at }), 'sign-in', undefined, at + CHALLENGE_MS),
  ).toBe('c');
  expect(
    takeChallenge(store({ challenge: 'c', purpose: 'sign-in', at }), 'sign-in', undefined, at + CHALLENGE_MS + 1),
  ).toBeNull();
  expect(takeChallenge(store({ challenge: 'c', purpose: 'sign-in', at }), 'sign-in', undefined, at - 1)).toBeNull();
});

it("takes the rpID from the public URL's host and the origin with its port, never a path", () => {
  expect(relyingParty('https://id.example.com/portal')).toEqual({
    rpID: 'id.example.com',
    origin: 'https://id.example.com',
  });
  expect(relyingParty('http://localhost:3000')).toEqual({ rpID: 'localhost', origin: 'http://localhost:3000' });
});
