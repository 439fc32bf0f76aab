/** The surface of passkeys/: what other features and the app may import from it. */
export {
  type ChallengePurpose,
  type ChallengeStore,
  type PendingChallenge,
  CHALLENGE_MS,
  takeChallenge,
} from './challenges';
export { type RelyingParty, relyingParty } from './relying-party';
export {
  type PasskeyView,
  MAX_PASSKEYS,
  accountOfAnswer,
  authenticationOptions,
  countPasskeys,
  hasPasskeys,
  listPasskeys,
  registerPasskey,
  registrationOptions,
  removeOwnPasskey,
  removePasskeyAsAdmin,
  renamePasskey,
  signInWithPasskey,
  verifyPasskey,
} from './passkeys';
