/**
 * The connected apps pages of the admin area (Manage Sites): the list with a create form, an app's page
 * (edit, new secret, delete after a confirmation). A secret is rendered once in the answer that made it,
 * never through a flash, so it never sits in the session store.
 */
import { Router, type Request, type Response } from 'express';
import { formRoute } from '../http/error-writer';
import { csrfProtected } from '../http/csrf';
import { ADMIN, actorOf, ctxOf, field, fieldList, firstUse, flash, newFormNonce, typedField } from '../admin/routes';
import { listSites } from '../sites';
import { lifecycleSettings } from '../shared/lifecycle-settings';
import { OIDC_MOUNT } from './mount';
import { APP_SCOPES, type ConnectedAppDoc } from './connected-app.model';
import {
  createConnectedApp,
  deleteConnectedApp,
  findConnectedApp,
  listConnectedApps,
  rotateConnectedAppSecret,
  updateConnectedApp,
  type AppInput,
} from './connected-apps';

const lines = (value: string) =>
  value
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter(Boolean);

function appInput(req: Request): Omit<AppInput, 'type'> {
  return {
    name: field(req, 'name'),
    siteId: field(req, 'siteId'),
    redirectUris: lines(field(req, 'redirectUris')),
    postLogoutRedirectUris: lines(field(req, 'postLogoutRedirectUris')),
    scopes: fieldList(req, 'scopes'),
    firstParty: field(req, 'firstParty') === 'yes',
    backchannelLogoutUri: field(req, 'backchannelLogoutUri') || null,
  };
}

/** What the form shows: the app as stored, or what was typed when a change was refused. */
function formValues(req: Request, res: Response, app?: ConnectedAppDoc): Record<string, unknown> {
  if (res.locals.error) {
    const typed = (n: string) => typedField(req, n);
    return {
      name: typed('name'),
      siteId: typed('siteId'),
      redirectUris: typed('redirectUris'),
      postLogoutRedirectUris: typed('postLogoutRedirectUris'),
      backchannelLogoutUri: typed('backchannelLogoutUri'),
      firstParty: typed('firstParty') === 'yes',
      type: typed('type'),
      scopes: (req.body as Record<string, unknown>)?.scopes ?? [],
    };
  }
  if (!app) return { scopes: ['openid', 'email', 'profile'], type: 'confidential', firstParty: true };
  return {
    name: app.name,
    siteId: String(app.site),
    redirectUris: app.redirectUris.join('\n'),
    postLogoutRedirectUris: app.postLogoutRedirectUris.join('\n'),
    backchannelLogoutUri: app.backchannelLogoutUri ?? '',
    firstParty: app.firstParty,
    type: app.type,
    scopes: app.scopes,
  };
}

export function adminAppsRouter(): Router {
  const issuer = () => `${lifecycleSettings().publicUrl}${OIDC_MOUNT}`;
  const router = csrfProtected(Router());
  const common = async (res: Response) => ({
    sites: (await listSites(actorOf(res))).map((s) => ({ value: String(s._id), label: s.name })),
    scopeChoices: APP_SCOPES,
    issuer: issuer(),
    error: res.locals.error ?? null,
    fieldErrors: res.locals.fieldErrors ?? {},
  });

  const listPage = async (req: Request, res: Response) =>
    res.render('admin/apps', {
      title: 'Connected apps',
      apps: await listConnectedApps(actorOf(res)),
      nonce: newFormNonce(),
      values: formValues(req, res),
      ...(await common(res)),
    });
  const appPage = async (req: Request, res: Response, app?: ConnectedAppDoc) => {
    const found = app ?? (await findConnectedApp(String(req.params.id), actorOf(res)));
    res.render('admin/app', {
      title: `Connected app ${found.name}`,
      app: found,
      values: formValues(req, res, found),
      ...(await common(res)),
    });
  };

  router.get(ADMIN.apps, (req, res) => listPage(req, res));
  router.post(
    ADMIN.apps,
    formRoute(
      (req) => (r) => listPage(req, r),
      async (req, res) => {
        if (!firstUse(req, field(req, '_once'))) {
          flash(
            req,
            'ok',
            'That app was already created; its secret was shown only once. Give it a new secret on its page if you need one.',
          );
          res.redirect(303, ADMIN.apps);
          return;
        }
        const { app, secret } = await createConnectedApp(
          { ...appInput(req), type: field(req, 'type') === 'public' ? 'public' : 'confidential' },
          ctxOf(req, res),
        );
        res.locals.flash = {
          kind: 'ok',
          text: secret
            ? `App "${app.name}" created. Copy its secret now: it is shown only once.`
            : `App "${app.name}" created. It is public: it signs in with PKCE and has no secret.`,
          ...(secret ? { secret } : {}),
        };
        res.status(201);
        await appPage(req, res, app);
      },
    ),
  );
  router.get(`${ADMIN.apps}/:id`, (req, res) => appPage(req, res));
  router.post(
    `${ADMIN.apps}/:id`,
    formRoute(
      (req) => (r) => appPage(req, r),
      async (req, res) => {
        const app = await updateConnectedApp(String(req.params.id), appInput(req), ctxOf(req, res));
        flash(req, 'ok', `App "${app.name}" saved.`);
        res.redirect(303, `${ADMIN.apps}/${app._id}`);
      },
    ),
  );
  router.post(`${ADMIN.apps}/:id/secret`, async (req, res) => {
    const { app, secret } = await rotateConnectedAppSecret(String(req.params.id), ctxOf(req, res));
    res.locals.flash = {
      kind: 'ok',
      text: `New secret for "${app.name}": copy it now, it is shown only once. The old one no longer works.`,
      secret,
    };
    await appPage(req, res, app);
  });
  router.get(`${ADMIN.apps}/:id/delete`, async (req, res) => {
    const app = await findConnectedApp(String(req.params.id), actorOf(res));
    const heading = `Delete the connected app "${app.name}"?`;
    res.render('admin/confirm', {
      title: heading,
      heading,
      button: 'Delete app',
      action: `${ADMIN.apps}/${app._id}/delete`,
      back: `${ADMIN.apps}/${app._id}`,
      consequence: `People can no longer sign in to "${app.name}" through the portal, and every token issued to it stops working at once. This can't be undone.`,
    });
  });
  router.post(`${ADMIN.apps}/:id/delete`, async (req, res) => {
    const app = await findConnectedApp(String(req.params.id), actorOf(res));
    await deleteConnectedApp(String(app._id), ctxOf(req, res));
    flash(req, 'ok', `App "${app.name}" deleted.`);
    res.redirect(303, ADMIN.apps);
  });
  return router;
}
