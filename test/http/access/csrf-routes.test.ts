/**
 * CSRF is declared where routes are registered (csrfProtected in src/http/csrf.ts). This walks every
 * route the admin and site routers register and fails when a state-changing one (POST, PUT, PATCH,
 * DELETE) does not run the CSRF check first; then proves over HTTP that the check refuses, for a form
 * route (the form again, nothing written) and for a plain POST route (403, nothing written).
 */
import request from 'supertest';
import { Router } from 'express';
import { startTestApp, type TestApp } from '../../helpers/app';
import { adminAgent, makeAdmin } from '../../helpers/admin';
import { csrfFrom, GOOD_PASSWORD, registerGuest } from '../../helpers/forms';
import { AuditEventModel, UserModel } from '../../../src/data/models';
import { adminRouter } from '../../../src/admin';
import { siteRouter } from '../../../src/account/site-routes';
import { csrfProtected, isCsrfCheck } from '../../../src/http/csrf';
import { createLogger } from '../../../src/logger';
import type { AppDeps } from '../../../src/http/deps';

interface Layer {
  route?: { path: string; methods: Record<string, boolean>; stack: { handle: unknown }[] };
  handle: unknown;
}

const STATE_CHANGING = new Set(['post', 'put', 'patch', 'delete']);

/** "post /admin/users" for every state-changing route whose first handler is not the CSRF check. */
function unprotectedRoutes(router: Router): { checked: number; missing: string[] } {
  let checked = 0;
  const missing: string[] = [];
  const walk = (stack: Layer[]) => {
    for (const layer of stack) {
      if (layer.route) {
        for (const m of Object.keys(layer.route.methods).filter((m) => STATE_CHANGING.has(m))) {
          checked++;
          if (!isCsrfCheck(layer.route.stack[0]?.handle)) missing.push(`${m} ${layer.route.path}`);
        }
      } else if ((layer.handle as { stack?: Layer[] }).stack) {
        walk((layer.handle as { stack: Layer[] }).stack);
      }
    }
  };
  walk((router as unknown as { stack: Layer[] }).stack);
  return { checked, missing };
}

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp('csrf-routes');
  await makeAdmin();
});
afterAll(() => t.stop());

describe('every state-changing form route declares the CSRF check', () => {
  test('the guard itself: a POST route registered on a plain router is reported, one on a csrfProtected router is not', () => {
    const plain = Router();
    plain.post('/x', (_req, res) => {
      res.end();
    });
    expect(unprotectedRoutes(plain)).toEqual({ checked: 1, missing: ['post /x'] });
    const guarded = csrfProtected(Router());
    guarded.post('/x', (_req, res) => {
      res.end();
    });
    guarded.delete('/y', (_req, res) => {
      res.end();
    });
    expect(unprotectedRoutes(guarded)).toEqual({ checked: 2, missing: [] });
  });

  test('the admin and site routers register none without it', () => {
    const deps = { config: t.config, db: t.db, logger: createLogger('silent') } as AppDeps;
    const admin = unprotectedRoutes(adminRouter(deps));
    const site = unprotectedRoutes(siteRouter(deps));
    expect(admin.missing).toEqual([]);
    expect(site.missing).toEqual([]);
    // Not vacuous: the admin area and the sites have dozens of forms between them.
    expect(admin.checked).toBeGreaterThan(30);
    expect(site.checked).toBeGreaterThan(10);
  });
});

describe('the declared check refuses over HTTP', () => {
  test('a form route without a token shows the form again with the expiry message and writes nothing', async () => {
    const agent = request.agent(t.app);
    await agent.get('/s/portal/register');
    const res = await agent
      .post('/s/portal/register')
      .type('form')
      .send({ firstName: 'A', lastName: 'B', email: 'declared@example.com', password: GOOD_PASSWORD });
    expect(res.status).toBe(403);
    expect(res.text).toContain('Your session expired; check and submit again.');
    expect(res.text).toContain('declared@example.com');
    expect(await UserModel.countDocuments({ username: 'declared@example.com' })).toBe(0);
  });

  test('an admin action without a token shows the user page again and the user stays active', async () => {
    await registerGuest(t.app, { email: 'stays-active@example.com' });
    const user = (await UserModel.findOne({ username: 'stays-active@example.com' }).lean())!;
    const admin = await adminAgent(t.app);
    const audits = await AuditEventModel.countDocuments();
    const refused = await admin.post(`/admin/users/${user._id}/deactivate`).type('form').send({});
    expect(refused.status).toBe(403);
    expect(refused.text).toContain('Your session expired; check and submit again.');
    expect((await UserModel.findById(user._id).lean())!.isActive).toBe(true);
    expect(await AuditEventModel.countDocuments()).toBe(audits);
    // The same request with the page's token goes through: the refusal was the token's.
    const token = csrfFrom((await admin.get(`/admin/users/${user._id}`)).text);
    await admin.post(`/admin/users/${user._id}/deactivate`).type('form').send({ _csrf: token });
    expect((await UserModel.findById(user._id).lean())!.isActive).toBe(false);
  });

  test('a POST route that is not a form (site log out) without a token is refused and the user stays signed in', async () => {
    const { agent } = await registerGuest(t.app, { email: 'stays-in@example.com' });
    const refused = await agent.post('/s/portal/logout').type('form').send({});
    expect(refused.status).toBe(403);
    expect(refused.text).toContain('Your form expired or was sent from elsewhere.');
    const account = await agent.get('/s/portal/account');
    expect(account.status).toBe(200);
    expect(account.text).toContain('stays-in@example.com');
  });
});
