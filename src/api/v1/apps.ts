/**
 * Connected apps (OpenID Connect clients) over REST, with the rules of the admin pages (src/oidc/
 * connected-apps.ts: Manage Sites, audited). A confidential app's secret is in the answer to create and
 * to POST …/secret only.
 */
import type { Router } from 'express';
import {
  createConnectedApp,
  deleteConnectedApp,
  findConnectedApp,
  listConnectedApps,
  rotateConnectedAppSecret,
  updateConnectedApp,
} from '../../oidc';
import { apiContext } from '../bearer';
import { parseInput } from '../validate';
import { appPatchBody, newAppBody } from '../schemas';
import { serializeApp } from '../serializers';
import { V1 } from './paths';

export function appRoutes(router: Router): void {
  router.get(V1.apps, async (_req, res) => {
    res.json({ records: (await listConnectedApps(apiContext(res).actor)).map((a) => serializeApp(a)) });
  });
  router.post(V1.apps, async (req, res) => {
    const body = parseInput(newAppBody, req.body);
    const { app, secret } = await createConnectedApp(body, apiContext(res));
    res.status(201).location(`/api/v1/apps/${app._id}`).json(serializeApp(app, secret));
  });
  router.get(V1.app, async (req, res) => {
    res.json(serializeApp(await findConnectedApp(String(req.params.id), apiContext(res).actor)));
  });
  router.patch(V1.app, async (req, res) => {
    const body = parseInput(appPatchBody, req.body);
    res.json(serializeApp(await updateConnectedApp(String(req.params.id), body, apiContext(res))));
  });
  router.post(V1.appSecret, async (req, res) => {
    const { app, secret } = await rotateConnectedAppSecret(String(req.params.id), apiContext(res));
    res.json(serializeApp(app, secret));
  });
  router.delete(V1.app, async (req, res) => {
    await deleteConnectedApp(String(req.params.id), apiContext(res));
    res.status(204).end();
  });
}
