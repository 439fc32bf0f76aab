/**
 * Where an IP address is, as a country name, for the account page's sessions and history and for the
 * security notices. It uses geoip-country: an offline database shipped inside the npm package and
 * republished by its maintainer as the upstream data changes (the version is the build date), so a
 * lookup never leaves the machine. Country only: geoip-lite's city database costs about 110 MB of heap
 * in every process that loads it (measured: 112 MB, 150 ms), this one about 20 MB (31 ms), loaded on
 * the first lookup. Private, loopback and unknown addresses are "Unknown place".
 */
import geoip from 'geoip-country';

export const UNKNOWN_PLACE = 'Unknown place';

/** The country of `ip` ("United Kingdom"), or UNKNOWN_PLACE. */
export function placeOf(ip: string | null | undefined): string {
  if (!ip) return UNKNOWN_PLACE;
  // Express reports IPv4 clients of a dual-stack socket as ::ffff:1.2.3.4.
  const address = ip.startsWith('::ffff:') ? ip.slice(7) : ip;
  try {
    return geoip.lookup(address)?.name ?? UNKNOWN_PLACE;
  } catch {
    return UNKNOWN_PLACE;
  }
}
