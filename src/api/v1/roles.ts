/**
 * Profiles, permission sets and their assignment to internal users over REST, with the rules and checks
 * of the admin pages (src/roles/profiles.ts, permission-sets.ts). Edits carry the `version` they read;
 * an edit made meanwhile by someone else is a 409 concurrent_change.
 */
import type { Router } from 'express';
import { cloneProfile, createProfile, deleteProfile, findProfile, listProfiles, updateProfile } from '../../roles';
import {
  assignPermissionSet,
  createPermissionSet,
  deletePermissionSet,
  findPermissionSet,
  listPermissionSets,
  removePermissionSet,
  updatePermissionSet,
  userPermissionSets,
} from '../../roles';
import { changeInternalProfile } from '../../qualification';
import { findUserOr404 } from '../../users';
import { apiContext } from '../bearer';
import { parseInput } from '../validate';
import {
  assignmentBody,
  cloneBody,
  newPermissionSetBody,
  newProfileBody,
  permissionSetPatchBody,
  profilePatchBody,
  userProfileBody,
} from '../schemas';
import { serializePermissionSet, serializeProfile, userSerializer } from '../serializers';
import { V1 } from './paths';

export function roleRoutes(router: Router): void {
  router.get(V1.profiles, async (_req, res) => {
    res.json({
      records: (await listProfiles(apiContext(res).actor)).map((r) => serializeProfile(r.profile, r.license, r.users)),
    });
  });
  router.post(V1.profiles, async (req, res) => {
    const body = parseInput(newProfileBody, req.body);
    const profile = await createProfile(body, apiContext(res));
    const found = await findProfile(String(profile._id), apiContext(res).actor);
    res
      .status(201)
      .location(`/api/v1/profiles/${profile._id}`)
      .json(serializeProfile(found.profile, found.license, found.users));
  });
  router.get(V1.profile, async (req, res) => {
    const found = await findProfile(String(req.params.id), apiContext(res).actor);
    res.json(serializeProfile(found.profile, found.license, found.users));
  });
  router.patch(V1.profile, async (req, res) => {
    const body = parseInput(profilePatchBody, req.body);
    const updated = await updateProfile(String(req.params.id), body, apiContext(res));
    const found = await findProfile(String(updated._id), apiContext(res).actor);
    res.json(serializeProfile(found.profile, found.license, found.users));
  });
  router.delete(V1.profile, async (req, res) => {
    await deleteProfile(String(req.params.id), apiContext(res));
    res.status(204).end();
  });
  router.post(V1.profileClone, async (req, res) => {
    const { name } = parseInput(cloneBody, req.body);
    const copy = await cloneProfile(String(req.params.id), name, apiContext(res));
    const found = await findProfile(String(copy._id), apiContext(res).actor);
    res
      .status(201)
      .location(`/api/v1/profiles/${copy._id}`)
      .json(serializeProfile(found.profile, found.license, found.users));
  });

  router.get(V1.permissionSets, async (_req, res) => {
    res.json({
      records: (await listPermissionSets(apiContext(res).actor)).map((s) => serializePermissionSet(s, s.assignedUsers)),
    });
  });
  router.post(V1.permissionSets, async (req, res) => {
    const set = await createPermissionSet(parseInput(newPermissionSetBody, req.body), apiContext(res));
    res.status(201).location(`/api/v1/permission-sets/${set._id}`).json(serializePermissionSet(set, 0));
  });
  router.get(V1.permissionSet, async (req, res) => {
    res.json(serializePermissionSet(await findPermissionSet(String(req.params.id), apiContext(res).actor)));
  });
  router.patch(V1.permissionSet, async (req, res) => {
    res.json(
      serializePermissionSet(
        await updatePermissionSet(String(req.params.id), parseInput(permissionSetPatchBody, req.body), apiContext(res)),
      ),
    );
  });
  router.delete(V1.permissionSet, async (req, res) => {
    await deletePermissionSet(String(req.params.id), apiContext(res));
    res.status(204).end();
  });

  router.get(V1.userPermissionSets, async (req, res) => {
    res.json({
      records: (await userPermissionSets(String(req.params.id), apiContext(res).actor)).map((s) =>
        serializePermissionSet(s),
      ),
    });
  });
  router.post(V1.userPermissionSets, async (req, res) => {
    const { permissionSetId } = parseInput(assignmentBody, req.body);
    await assignPermissionSet(String(req.params.id), permissionSetId, apiContext(res));
    res.status(201).json({
      records: (await userPermissionSets(String(req.params.id), apiContext(res).actor)).map((s) =>
        serializePermissionSet(s),
      ),
    });
  });
  router.delete(V1.userPermissionSet, async (req, res) => {
    await removePermissionSet(String(req.params.id), String(req.params.setId), apiContext(res));
    res.status(204).end();
  });

  router.post(V1.userProfile, async (req, res) => {
    const { profileId } = parseInput(userProfileBody, req.body);
    const user = await changeInternalProfile(String(req.params.id), profileId, apiContext(res));
    res.json((await userSerializer())(await findUserOr404(user._id)));
  });
}
