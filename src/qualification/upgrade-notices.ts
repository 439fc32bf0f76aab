/**
 * What an upgrade tells the person: the one hook every upgrade goes through (upgradeUser, the bulk
 * action's batches; the admin page, the API and bulk runs all end in one of those two), so no path can
 * upgrade someone silently. For each user switched: a notice shown once at their next visit (the
 * Community area's pages their new license or profile opens), a mail in their language (en or ja, through
 * the mail queue), and their open "ask to become a community member" request closed (it was answered).
 */
import { trusted, type Types } from 'mongoose';
import {
  CommunityPageModel,
  JoinRequestModel,
  SiteModel,
  UpgradeNoticeModel,
  type UpgradeNotice,
} from '../data/models';
import { DEFAULT_SITE_SLUG } from '../data/seed';
import { queueMails } from '../mail';
import { lifecycleSettings } from '../shared/lifecycle-settings';

export interface UpgradedUser {
  _id: Types.ObjectId;
  email?: string | null;
  firstName?: string | null;
  lastName?: string | null;
  languageLocaleKey?: string | null;
  site?: Types.ObjectId | null;
}

interface Grant {
  _id: Types.ObjectId;
  name: string;
}

/** Where a site's Community area is (the account page links it; the mail and the notice too). */
export const communityAreaPath = (siteSlug: string): string => `/s/${siteSlug}/account/community`;

/** Titles of a site's community pages that this license or profile opens. */
async function pageTitlesOpenedBy(site: Types.ObjectId | null, license: Grant, profile: Grant): Promise<string[]> {
  if (!site) return [];
  const pages = await CommunityPageModel.find({
    site,
    $or: [{ 'audience.licenses': license._id }, { 'audience.profiles': profile._id }],
  })
    .sort({ title: 1 })
    .select('title')
    .limit(20)
    .lean();
  return pages.map((p) => p.title);
}

/** Called once per upgrade with the users it switched (after the switch and its audit). */
export async function afterUpgrade(users: UpgradedUser[], profile: Grant, license: Grant, now = new Date()) {
  if (!users.length) return;
  const ids = users.map((u) => u._id);
  await UpgradeNoticeModel.insertMany(
    users.map((u) => ({
      user: u._id,
      license: license._id,
      profile: profile._id,
      licenseName: license.name,
      profileName: profile.name,
    })),
  );
  await JoinRequestModel.updateMany(
    { user: trusted({ $in: ids }), status: 'open' },
    { $set: { status: 'closed', closedAt: now } },
  );
  const siteIds = [...new Set(users.map((u) => String(u.site ?? '')).filter(Boolean))];
  const sites = new Map(
    (
      await SiteModel.find({ _id: trusted({ $in: siteIds }) })
        .select('slug')
        .lean()
    ).map((s) => [String(s._id), s]),
  );
  const titles = new Map<string, string[]>();
  for (const id of siteIds) titles.set(id, await pageTitlesOpenedBy(sites.get(id)?._id ?? null, license, profile));
  const base = lifecycleSettings().publicUrl;
  await queueMails(
    users
      .filter((u) => u.email)
      .map((u) => {
        const slug = (u.site && sites.get(String(u.site))?.slug) || DEFAULT_SITE_SLUG;
        return {
          to: u.email!,
          template: 'upgrade-notice' as const,
          user: u._id,
          language: u.languageLocaleKey,
          siteSlug: slug,
          locals: {
            name: `${u.firstName ?? ''} ${u.lastName ?? ''}`.trim(),
            license: license.name,
            profile: profile.name,
            pages: titles.get(String(u.site ?? '')) ?? [],
            url: `${base}${communityAreaPath(slug)}`,
          },
        };
      }),
    now,
  );
}

/**
 * The person's notice not yet shown, claimed for this page view: a conditional update, so it shows
 * once even when two pages load at the same moment. Null when there is none.
 */
export async function takeUpgradeNotice(userId: Types.ObjectId, now = new Date()): Promise<UpgradeNotice | null> {
  const pending = await UpgradeNoticeModel.findOne({ user: userId, shownAt: null }).sort({ createdAt: -1 }).lean();
  if (!pending) return null;
  const claimed = await UpgradeNoticeModel.updateMany({ user: userId, shownAt: null }, { $set: { shownAt: now } });
  return claimed.modifiedCount > 0 ? (pending as UpgradeNotice) : null;
}
