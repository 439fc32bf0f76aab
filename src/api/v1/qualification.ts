/**
 * Qualifying users over REST, with the rules and permission checks of the admin pages
 * (src/qualification/qualification.ts): add a contact (new, with its account) or associate an existing one,
 * upgrade to a community profile (takes a seat), downgrade to contactless (frees it), (de)activate.
 * Each answers the user as it is afterwards.
 */
import type { Response, Router } from 'express';
import {
  addContactAndAssociate,
  associateContact,
  downgradeUser,
  matchOrAddContact,
  setUserActive,
  upgradeUser,
} from '../../qualification';
import { findUserOr404 } from '../../users';
import { apiContext } from '../bearer';
import { parseInput } from '../validate';
import { contactBody, downgradeBody, emptyBody, upgradeBody } from '../schemas';
import { userSerializer } from '../serializers';
import { V1 } from './paths';

async function answerUser(res: Response, id: string, status = 200) {
  res.status(status).json((await userSerializer())(await findUserOr404(id)));
}

export function qualificationRoutes(router: Router): void {
  router.post(V1.userContact, async (req, res) => {
    const id = String(req.params.id);
    const body = parseInput(contactBody, req.body);
    const ctx = apiContext(res);
    const { contactId, matchBy, lastName, accountId, accountName, ...rest } = body;
    const input =
      lastName === undefined ? null : { ...rest, lastName, ...(accountId ? { accountId } : { accountName }) };
    if (contactId) await associateContact(id, contactId, ctx);
    else if (matchBy === 'email') await matchOrAddContact(id, input, ctx);
    else await addContactAndAssociate(id, input!, ctx);
    await answerUser(res, id);
  });

  router.post(V1.userUpgrade, async (req, res) => {
    const { profileId } = parseInput(upgradeBody, req.body);
    const user = await upgradeUser(String(req.params.id), profileId, apiContext(res));
    await answerUser(res, String(user._id));
  });

  router.post(V1.userDowngrade, async (req, res) => {
    const { profileId } = parseInput(downgradeBody, req.body);
    const user = await downgradeUser(String(req.params.id), profileId, apiContext(res));
    await answerUser(res, String(user._id));
  });

  router.post(V1.userActivate, async (req, res) => {
    parseInput(emptyBody, req.body);
    const user = await setUserActive(String(req.params.id), true, apiContext(res));
    await answerUser(res, String(user._id));
  });

  router.post(V1.userDeactivate, async (req, res) => {
    parseInput(emptyBody, req.body);
    const user = await setUserActive(String(req.params.id), false, apiContext(res));
    await answerUser(res, String(user._id));
  });
}
