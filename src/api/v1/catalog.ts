/** Licenses (with seats; total seats can be changed), contacts and sites (members, page audiences). Lists are { records }. */
import type { Router } from 'express';
import { changeTotalSeats, listLicenses, viewContact } from '../../qualification';
import { listSites, setPageAudience, setSiteMembers } from '../../sites';
import { apiContext } from '../bearer';
import { parseInput } from '../validate';
import { licensePatchBody, pageAudienceBody, siteMembersBody } from '../schemas';
import { serializeContact, serializeLicense, serializeSite } from '../serializers';
import { V1 } from './paths';

export function catalogRoutes(router: Router): void {
  router.get(V1.licenses, async (_req, res) => {
    res.json({ records: (await listLicenses(apiContext(res).actor)).map(serializeLicense) });
  });

  router.patch(V1.license, async (req, res) => {
    const { totalSeats } = parseInput(licensePatchBody, req.body);
    const license = await changeTotalSeats(String(req.params.id), totalSeats, apiContext(res));
    res.json(serializeLicense(license!));
  });

  router.get(V1.contact, async (req, res) => {
    const { contact, account, userId } = await viewContact(String(req.params.id), apiContext(res).actor);
    res.json(serializeContact(contact, account, userId));
  });

  router.get(V1.sites, async (_req, res) => {
    res.json({ records: (await listSites(apiContext(res).actor)).map(serializeSite) });
  });

  router.put(V1.siteMembers, async (req, res) => {
    const body = parseInput(siteMembersBody, req.body);
    res.json(serializeSite(await setSiteMembers(String(req.params.id), body, apiContext(res))));
  });

  router.put(V1.sitePageAudience, async (req, res) => {
    const body = parseInput(pageAudienceBody, req.body);
    res.json(
      serializeSite(await setPageAudience(String(req.params.id), String(req.params.page), body, apiContext(res))),
    );
  });
}
