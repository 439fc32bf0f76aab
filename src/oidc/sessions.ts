/**
 * The provider's sessions and the portal's: when a person's portal session ends (signing out, ending
 * sessions, a password change or reset, deactivation), their provider sessions end with it, and every app
 * signed in through such a session that registered a back-channel logout URI gets a signed logout token
 * (the provider's own Client#backchannelLogout: `sub`, `sid`, the back-channel `events` claim, no nonce),
 * as the provider's own logout (`end_session`) does. An app that fails to answer never stops the logout:
 * the failure is logged. An app's logout (RP-initiated) ends the portal's site sign-in (routes.ts).
 */
import type Provider from 'oidc-provider';
import type { SessionInstance } from 'oidc-provider';
import type { Logger } from '../logger';
import { OidcRecordModel } from './oidc-record.model';

/** The app's provider and logger, for the features that end sessions without an HTTP request in hand. */
let configured: { provider: Promise<Provider>; logger: Logger } | undefined;

export function configureProviderSessions(provider: Promise<Provider>, logger: Logger): void {
  configured = { provider, logger };
}

async function notifyApps(provider: Provider, session: SessionInstance, logger?: Logger): Promise<void> {
  const accountId = session.accountId;
  if (!accountId) return;
  await Promise.all(
    Object.keys(session.authorizations ?? {}).map(async (clientId) => {
      try {
        const client = await provider.Client.find(clientId);
        if (!client?.backchannelLogoutUri) return;
        await client.backchannelLogout(accountId, session.sidFor(clientId));
      } catch (err) {
        logger?.warn({ clientId, err: (err as Error).message }, 'Back-channel logout notice failed');
      }
    }),
  );
}

/** Ends the provider session with this id (the value of its `_session` cookie); nothing if it is gone. */
export async function endProviderSession(provider: Provider, sessionId: string, logger?: Logger): Promise<void> {
  const session = await provider.Session.find(sessionId);
  if (!session) return;
  await notifyApps(provider, session, logger ?? configured?.logger);
  await session.destroy();
}

/**
 * Ends every provider session of a user but `keep` (this browser's, when the person ends their other
 * sessions or changes their password), notifying the apps. Returns how many ended; nothing when the
 * provider is not configured (commands run without it) or could not start.
 */
export async function endProviderSessionsOf(userId: string, keep?: string | null): Promise<number> {
  if (!configured) return 0;
  const provider = await configured.provider.catch(() => undefined);
  if (!provider) return 0;
  const found = await OidcRecordModel.collection
    .find({ kind: 'Session', accountId: String(userId) }, { projection: { _id: 1 } })
    .toArray();
  let ended = 0;
  for (const record of found) {
    const id = String(record._id).slice('Session:'.length);
    if (keep && id === keep) continue;
    await endProviderSession(provider, id, configured.logger);
    ended++;
  }
  return ended;
}
