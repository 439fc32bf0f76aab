/**
 * Password hashing and policy.
 * Hashing: argon2id with OWASP's minimum (m=19456 KiB, t=2, p=1); a hash made with weaker parameters
 * is upgraded at the next successful sign-in (needsRehash).
 * Policy, in the spirit of NIST SP 800-63B: a minimum length, no composition rules, and a strength
 * estimate (zxcvbn-ts) that rejects common, guessable passwords and ones built from the user's own data.
 */
import argon2 from 'argon2';
import type { ZxcvbnFactory } from '@zxcvbn-ts/core';
import { MSG } from '../shared/messages';
import { compactDictionaries, requireDataOnce } from './compact-dictionaries';

export const ARGON2_PARAMS = Object.freeze({ type: argon2.argon2id, memoryCost: 19456, timeCost: 2, parallelism: 1 });
export const PASSWORD_MIN_LENGTH = 12;
export const PASSWORD_MAX_LENGTH = 256;
/** zxcvbn score 0-4; 3 is "safely unguessable: moderate protection from offline slow-hash scenario". */
export const PASSWORD_MIN_SCORE = 3;

/**
 * The strength estimator, built on first use: its dictionaries hold ~8 MB of heap once compacted
 * (./compact-dictionaries.ts; ~23 MB as zxcvbn builds them), which code that never checks a password (the bulk ingest thread, CLI tools) should not carry. The server warms it
 * at start (warmPasswordPolicy) so the first registration does not wait for it.
 */
let estimator: ZxcvbnFactory | undefined;
function strength(): ZxcvbnFactory {
  if (!estimator) {
    const { ZxcvbnFactory } = require('@zxcvbn-ts/core') as typeof import('@zxcvbn-ts/core');
    const common = requireDataOnce<typeof import('@zxcvbn-ts/language-common')>('@zxcvbn-ts/language-common');
    const en = requireDataOnce<typeof import('@zxcvbn-ts/language-en')>('@zxcvbn-ts/language-en');
    estimator = new ZxcvbnFactory({
      dictionary: { ...common.dictionary, ...en.dictionary },
      graphs: common.adjacencyGraphs,
      translations: en.translations,
      // The default (100) tries every l33t reading of a password and made one check cost as much as an
      // argon2 hash (55 ms against 10 ms here); 4 substitutions still see p4ssw0rd and l3tm31n.
      l33tMaxSubstitutions: 4,
    });
    compactDictionaries(estimator);
  }
  return estimator;
}

/** Loads the strength estimator now rather than on the first password checked. */
export function warmPasswordPolicy(): void {
  strength();
}

export function hashPassword(password: string): Promise<string> {
  return argon2.hash(password, ARGON2_PARAMS);
}

export async function verifyPassword(hash: string, password: string): Promise<boolean> {
  try {
    return await argon2.verify(hash, password);
  } catch {
    return false; // a malformed stored hash never signs anyone in
  }
}

export function needsRehash(hash: string): boolean {
  return argon2.needsRehash(hash, ARGON2_PARAMS);
}

/**
 * A hash of a random password, verified when the username is unknown so that the answer takes about
 * as long as a wrong password for a real user (no user enumeration by timing).
 */
let dummyHash: Promise<string> | undefined;
export async function verifyAgainstDummy(password: string): Promise<false> {
  dummyHash ??= hashPassword(`dummy-${Math.random()}-${Date.now()}`);
  await verifyPassword(await dummyHash, password);
  return false;
}

/** Returns a message telling the person what to do, or null when the password is acceptable. */
export function passwordProblem(password: string, userInputs: string[] = []): string | null {
  if (password.length < PASSWORD_MIN_LENGTH) {
    return MSG.passwordTooShort(PASSWORD_MIN_LENGTH);
  }
  if (password.length > PASSWORD_MAX_LENGTH) return MSG.atMostCharacters(PASSWORD_MAX_LENGTH);
  // Feed the person's own details, and their parts, so "alice.smith2024!" is seen as guessable.
  const inputs = userInputs
    .flatMap((v) => [v, ...v.split(/[@.\s_+-]+/)])
    .map((v) => v.trim().toLowerCase())
    .filter((v) => v.length >= 3);
  const result = strength().check(password.slice(0, 100), inputs);
  if (result.score < PASSWORD_MIN_SCORE) {
    return MSG.passwordTooCommon;
  }
  // What is left once the person's own details are taken out must stand on its own:
  // "alice.smith2024" for Alice Smith is really just "2024".
  let rest = password.toLowerCase();
  for (const token of [...inputs].sort((a, b) => b.length - a.length)) rest = rest.split(token).join('');
  if (rest !== password.toLowerCase() && strength().check(rest.slice(0, 100)).score < PASSWORD_MIN_SCORE) {
    return MSG.passwordFromYou;
  }
  return null;
}
