/**
 * The origins of the connected apps' redirect and post-logout addresses, for the CSP's `form-action`:
 * a sign-in form (the site's login, its two-factor step, the consent page) ends in a redirect to the
 * app, and browsers check every redirect of a form's navigation against `form-action`. Read from the
 * database at most every few seconds (SITE_CACHE_SECONDS, like the sites), and at once after a change
 * made through this instance.
 */
import { ConnectedAppModel } from './connected-app.model';

let cached: string[] = [];
let readAt = -Infinity;
let reading: Promise<void> | null = null;

const originOf = (uri: string) => {
  try {
    return new URL(uri).origin;
  } catch {
    return null;
  }
};

async function read(): Promise<void> {
  const apps = await ConnectedAppModel.find().select('redirectUris postLogoutRedirectUris').lean();
  const all = apps
    .flatMap((a) => [...a.redirectUris, ...a.postLogoutRedirectUris])
    .map(originOf)
    .filter((o): o is string => Boolean(o));
  cached = [...new Set(all)].sort();
}

/** Refreshes the list when it is older than `maxAgeMs` (one read at a time), then returns it. */
export async function appOrigins(maxAgeMs: number, now: () => number = Date.now): Promise<string[]> {
  if (now() - readAt > maxAgeMs) {
    reading ??= read()
      .then(() => {
        readAt = now();
      })
      .finally(() => {
        reading = null;
      });
    await reading;
  }
  return cached;
}

/** After a change through this instance: the next request reads again. */
export function forgetAppOrigins(): void {
  readAt = -Infinity;
}
