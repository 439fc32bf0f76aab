/**
 * Where an IP address is, as a country name, for the account page's sessions and history and for the
 * security notices. It uses geoip-country: an offline database shipped inside the npm package and
 * republished by its maintainer as the upstream data changes (the version is the build date), so a
 * lookup never leaves the machine. Country only: geoip-lite's city database costs about 110 MB of heap
 * in every process that loads it (measured: 112 MB, 150 ms), this one about 10 MB (8 MB of buffers and
 * its code; 31 ms), loaded on the first lookup: the package reads its whole database when it is
 * required, so it is required here only when a place is first asked for. A process that never shows
 * sessions or sends a security notice (a sign-in-only instance, the bulk ingest thread) never carries it.
 * Private, loopback and unknown addresses are "Unknown place".
 */
import type geoipModule from 'geoip-country';
import { translator, type Language } from '../i18n';

let geoip: typeof geoipModule | undefined;
function database(): typeof geoipModule {
  // A CommonJS module without a default export: require() gives the object `import geoip from` would.
  geoip ??= require('geoip-country') as typeof geoipModule;
  return geoip;
}

export const UNKNOWN_PLACE = 'Unknown place';

function lookup(ip: string | null | undefined): { country: string; name: string } | null {
  if (!ip) return null;
  // Express reports IPv4 clients of a dual-stack socket as ::ffff:1.2.3.4.
  const address = ip.startsWith('::ffff:') ? ip.slice(7) : ip;
  try {
    return database().lookup(address) ?? null;
  } catch {
    return null;
  }
}

const regionNames = new Map<Language, Intl.DisplayNames>();

/**
 * The country of `ip` in `language` ("United Kingdom", "イギリス"), or "Unknown place" in that language.
 * English keeps the database's own names; other languages name the country code through Intl.
 */
export function placeOf(ip: string | null | undefined, language: Language = 'en'): string {
  const found = lookup(ip);
  if (!found) return language === 'en' ? UNKNOWN_PLACE : translator(language)('sessions.unknownPlace');
  if (language === 'en') return found.name;
  let names = regionNames.get(language);
  if (!names) regionNames.set(language, (names = new Intl.DisplayNames([language], { type: 'region' })));
  return names.of(found.country) ?? found.name;
}
