/** The addresses mails link to. A site user's links open their site; internal users' the admin area. */
import { SiteModel, type UserDoc } from '../data/models';
import { DEFAULT_SITE_SLUG } from '../data/seed';
import { lifecycleSettings } from '../shared/lifecycle-settings';

export type LinkArea = { area: 'site'; siteSlug: string } | { area: 'admin' };

export type LinkPage = 'reset' | 'welcome' | 'verify-email' | 'confirm-email';

export function linkUrl(where: LinkArea, page: LinkPage, token: string): string {
  const base = lifecycleSettings().publicUrl;
  const prefix = where.area === 'admin' ? '/admin' : `/s/${where.siteSlug}`;
  return `${base}${prefix}/${page}?token=${token}`;
}

/** Where a user's own links go when nothing else says: the admin area for staff, else their site. */
export async function homeAreaOf(user: Pick<UserDoc, 'userType' | 'site'>): Promise<LinkArea> {
  if (user.userType === 'internal') return { area: 'admin' };
  const site = user.site ? await SiteModel.findById(user.site).select('slug').lean() : null;
  return { area: 'site', siteSlug: site?.slug ?? DEFAULT_SITE_SLUG };
}
