/**
 * The admin pages of community pages: /admin/community lists a site's pages and creates one,
 * /admin/community/<id> edits or removes one (Manage Licenses or Manage Profiles and Permission Sets,
 * checked by the rules). Registered by the admin router (src/admin/settings.ts) after its sign-in guard.
 */
import { Router, type Request, type Response } from 'express';
import { formRoute } from '../http/error-writer';
import { readForm, formList, formText, formOptional } from '../http/form-input';
import { actorOf, ctxOf, flash, queryString } from '../admin/routes';
import { csrfProtected } from '../http/csrf';
import {
  authoringChoices,
  createCommunityPage,
  deleteCommunityPage,
  listCommunityPages,
  parseLinkLines,
  updateCommunityPage,
  viewCommunityPage,
  type CommunityPageInput,
} from './index';

export const COMMUNITY_ADMIN = { list: '/admin/community' } as const;

const PAGE_FORM = {
  siteId: formOptional(24),
  title: formText(),
  text: formText(),
  links: formText(),
  licenseIds: formList(),
  profileIds: formList(),
};

function pageInput(body: unknown): { siteId: string; input: CommunityPageInput } {
  const f = readForm(body, PAGE_FORM);
  return {
    siteId: f.siteId ?? '',
    input: {
      title: f.title as string,
      text: f.text as string,
      links: parseLinkLines(f.links as string),
      licenseIds: f.licenseIds,
      profileIds: f.profileIds,
    },
  };
}

/** What the form shows again after a refusal: what was typed, as typed. */
function typed(req: Request) {
  const b = (req.body && typeof req.body === 'object' ? req.body : {}) as Record<string, unknown>;
  const list = (v: unknown) => (Array.isArray(v) ? v.map(String) : typeof v === 'string' ? [v] : []);
  const text = (v: unknown) => (typeof v === 'string' ? v : '');
  return {
    title: text(b.title),
    text: text(b.text),
    links: text(b.links),
    licenseIds: list(b.licenseIds),
    profileIds: list(b.profileIds),
  };
}

export function adminCommunityRouter(): Router {
  const router = csrfProtected(Router());

  const listPage = async (req: Request, res: Response) => {
    const actor = actorOf(res);
    const choices = await authoringChoices(actor);
    const wanted = queryString(req, 'site') || (typeof req.body?.siteId === 'string' ? req.body.siteId : '');
    const site = choices.sites.find((s) => String(s._id) === wanted) ?? choices.sites[0];
    const pages = site ? await listCommunityPages(actor, String(site._id)) : [];
    res.render('admin/community', {
      title: 'Community pages',
      ...choices,
      site,
      pages,
      P: COMMUNITY_ADMIN,
      values: res.locals.error ? typed(req) : { title: '', text: '', links: '', licenseIds: [], profileIds: [] },
      error: res.locals.error ?? null,
      fieldErrors: res.locals.fieldErrors ?? {},
    });
  };

  const editPage = async (req: Request, res: Response) => {
    const actor = actorOf(res);
    const page = await viewCommunityPage(actor, String(req.params.id));
    const choices = await authoringChoices(actor);
    res.render('admin/community-page', {
      title: `Community page: ${page.title}`,
      ...choices,
      page,
      site: choices.sites.find((s) => s._id.equals(page.site)),
      P: COMMUNITY_ADMIN,
      values: res.locals.error
        ? typed(req)
        : {
            title: page.title,
            text: page.text ?? '',
            links: (page.links ?? []).map((l) => `${l.label} | ${l.url}`).join('\n'),
            licenseIds: (page.audience?.licenses ?? []).map(String),
            profileIds: (page.audience?.profiles ?? []).map(String),
          },
      error: res.locals.error ?? null,
      fieldErrors: res.locals.fieldErrors ?? {},
    });
  };

  router.get(COMMUNITY_ADMIN.list, listPage);
  router.post(
    COMMUNITY_ADMIN.list,
    formRoute(
      (req) => (r: Response) => listPage(req, r),
      async (req, res) => {
        const { siteId, input } = pageInput(req.body);
        const page = await createCommunityPage(siteId, input, ctxOf(req, res));
        flash(req, 'ok', `Community page "${page.title}" created.`);
        res.redirect(303, `${COMMUNITY_ADMIN.list}?site=${page.site}`);
      },
    ),
  );
  router.get(`${COMMUNITY_ADMIN.list}/:id`, editPage);
  router.post(
    `${COMMUNITY_ADMIN.list}/:id`,
    formRoute(
      (req) => (r: Response) => editPage(req, r),
      async (req, res) => {
        const page = await updateCommunityPage(String(req.params.id), pageInput(req.body).input, ctxOf(req, res));
        flash(req, 'ok', `Community page "${page.title}" saved.`);
        res.redirect(303, `${COMMUNITY_ADMIN.list}?site=${page.site}`);
      },
    ),
  );
  router.post(`${COMMUNITY_ADMIN.list}/:id/delete`, async (req, res) => {
    const page = await viewCommunityPage(actorOf(res), String(req.params.id));
    await deleteCommunityPage(String(req.params.id), ctxOf(req, res));
    flash(req, 'ok', `Community page "${page.title}" removed.`);
    res.redirect(303, `${COMMUNITY_ADMIN.list}?site=${page.site}`);
  });

  return router;
}
