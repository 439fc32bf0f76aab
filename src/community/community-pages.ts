/**
 * Community pages: what a license or profile opens on a site. Admins holding Manage Licenses or Manage
 * Profiles and Permission Sets (the permissions that decide who holds which license and profile) author
 * them; a signed-in person of the site sees those whose audience they are in (their license or their
 * profile is listed), decided from the user as they are now. Anyone else is answered as for a page that
 * is not there or not theirs, without its title. Every change is audited.
 */
import { trusted, Types } from 'mongoose';
import {
  CommunityPageModel,
  LicenseModel,
  ProfileModel,
  SiteModel,
  type CommunityPage,
  type CommunityPageDoc,
} from '../data/models';
import { assertAnyPermission, type Actor, type RequestContext } from '../access';
import { recordAudit } from '../audit';
import { NotFoundError, ValidationError, type FieldErrors } from '../shared/errors';
import { isObjectIdString } from '../shared/ids';
import { MSG } from '../shared/messages';

export const MAX_LINKS = 20;
export const NO_SUCH_PAGE = 'No community page has this id.';

export interface PageLink {
  label: string;
  url: string;
}
export interface CommunityPageInput {
  title: string;
  text: string;
  links: PageLink[];
  licenseIds: string[];
  profileIds: string[];
}
interface Reader {
  _id: Types.ObjectId;
  license: Types.ObjectId;
  profile: Types.ObjectId;
}

export function assertMayAuthor(actor: Actor): void {
  assertAnyPermission(actor, ['manageLicenses', 'manageProfiles']);
}

/** "Label | https://..." a line (the admin form's links box) to links; a line without "|" is its own label. */
export function parseLinkLines(text: string): PageLink[] {
  return text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter(Boolean)
    .map((line) => {
      const bar = line.lastIndexOf('|');
      return bar < 0
        ? { label: line, url: line }
        : { label: line.slice(0, bar).trim(), url: line.slice(bar + 1).trim() };
    });
}

/** http and https only: a page must not link to javascript:, data: or a file. */
export function isSafeUrl(url: string): boolean {
  try {
    const u = new URL(url);
    return (u.protocol === 'http:' || u.protocol === 'https:') && !u.username && !u.password;
  } catch {
    return false;
  }
}

async function knownIds(
  model: typeof LicenseModel | typeof ProfileModel,
  ids: string[],
): Promise<Types.ObjectId[] | null> {
  if (!Array.isArray(ids) || ids.some((id) => !isObjectIdString(id))) return null;
  const unique = [...new Set(ids.map((i) => i.toLowerCase()))].map((i) => new Types.ObjectId(i));
  const found = await (model as typeof LicenseModel)
    .find({ _id: trusted({ $in: unique }) })
    .select('_id')
    .lean();
  return found.length === unique.length ? unique : null;
}

/** The input checked field by field; every refusal is named before anything is written. */
async function checked(input: CommunityPageInput) {
  const fields: FieldErrors = {};
  const title = (input.title ?? '').trim();
  const text = (input.text ?? '').trim();
  if (!title) fields.title = 'Give the page a title.';
  else if (title.length > 120) fields.title = MSG.atMostCharacters(120);
  if (text.length > 20_000) fields.text = MSG.atMostCharacters(20_000);
  const links = (input.links ?? []).map((l) => ({
    label: String(l.label ?? '').trim(),
    url: String(l.url ?? '').trim(),
  }));
  if (links.length > MAX_LINKS) fields.links = `Use at most ${MAX_LINKS} links.`;
  else if (links.some((l) => !l.label || l.label.length > 80))
    fields.links = 'Give each link a label of at most 80 characters.';
  else if (links.some((l) => l.url.length > 2000 || !isSafeUrl(l.url)))
    fields.links = 'Each link needs an address starting with https:// or http://.';
  const licenses = await knownIds(LicenseModel, input.licenseIds ?? []);
  const profiles = await knownIds(ProfileModel, input.profileIds ?? []);
  if (!licenses) fields.licenseIds = 'Choose licenses from the list.';
  if (!profiles) fields.profileIds = 'Choose profiles from the list.';
  if (licenses && profiles && !licenses.length && !profiles.length)
    fields.licenseIds = 'Choose at least one license or profile: the page is for them.';
  if (Object.keys(fields).length) throw new ValidationError(MSG.fieldsNeedAttention, fields);
  return { title, text, links, audience: { licenses: licenses!, profiles: profiles! } };
}

const summary = (p: Pick<CommunityPage, 'title' | 'audience' | 'links'>) => ({
  title: p.title,
  licenses: (p.audience?.licenses ?? []).map(String),
  profiles: (p.audience?.profiles ?? []).map(String),
  links: (p.links ?? []).length,
});

async function findSiteOr404(siteId: string) {
  const site = isObjectIdString(siteId) ? await SiteModel.findById(siteId).select('name slug').lean() : null;
  if (!site) throw new NotFoundError('No site has this id.');
  return site;
}

async function findPageOr404(id: string): Promise<CommunityPageDoc> {
  const page = isObjectIdString(id) ? await CommunityPageModel.findById(id) : null;
  if (!page) throw new NotFoundError(NO_SUCH_PAGE);
  return page;
}

/** What the admin page offers: the sites, and the licenses and profiles an audience is chosen from. */
export async function authoringChoices(actor: Actor) {
  assertMayAuthor(actor);
  const [sites, licenses, profiles] = await Promise.all([
    SiteModel.find().sort({ name: 1 }).select('name slug').lean(),
    LicenseModel.find().sort({ name: 1 }).select('name').lean(),
    ProfileModel.find().sort({ name: 1 }).select('name userType').lean(),
  ]);
  return { sites, licenses, profiles };
}

export async function listCommunityPages(actor: Actor, siteId?: string): Promise<CommunityPage[]> {
  assertMayAuthor(actor);
  const filter = siteId ? { site: (await findSiteOr404(siteId))._id } : {};
  return CommunityPageModel.find(filter).sort({ site: 1, title: 1 }).lean<CommunityPage[]>();
}

export async function viewCommunityPage(actor: Actor, id: string): Promise<CommunityPage> {
  assertMayAuthor(actor);
  return (await findPageOr404(id)).toObject() as CommunityPage;
}

export async function createCommunityPage(
  siteId: string,
  input: CommunityPageInput,
  ctx: RequestContext & { actor: Actor },
): Promise<CommunityPage> {
  assertMayAuthor(ctx.actor);
  const site = await findSiteOr404(siteId);
  const values = await checked(input);
  const page = await CommunityPageModel.create({ site: site._id, ...values, createdBy: ctx.actor.id });
  await recordAudit(ctx, {
    action: 'community_page.created',
    target: { type: 'CommunityPage', id: page._id, label: `${site.slug}: ${page.title}` },
    after: summary(page),
  });
  return page.toObject() as CommunityPage;
}

/** A change: the fields sent replace theirs, the others stay (the admin form sends them all). */
export async function updateCommunityPage(
  id: string,
  input: Partial<CommunityPageInput>,
  ctx: RequestContext & { actor: Actor },
): Promise<CommunityPage> {
  assertMayAuthor(ctx.actor);
  const page = await findPageOr404(id);
  const values = await checked({
    title: input.title ?? page.title,
    text: input.text ?? page.text ?? '',
    links: input.links ?? (page.links ?? []).map((l) => ({ label: l.label, url: l.url })),
    licenseIds: input.licenseIds ?? (page.audience?.licenses ?? []).map(String),
    profileIds: input.profileIds ?? (page.audience?.profiles ?? []).map(String),
  });
  const before = summary(page);
  page.set({ ...values, updatedBy: ctx.actor.id });
  await page.save();
  await recordAudit(ctx, {
    action: 'community_page.updated',
    target: { type: 'CommunityPage', id: page._id, label: page.title },
    before,
    after: summary(page),
  });
  return page.toObject() as CommunityPage;
}

export async function deleteCommunityPage(id: string, ctx: RequestContext & { actor: Actor }): Promise<void> {
  assertMayAuthor(ctx.actor);
  const page = await findPageOr404(id);
  await CommunityPageModel.deleteOne({ _id: page._id });
  await recordAudit(ctx, {
    action: 'community_page.deleted',
    target: { type: 'CommunityPage', id: page._id, label: page.title },
    before: summary(page),
  });
}

/** The audience rule: the reader's license or profile is listed. */
export function isInAudience(page: Pick<CommunityPage, 'audience'>, user: Reader): boolean {
  return (
    (page.audience?.licenses ?? []).some((l) => l.equals(user.license)) ||
    (page.audience?.profiles ?? []).some((p) => p.equals(user.profile))
  );
}

/** A signed-in person's Community area on a site: the pages whose audience they are in, by title. */
export async function pagesOpenTo(siteId: Types.ObjectId, user: Reader): Promise<CommunityPage[]> {
  return CommunityPageModel.find({
    site: siteId,
    $or: [{ 'audience.licenses': user.license }, { 'audience.profiles': user.profile }],
  })
    .sort({ title: 1 })
    .lean<CommunityPage[]>();
}

/**
 * One page for a signed-in person: a page of another site or no page is a 404; a page they are not in
 * the audience of is `closed` (a 403 that does not say its title, with the way to ask to join).
 */
export async function openCommunityPage(
  siteId: Types.ObjectId,
  id: string,
  user: Reader,
): Promise<{ page: CommunityPage; closed?: false } | { page?: undefined; closed: true }> {
  const page = isObjectIdString(id)
    ? await CommunityPageModel.findOne({ _id: id, site: siteId }).lean<CommunityPage>()
    : null;
  if (!page) throw new NotFoundError(NO_SUCH_PAGE);
  return isInAudience(page, user) ? { page } : { closed: true };
}
