/**
 * A site's Community area, linked from the account page: /s/<slug>/account/community lists the community
 * pages whose audience the signed-in person is in, /account/community/<id> shows one (another page is a
 * 404, a page not theirs a 403 without its title), and /account/community/ask sends "ask to become a
 * community member". The upgrade notice (qualification's, written by every upgrade) is shown once, at
 * the next page the person opens after the upgrade.
 */
import type { Request, RequestHandler, Response, Router } from 'express';
import type { Types } from 'mongoose';
import type { AppDeps } from '../http/deps';
import { formRoute } from '../http/error-writer';
import { readStrings } from '../http/forms';
import { originOf } from '../signin/routes';
import { communityAreaPath, takeUpgradeNotice } from '../qualification';
import {
  JOIN_REASON_MAX,
  askToJoin,
  mayAskToJoin,
  openCommunityPage,
  openJoinRequestOf,
  pagesOpenTo,
  textBlocks,
} from './index';

/** Pages a person lands on (home, account, the Community area): where an upgrade notice is shown. */
const LANDING = /^\/(account(\/community(\/[0-9a-f]{24})?)?)?$/;

export function communitySiteRoutes(site: Router, deps: AppDeps, requireSignIn: RequestHandler): void {
  site.use(async (req, res, next) => {
    const user = req.siteUser;
    if (!user) return next();
    const slug = res.locals.site!.slug;
    // The account page's Community card (its link, and the button to ask when the person may).
    res.locals.communityPath = communityAreaPath(slug);
    res.locals.mayAskToJoin = mayAskToJoin(user);
    if (req.method !== 'GET' || !LANDING.test(req.path)) return next();
    // An admin logged in as the person does not use up the person's notice.
    if (req.session.site?.impersonator) return next();
    const notice = await takeUpgradeNotice(user._id, deps.now());
    if (notice) {
      const opened = (
        await pagesOpenTo(res.locals.site!._id, { _id: user._id, license: notice.license, profile: notice.profile })
      ).map((p) => ({ title: p.title, href: `${communityAreaPath(slug)}/${p._id}` }));
      res.locals.upgradeNotice = { license: notice.licenseName, profile: notice.profileName, pages: opened };
    }
    next();
  });

  const areaLocals = async (req: Request, res: Response) => {
    const user = req.siteUser!;
    const asking = mayAskToJoin(user);
    return {
      mayAsk: asking,
      openRequest: asking ? await openJoinRequestOf(user._id) : null,
      communityPath: communityAreaPath(res.locals.site!.slug),
      askPath: `${communityAreaPath(res.locals.site!.slug)}/ask`,
      reasonMax: JOIN_REASON_MAX,
      asked: req.query.asked === '1',
    };
  };

  const areaPage = async (req: Request, res: Response) => {
    const user = req.siteUser!;
    const slug = res.locals.site!.slug;
    const pages = (await pagesOpenTo(res.locals.site!._id as Types.ObjectId, user)).map((p) => ({
      title: p.title,
      href: `${communityAreaPath(slug)}/${p._id}`,
    }));
    res.render('site/community', {
      title: res.locals.t('community.title'),
      pages,
      reason: typeof req.body?.reason === 'string' ? req.body.reason.slice(0, JOIN_REASON_MAX) : '',
      ...(await areaLocals(req, res)),
    });
  };

  site.get('/account/community', requireSignIn, areaPage);

  site.post(
    '/account/community/ask',
    requireSignIn,
    formRoute(
      (req) => (r: Response) => areaPage(req, r),
      async (req, res) => {
        const { reason } = readStrings(req.body, [], ['reason'], JOIN_REASON_MAX);
        await askToJoin(req.siteUser!, res.locals.site!._id, reason ?? '', originOf(req), deps.now());
        res.redirect(303, `${communityAreaPath(res.locals.site!.slug)}?asked=1`);
      },
    ),
  );

  site.get('/account/community/:id', requireSignIn, async (req, res) => {
    const user = req.siteUser!;
    const found = await openCommunityPage(res.locals.site!._id, String(req.params.id), user);
    if (found.closed) {
      res.status(403).render('site/community-closed', {
        title: res.locals.t('community.closedTitle'),
        reason: '',
        ...(await areaLocals(req, res)),
      });
      return;
    }
    const page = found.page!;
    res.render('site/community-page', {
      title: page.title,
      communityPath: communityAreaPath(res.locals.site!.slug),
      page: { title: page.title, blocks: textBlocks(page.text ?? ''), links: page.links ?? [] },
    });
  });
}
