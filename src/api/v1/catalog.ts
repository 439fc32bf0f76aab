/** Profiles, licenses (with seats; total seats can be changed), contacts and sites. Lists are { records }. */
import type { Router } from 'express';
import { listProfiles } from '../../domain/profiles';
import { changeTotalSeats, listLicenses } from '../../domain/licenses';
import { listSites } from '../../domain/sites';
import { viewContact } from '../../domain/contacts';
import { apiContext } from '../bearer';
import { parseInput } from '../validate';
import { licensePatchBody } from '../schemas';
import { serializeContact, serializeLicense, serializeProfile, serializeSite } from '../serializers';
import { V1 } from './paths';

export function catalogRoutes(router: Router): void {
  router.get(V1.profiles, async (_req, res) => {
    res.json({ records: (await listProfiles()).map((r) => serializeProfile(r.profile, r.license)) });
  });

  router.get(V1.licenses, async (_req, res) => {
    res.json({ records: (await listLicenses()).map(serializeLicense) });
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
    res.json({ records: (await listSites()).map(serializeSite) });
  });
}
