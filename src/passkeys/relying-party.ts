/**
 * Who the portal is to an authenticator: the rpID is the host of the public base URL (PUBLIC_URL) and the
 * only origin a ceremony is accepted from is that URL's origin. Both come from the configuration, never
 * from the request's Host header, so a request through another name cannot make the portal accept a
 * passkey made for (or phished by) another site.
 */
import { lifecycleSettings } from '../shared/lifecycle-settings';

export interface RelyingParty {
  rpID: string;
  origin: string;
}

export function relyingParty(publicUrl: string = lifecycleSettings().publicUrl): RelyingParty {
  const url = new URL(publicUrl);
  return { rpID: url.hostname, origin: url.origin };
}
