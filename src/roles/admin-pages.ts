/**
 * Profiles and permission sets in the admin area: list, create, clone, edit (with the version the form
 * was opened at, so a concurrent edit is refused instead of overwritten) and delete. Each action calls
 * one domain service (src/roles/profiles.ts, permission-sets.ts), which checks the permissions.
 */
import { Router, type Request, type Response } from 'express';
import { cloneProfile, createProfile, deleteProfile, findProfile, listProfiles } from './profiles';
import { updateProfile } from './profiles';
import {
  createPermissionSet,
  deletePermissionSet,
  findPermissionSet,
  listPermissionSets,
  updatePermissionSet,
} from './permission-sets';
import { listLicensesForProfiles } from '../qualification';
import { permissionNames } from '../access';
import { PERMISSIONS, PERMISSION_LABELS } from '../data/models';
import { formRoute } from '../http/error-writer';
import { ADMIN, actorOf, ctxOf, field, fieldList, flash } from '../admin/routes';
import { csrfProtected } from '../http/csrf';

const common = (res: Response) => ({
  PERMISSIONS,
  PERMISSION_LABELS,
  permissionNames,
  error: res.locals.error ?? null,
  fieldErrors: res.locals.fieldErrors ?? {},
});

export function adminRolesRouter(): Router {
  const router = csrfProtected(Router());

  const profilesPage = async (req: Request, res: Response) => {
    const actor = actorOf(res);
    res.render('admin/profiles', {
      title: 'Profiles',
      rows: await listProfiles(actor),
      licenses: actor.permissions.manageProfiles ? await listLicensesForProfiles(actor) : [],
      values: req.method === 'POST' ? req.body : {},
      ...common(res),
    });
  };
  router.get(ADMIN.profiles, (req, res) => profilesPage(req, res));
  router.post(
    ADMIN.profiles,
    formRoute(
      (req) => (r) => profilesPage(req, r),
      async (req, res) => {
        const profile = await createProfile(
          {
            name: field(req, 'name'),
            licenseId: field(req, 'licenseId'),
            userType: field(req, 'userType') || undefined,
            permissions: fieldList(req, 'permissions'),
          },
          ctxOf(req, res),
        );
        flash(req, 'ok', `Profile ${profile.name} created.`);
        res.redirect(303, ADMIN.profile(profile._id));
      },
    ),
  );

  const profilePage = async (id: string, req: Request, res: Response) => {
    const actor = actorOf(res);
    const found = await findProfile(id, actor);
    res.render('admin/profile', {
      title: found.profile.name,
      ...found,
      licenses: actor.permissions.manageProfiles ? await listLicensesForProfiles(actor) : [],
      ...common(res),
    });
  };
  router.get(`${ADMIN.profiles}/:id`, (req, res) => profilePage(String(req.params.id), req, res));
  router.post(
    `${ADMIN.profiles}/:id`,
    formRoute(
      (req) => (r) => profilePage(String(req.params.id), req, r),
      async (req, res) => {
        const id = String(req.params.id);
        await updateProfile(
          id,
          {
            name: field(req, 'name'),
            licenseId: field(req, 'licenseId') || undefined,
            permissions: fieldList(req, 'permissions'),
            version: field(req, 'version'),
          },
          ctxOf(req, res),
        );
        flash(req, 'ok', 'Profile saved.');
        res.redirect(303, ADMIN.profile(id));
      },
    ),
  );
  router.post(
    `${ADMIN.profiles}/:id/clone`,
    formRoute(
      (req) => (r) => profilePage(String(req.params.id), req, r),
      async (req, res) => {
        const id = String(req.params.id);
        const copy = await cloneProfile(id, field(req, 'name'), ctxOf(req, res));
        flash(req, 'ok', `Profile cloned as ${copy.name}.`);
        res.redirect(303, ADMIN.profile(copy._id));
      },
    ),
  );
  router.post(
    `${ADMIN.profiles}/:id/delete`,
    formRoute(
      (req) => (r) => profilePage(String(req.params.id), req, r),
      async (req, res) => {
        const id = String(req.params.id);
        await deleteProfile(id, ctxOf(req, res));
        flash(req, 'ok', 'Profile deleted.');
        res.redirect(303, ADMIN.profiles);
      },
    ),
  );

  const setsPage = async (req: Request, res: Response) => {
    res.render('admin/permission-sets', {
      title: 'Permission sets',
      sets: await listPermissionSets(actorOf(res)),
      values: req.method === 'POST' ? req.body : {},
      ...common(res),
    });
  };
  router.get(ADMIN.permissionSets, (req, res) => setsPage(req, res));
  router.post(
    ADMIN.permissionSets,
    formRoute(
      (req) => (r) => setsPage(req, r),
      async (req, res) => {
        const set = await createPermissionSet(
          {
            name: field(req, 'name'),
            description: field(req, 'description'),
            permissions: fieldList(req, 'permissions'),
          },
          ctxOf(req, res),
        );
        flash(req, 'ok', `Permission set ${set.name} created.`);
        res.redirect(303, ADMIN.permissionSet(set._id));
      },
    ),
  );

  const setPage = async (id: string, res: Response) => {
    const set = await findPermissionSet(id, actorOf(res));
    res.render('admin/permission-set', { title: set.name, set, ...common(res) });
  };
  router.get(`${ADMIN.permissionSets}/:id`, (req, res) => setPage(String(req.params.id), res));
  router.post(
    `${ADMIN.permissionSets}/:id`,
    formRoute(
      (req) => (r) => setPage(String(req.params.id), r),
      async (req, res) => {
        const id = String(req.params.id);
        await updatePermissionSet(
          id,
          {
            name: field(req, 'name'),
            description: field(req, 'description'),
            permissions: fieldList(req, 'permissions'),
            version: field(req, 'version'),
          },
          ctxOf(req, res),
        );
        flash(req, 'ok', 'Permission set saved.');
        res.redirect(303, ADMIN.permissionSet(id));
      },
    ),
  );
  router.post(
    `${ADMIN.permissionSets}/:id/delete`,
    formRoute(
      (req) => (r) => setPage(String(req.params.id), r),
      async (req, res) => {
        const id = String(req.params.id);
        await deletePermissionSet(id, ctxOf(req, res));
        flash(req, 'ok', 'Permission set deleted.');
        res.redirect(303, ADMIN.permissionSets);
      },
    ),
  );

  return router;
}
