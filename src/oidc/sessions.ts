/**
 * The provider's sessions and the portal's: signing out of the portal ends the provider session of the
 * same browser, and an app's logout (RP-initiated) ends the portal's site sign-in.
 */
import type Provider from 'oidc-provider';

/** Ends the provider session with this id (the value of its `_session` cookie); nothing if it is gone. */
export async function endProviderSession(provider: Provider, sessionId: string): Promise<void> {
  const session = await provider.Session.find(sessionId);
  if (session) await session.destroy();
}
