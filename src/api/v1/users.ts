/**
 * Users over REST: create (contactless unless a contact is given), read, search with keyset pages,
 * patch. Qualification (contact, upgrade, downgrade, activation) is in qualification.ts. Each handler
 * validates, calls one domain service (the same ones as the admin pages), and serialises.
 */
import type { Router } from 'express';
import { createUser, findUserOr404, userDetails, editUser, searchUsers, decodeCursor } from '../../users';
import { setUserActive } from '../../qualification';
import { defaultProfileId } from '../../roles';
import { ValidationError } from '../../shared/errors';
import { apiContext } from '../bearer';
import { parseInput } from '../validate';
import { newUserBody, userListQuery, userPatchBody } from '../schemas';
import { userSerializer } from '../serializers';
import { V1 } from './paths';
import { inviteNewUser, resendInvitation, endAllSessionsAsAdmin } from '../../account';
import { MSG } from '../../shared/messages';

export function userRoutes(router: Router): void {
  router.post(V1.users, async (req, res) => {
    const { sendInvitation, ...body } = parseInput(newUserBody, req.body);
    const ctx = apiContext(res);
    const user = await createUser({ ...body, profileId: body.profileId ?? (await defaultProfileId()) }, ctx);
    await inviteNewUser(user, { password: body.password, sendInvitation }, ctx);
    const serialize = await userSerializer();
    res.status(201).location(`/api/v1/users/${user._id}`).json(serialize(user));
  });

  router.post(V1.userInvitation, async (req, res) => {
    const user = await resendInvitation(String(req.params.id), apiContext(res));
    res.status(202).json((await userSerializer())(user));
  });

  router.delete(V1.userSessions, async (req, res) => {
    await endAllSessionsAsAdmin(String(req.params.id), apiContext(res));
    res.status(204).end();
  });

  router.get(V1.users, async (req, res) => {
    const q = parseInput(userListQuery, req.query);
    if (q.cursor && !decodeCursor(q.cursor))
      throw new ValidationError(MSG.fieldsNeedAttention, { cursor: 'Use the nextCursor of a previous page.' });
    const page = await searchUsers(
      apiContext(res).actor,
      {
        q: q.q,
        username: q.username,
        email: q.email,
        contactless: q.contactless,
        licenseId: q.license,
        profileId: q.profile,
        siteId: q.site,
        active: q.active,
      },
      q.cursor,
      q.limit ?? 50,
    );
    const serialize = await userSerializer();
    res.json({ records: page.records.map(serialize), nextCursor: page.nextCursor });
  });

  router.get(V1.user, async (req, res) => {
    const { user } = await userDetails(String(req.params.id), apiContext(res).actor);
    res.json((await userSerializer())(user));
  });

  router.patch(V1.user, async (req, res) => {
    const { isActive, ...edits } = parseInput(userPatchBody, req.body);
    const ctx = apiContext(res);
    const id = String(req.params.id);
    // Deactivating oneself is refused; doing it first means the refusal comes before any other write.
    const self = ctx.actor.id.toHexString() === id.toLowerCase();
    if (isActive !== undefined && self) await setUserActive(id, isActive, ctx);
    if (Object.keys(edits).length) await editUser(id, edits, ctx);
    else await userDetails(id, ctx.actor); // a patch with nothing to change still needs the right to see the user
    if (isActive !== undefined && !self) await setUserActive(id, isActive, ctx);
    res.json((await userSerializer())(await findUserOr404(id)));
  });
}
