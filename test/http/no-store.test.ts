/**
 * Cache-Control: no-store on every page a browser must not keep: everything answered to a signed-in
 * person (site and admin), the whole admin area, the API and SCIM, and the pages behind mailed links.
 * Anonymous public pages stay cacheable (the rule is not "everything").
 */
import request from 'supertest';
import { startTestApp, type TestApp } from '../helpers/app';
import { adminAgent, makeAdmin } from '../helpers/admin';
import { postForm, registerGuest } from '../helpers/forms';
import { linkIn } from '../helpers/mail';
import { adminToken } from './api/tokens';
import { ProfileModel, UserModel } from '../../src/data/models';
import { sendInvitation, sendResetLink } from '../../src/account/recovery';
import { sendVerificationLink } from '../../src/account/verification';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp('site-no-store');
  await makeAdmin();
});
afterAll(() => t.stop());

const noStore = (res: request.Response) =>
  expect({
    path: (res as unknown as { req: { path: string } }).req.path,
    status: res.status,
    cache: res.headers['cache-control'],
  }).toMatchObject({ cache: 'no-store' });

it('sends no-store on every site page answered to a signed-in user, and none to an anonymous visitor', async () => {
  const { agent } = await registerGuest(t.app, { email: 'cache@example.com' });
  for (const path of [
    '/s/portal',
    '/s/portal/',
    '/s/portal/account',
    '/s/portal/account/two-factor',
    '/s/portal/login',
    '/s/portal/register',
    '/s/portal/forgot',
    '/s/portal/community',
    '/s/portal/nothing-here',
  ]) {
    noStore(await agent.get(path));
  }
  // A refused post (a form shown again) too.
  noStore(
    await postForm(agent, '/s/portal/account', '/s/portal/account/password', {
      currentPassword: 'wrong',
      newPassword: 'x',
    }),
  );
  for (const path of ['/s/portal', '/s/portal/login', '/s/portal/register']) {
    const res = await request(t.app).get(path);
    expect(res.status).toBe(200);
    expect(res.headers['cache-control']).toBeUndefined();
  }
});

it('keeps the account page out of the cache so Back after sign-out cannot show it', async () => {
  const { agent } = await registerGuest(t.app, { email: 'back@example.com' });
  const account = await agent.get('/s/portal/account');
  expect(account.text).toContain('back@example.com');
  noStore(account);
  await postForm(agent, '/s/portal/account', '/s/portal/logout', {});
  const after = await agent.get('/s/portal/account');
  expect(after.status).toBe(302);
});

it('sends no-store on every admin page, signed in or not', async () => {
  const agent = await adminAgent(t.app);
  const user = (await UserModel.findOne({ username: 'cache@example.com' }).lean())!;
  const profile = (await ProfileModel.findOne({ name: 'System Administrator' }).lean())!;
  const paths = [
    '/admin',
    '/admin/users',
    `/admin/users/${user._id}`,
    `/admin/users/${user._id}/deactivate`,
    '/admin/sites',
    '/admin/licenses',
    '/admin/api-tokens',
    '/admin/delegated-groups',
    '/admin/audit',
    '/admin/audit.csv',
    '/admin/profiles',
    `/admin/profiles/${profile._id}`,
    '/admin/permission-sets',
    '/admin/outbox',
    '/admin/two-factor',
    '/admin/nothing-here',
  ];
  for (const path of paths) noStore(await agent.get(path));
  for (const path of ['/admin/login', '/admin/forgot', '/admin/users']) noStore(await request(t.app).get(path));
});

it('sends no-store on the pages behind mailed links (reset, welcome, verify, confirm), site and admin', async () => {
  const user = (await UserModel.findOne({ username: 'cache@example.com' }))!;
  await sendResetLink(user, { area: 'site', siteSlug: 'portal' });
  await sendVerificationLink(user, { area: 'site', siteSlug: 'portal' });
  const staff = (await UserModel.findOne({ username: 'admin@example.com' }))!;
  await sendResetLink(staff, { area: 'admin' });
  const invited = (await UserModel.findOne({ username: 'back@example.com' }))!;
  await sendInvitation(invited);
  const links = [
    await linkIn('cache@example.com', /Reset/),
    await linkIn('cache@example.com', /Confirm/),
    await linkIn('admin@example.com', /Reset/),
    await linkIn('back@example.com', /invited/),
  ];
  for (const link of links) {
    const res = await request(t.app).get(link);
    expect(res.status).toBe(200);
    noStore(res);
  }
  // Also a link refused (used, forged) and the email change confirmation.
  noStore(await request(t.app).get('/s/portal/reset?token=forged'));
  noStore(await request(t.app).get('/s/portal/confirm-email?token=forged'));
  noStore(await request(t.app).get('/admin/welcome?token=forged'));
});

it('sends no-store on API and SCIM answers', async () => {
  const { token } = await adminToken();
  noStore(await request(t.app).get('/api/v1/users').set('Authorization', `Bearer ${token}`));
  noStore(await request(t.app).get('/scim/v2/Users').set('Authorization', `Bearer ${token}`));
});

type Layer = { route?: { path: string; methods: Record<string, boolean> }; handle: { stack?: Layer[] } };
/** GET paths a router registers; routers nested inside get `nestedPrefix` (the site router's /s/:slug). */
function getRoutes(stack: Layer[], prefix: string, nestedPrefix: string): string[] {
  const out: string[] = [];
  for (const layer of stack) {
    if (layer.route?.methods.get) out.push(`${prefix}${layer.route.path}`);
    else if (layer.handle.stack) out.push(...getRoutes(layer.handle.stack, nestedPrefix, nestedPrefix));
  }
  return out;
}

it('walks every GET route of the admin area and the sites: each answers a signed-in request with no-store', async () => {
  const routers = (t.app as unknown as { router: { stack: Layer[] } }).router.stack.filter((l) => l.handle.stack);
  const [adminStack, siteStack] = routers.slice(-2).map((l) => l.handle.stack!);
  const user = (await UserModel.findOne({ username: 'cache@example.com' }).lean())!;
  const profile = (await ProfileModel.findOne({ name: 'System Administrator' }).lean())!;
  const concrete = (path: string) =>
    path
      .replace('/profiles/:id', `/profiles/${profile._id}`)
      .replace(':page', 'community')
      .replace(/:\w+/g, String(user._id))
      .replace('{/:id}', '');
  const adminPaths = getRoutes(adminStack, '', '').map(concrete);
  const sitePaths = getRoutes(siteStack, '', '/s/portal').map(concrete);
  expect(adminPaths.length).toBeGreaterThan(20);
  expect(sitePaths).toEqual(
    expect.arrayContaining(['/s/portal/account', '/s/portal/reset', '/s/portal/confirm-email']),
  );

  const admin = await adminAgent(t.app);
  for (const path of adminPaths) noStore(await admin.get(path));
  const { agent: site } = await registerGuest(t.app, { email: 'walker@example.com' });
  // A site's brand stylesheet and logo are the same for every visitor and hold nothing of the person: they
  // are the only site GET routes that may be cached (publicly, for a day), and they must be.
  const brandAssets = sitePaths.filter((p) => /\/(brand\.css|logo)$/.test(p));
  expect(brandAssets).toEqual(['/s/portal/brand.css', '/s/portal/logo'].filter((p) => sitePaths.includes(p)));
  for (const path of sitePaths.filter((p) => !brandAssets.includes(p))) noStore(await site.get(path));
  for (const path of brandAssets) {
    const res = await site.get(path);
    if (res.status === 200) expect(res.headers['cache-control']).toMatch(/^public/);
  }
});
