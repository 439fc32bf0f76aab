/**
 * WebAuthn challenges are kept server-side (in the session, through this small interface so the rules
 * need no Express) and used once: taking one removes it, whatever the outcome, so a replayed answer finds
 * nothing to match. Each is bound to what it was made for (registering, signing in, the second step) and,
 * for registering and the second step, to the user; it lasts five minutes.
 */
export type ChallengePurpose = 'register' | 'sign-in' | 'second-factor';

export interface PendingChallenge {
  challenge: string;
  purpose: ChallengePurpose;
  userId?: string;
  at: number;
}

export interface ChallengeStore {
  put(pending: PendingChallenge): void;
  /** Returns the stored challenge and forgets it (used once). */
  take(): PendingChallenge | undefined;
}

export const CHALLENGE_MS = 5 * 60_000;

/** The challenge when it is for `purpose` (and `userId`) and not expired; null otherwise. Removes it either way. */
export function takeChallenge(
  store: ChallengeStore,
  purpose: ChallengePurpose,
  userId: string | undefined,
  now: number,
): string | null {
  const pending = store.take();
  if (!pending || pending.purpose !== purpose || now - pending.at > CHALLENGE_MS || now < pending.at) return null;
  if (userId !== undefined && pending.userId !== userId) return null;
  return pending.challenge;
}
