/**
 * A site's look on its pages: its name and logo in the header, and its colours through a stylesheet of
 * its own (/s/<slug>/brand.css: CSS custom properties that public/css/portal.css reads), since the CSP
 * forbids inline styles. The stylesheet and logo addresses carry the site's last change, so a browser
 * caches them and still sees a new version at once.
 */
import type { Response, Router } from 'express';
import type { SiteRecord } from '../data/models';
import { logoOf, textColourOn } from './branding';
import { NotFoundError } from '../shared/errors';

const versionOf = (site: SiteRecord) => (site.updatedAt ? new Date(site.updatedAt).getTime().toString(36) : '0');

export function brandLocals(site: SiteRecord, res: Response): void {
  const b = site.branding;
  const base = `/s/${site.slug}`;
  res.locals.brandName = site.name;
  res.locals.brandStylesheet = b?.primaryColor || b?.headerColor ? `${base}/brand.css?v=${versionOf(site)}` : null;
  res.locals.brandLogo = b?.logo ? `${base}/logo?v=${versionOf(site)}` : (b?.logoUrl ?? null);
}

/** The stylesheet: only validated #rrggbb values reach it (src/sites/branding.ts). */
export function brandCss(site: SiteRecord): string {
  const b = site.branding;
  const lines: string[] = [];
  if (b?.primaryColor) lines.push(`--accent: ${b.primaryColor};`, `--accent-fg: ${textColourOn(b.primaryColor)};`);
  if (b?.headerColor) lines.push(`--topbar-bg: ${b.headerColor};`, `--topbar-fg: ${textColourOn(b.headerColor)};`);
  return `/* ${site.slug} */\n:root {\n  ${lines.join('\n  ')}\n}\n`;
}

/** Registered before the routes that may redirect (sign-in, two-factor set-up): a page's styles always load. */
export function brandingRoutes(site: Router): void {
  site.get('/brand.css', (_req, res) => {
    res.type('text/css').set('Cache-Control', 'public, max-age=86400').send(brandCss(res.locals.site!));
  });
  site.get('/logo', async (_req, res) => {
    const logo = await logoOf(res.locals.site!.slug);
    if (!logo) throw new NotFoundError(res.locals.t('error.nothingHere'));
    // Only image types recognised from their bytes are stored; the CSP keeps the file inert even if opened directly.
    res
      .type(logo.contentType)
      .set({ 'Cache-Control': 'public, max-age=86400', 'Content-Security-Policy': "default-src 'none'; sandbox" })
      .send(logo.data);
  });
}
