/** Community pages over REST, with the admin pages' rules and permission checks (src/community/). Lists are { records }. */
import type { Router } from 'express';
import {
  createCommunityPage,
  deleteCommunityPage,
  listCommunityPages,
  updateCommunityPage,
  viewCommunityPage,
} from '../../community';
import type { CommunityPage } from '../../data/models';
import { apiContext } from '../bearer';
import { parseInput } from '../validate';
import { communityPagePatchBody, communityPageQuery, newCommunityPageBody } from '../schemas';
import { V1 } from './paths';

function serializeCommunityPage(p: CommunityPage) {
  return {
    id: String(p._id),
    siteId: String(p.site),
    title: p.title,
    text: p.text ?? '',
    links: (p.links ?? []).map((l) => ({ label: l.label, url: l.url })),
    audience: {
      licenseIds: (p.audience?.licenses ?? []).map(String),
      profileIds: (p.audience?.profiles ?? []).map(String),
    },
    updatedAt: p.updatedAt,
  };
}

export function communityRoutes(router: Router): void {
  router.get(V1.communityPages, async (req, res) => {
    const { siteId } = parseInput(communityPageQuery, req.query);
    res.json({ records: (await listCommunityPages(apiContext(res).actor, siteId)).map(serializeCommunityPage) });
  });

  router.post(V1.communityPages, async (req, res) => {
    const { siteId, ...input } = parseInput(newCommunityPageBody, req.body);
    const page = await createCommunityPage(
      siteId,
      { text: '', links: [], licenseIds: [], profileIds: [], ...input },
      apiContext(res),
    );
    res.status(201).json(serializeCommunityPage(page));
  });

  router.get(V1.communityPage, async (req, res) => {
    res.json(serializeCommunityPage(await viewCommunityPage(apiContext(res).actor, String(req.params.id))));
  });

  router.patch(V1.communityPage, async (req, res) => {
    const input = parseInput(communityPagePatchBody, req.body);
    res.json(serializeCommunityPage(await updateCommunityPage(String(req.params.id), input, apiContext(res))));
  });

  router.delete(V1.communityPage, async (req, res) => {
    await deleteCommunityPage(String(req.params.id), apiContext(res));
    res.status(204).end();
  });
}
