/**
 * The HTTP side of privacy/: the account page's "Download your data" and "Delete your account", the
 * admin user page's export and deletion, and GET /api/v1/users/{id}/export, POST …/deletion.
 */
import type { Request, RequestHandler, Response, Router } from 'express';
import type { AppDeps } from '../http/deps';
import { secretFor } from '../config';
import { formRoute } from '../http/error-writer';
import { keepTyped, readStrings } from '../http/forms';
import { originOf, signOut } from '../signin/routes';
import { apiContext } from '../api';
import { ADMIN, ctxOf, flash } from '../admin/routes';
import {
  deletionPreviewAs,
  exportFileName,
  exportOwnData,
  exportUserDataAs,
  requestDeletionAs,
  requestOwnDeletion,
  type DeletionSettings,
  type UserDataExport,
} from './index';
import { PROFILE_FIELDS } from '../account';

function sendDownload(res: Response, data: UserDataExport, username: string, now: Date): void {
  res.set('Cache-Control', 'no-store');
  res.attachment(exportFileName(username, now));
  res.type('application/json').send(JSON.stringify(data, null, 2));
}

const deletionSettings = (deps: AppDeps): DeletionSettings => ({
  graceMs: deps.config.deletion.graceMs,
  pseudonymKey: secretFor(deps.config, 'audit-pseudonym'),
});

/** On a site's router, behind its sign-in. */
export function sitePrivacyRoutes(site: Router, deps: AppDeps, requireSignIn: RequestHandler): void {
  // The account page says how long the grace period is.
  site.use((req, res, next) => {
    if (req.path.startsWith('/account'))
      res.locals.deletionGraceDays = Math.round(deps.config.deletion.graceMs / 86_400_000);
    next();
  });
  site.post('/account/export', requireSignIn, async (req, res) => {
    const now = deps.now();
    sendDownload(res, await exportOwnData(req.siteUser!, originOf(req), now), req.siteUser!.username, now);
  });

  const deleteForm = (req: Request) => ({
    view: 'site/account',
    locals: { title: 'Your account', saved: null, values: keepTyped(req.siteUser, PROFILE_FIELDS) },
  });
  site.post(
    '/account/delete',
    requireSignIn,
    formRoute(deleteForm, async (req, res) => {
      const { deletePassword, deleteCode } = readStrings(req.body, [], ['deletePassword', 'deleteCode'], 1024);
      const user = req.siteUser!;
      const throttles = { recheck: deps.recheckThrottle, code: deps.secondFactorThrottle };
      const { dueAt } = await requestOwnDeletion(
        user,
        { password: deletePassword, code: deleteCode },
        throttles,
        originOf(req),
        deletionSettings(deps),
        deps.now(),
      );
      // Every session ended with the request; this browser signs out too, and is told how to change their mind.
      await signOut(req, res, 'site');
      res.status(202).render('site/deletion-requested', {
        title: res.locals.t('deletion.requestedTitle'),
        dueAt,
        email: user.email,
      });
    }),
  );
}

/** On the admin area's router (behind requireAdmin). */
export function adminPrivacyRoutes(router: Router, deps: AppDeps): void {
  router.post(`${ADMIN.users}/:id/export`, async (req, res) => {
    const now = deps.now();
    const data = await exportUserDataAs(String(req.params.id), ctxOf(req, res), now);
    sendDownload(res, data, data.profile.username, now);
  });
  // Asks first, as the other destructive actions do: a page naming who, what is kept and when (GET),
  // then the request itself (POST, with the CSRF token of that page).
  router.get(`${ADMIN.users}/:id/deletion`, async (req, res) => {
    const who = await deletionPreviewAs(String(req.params.id), ctxOf(req, res), deletionSettings(deps), deps.now());
    res.render('admin/confirm-deletion', {
      title: `Delete the account of ${who.name}?`,
      who,
      action: `${ADMIN.users}/${who.id}/deletion`,
      back: `${ADMIN.users}/${who.id}`,
    });
  });
  router.post(`${ADMIN.users}/:id/deletion`, async (req, res) => {
    const { dueAt } = await requestDeletionAs(
      String(req.params.id),
      ctxOf(req, res),
      deletionSettings(deps),
      deps.now(),
    );
    flash(
      req,
      'ok',
      `Deletion requested: they are signed out everywhere, and the account is erased on ${dueAt.toISOString().slice(0, 10)} unless they sign in before then.`,
    );
    res.redirect(303, `${ADMIN.users}/${String(req.params.id)}?deletion=requested`);
  });
}

/** On the API router (bearer token; users:read for the export, users:write for the deletion). */
export function apiPrivacyRoutes(
  router: Router,
  deps: AppDeps,
  V1: { userExport: string; userDeletion: string },
): void {
  router.get(V1.userExport, async (req, res) => {
    res.json(await exportUserDataAs(String(req.params.id), apiContext(res), deps.now()));
  });
  router.post(V1.userDeletion, async (req, res) => {
    const { requestedAt, dueAt } = await requestDeletionAs(
      String(req.params.id),
      apiContext(res),
      deletionSettings(deps),
      deps.now(),
    );
    res.status(202).json({ requestedAt, dueAt });
  });
}
