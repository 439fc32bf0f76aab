/**
 * The one rule for comparing usernames: surrounding spaces are dropped and case is ignored. Stored
 * usernames are kept in this form (the model lower-cases them), so sign-in, search, throttling and
 * provisioning must normalise what they were sent the same way before comparing.
 */
export function normaliseUsername(value: string): string {
  return value.trim().toLowerCase();
}
