/**
 * Sites by slug, kept in memory for a few seconds. Every site page (the form, the sign-in, the page after
 * it) starts with its site; without the cache that is a database round trip per request, the largest
 * share of a login page's cost. Sites change rarely and are few.
 *
 * Freshness: any write to a site through mongoose in this process (the admin console, the API, the
 * migrations) empties the cache at once (model middleware below). Other instances behind the load
 * balancer see a change when their entry expires: after at most SITE_CACHE_SECONDS (0 turns the cache
 * off). The record is a plain object, deeply frozen, shared by every request: no hydration per request
 * (a mongoose document per page view cost more than the rest of the lookup), and no request can alter
 * what another reads (a write to it throws).
 */
import { DEFAULTS } from '../config';
import { SiteModel, siteWriteListeners, type SiteRecord } from '../data/models';

interface Entry {
  site: SiteRecord | null;
  until: number;
}

let ttlMs = DEFAULTS.siteCacheSeconds * 1000;
let now: () => number = Date.now;
const entries = new Map<string, Entry>();
/** Counts the times the cache was emptied: a read that started before a write must not store its answer. */
let generation = 0;

/** Sets how long an entry lives (and, for tests, the clock). */
export function configureSiteCache(opts: { seconds: number; clock?: () => number }): void {
  ttlMs = opts.seconds * 1000;
  now = opts.clock ?? Date.now;
  forgetSites();
}

export function forgetSites(): void {
  generation++;
  entries.clear();
}

/** The site with this slug (frozen), or null; read from the database at most once per TTL. */
export async function siteBySlug(slug: string): Promise<SiteRecord | null> {
  const hit = entries.get(slug);
  if (hit && hit.until > now()) return hit.site;
  const started = generation;
  // The logo's bytes stay in the database: only its own route (sites/branding.ts) reads them.
  const raw = await SiteModel.findOne({ slug }).select('-branding.logo.data').lean();
  const site = raw && (deepFreeze(raw) as unknown as SiteRecord);
  if (ttlMs > 0 && started === generation) {
    if (entries.size > 1000) entries.clear(); // slugs come from URLs: never let unknown ones pile up
    entries.set(slug, { site, until: now() + ttlMs });
  }
  return site;
}

/** Freezes plain objects and arrays all the way down (ObjectIds and dates are left as they are). */
function deepFreeze<T>(v: T): T {
  if (Array.isArray(v) || (v && typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype)) {
    for (const x of Object.values(v as object)) deepFreeze(x);
    Object.freeze(v);
  }
  return v;
}

// Writes through mongoose in this process are seen at once (the site model's middleware calls this).
siteWriteListeners.add(forgetSites);
