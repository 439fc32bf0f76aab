/**
 * The route-by-route permission table: every admin page and every API route, called by an actor who
 * holds every permission except the one(s) the route needs, answers 403 naming a missing permission,
 * and writes nothing. The table must name every route the routers register (checked below), so a new
 * route cannot be added without deciding its permission.
 * The escalation table (below): every route that changes a user, a profile or a permission set, called
 * by an actor holding every permission but one against a target holding all of them (the System
 * Administrator, their profile, a set they hold) or granting that one, answers 403 naming it and writes
 * nothing. A new such route fails the test until it is listed there (or exempted with a reason).
 */
import request from 'supertest';
import type { Router } from 'express';
import { startTestApp, type TestApp } from '../../helpers/app';
import { adminAgent, makeAdmin, makeStaff } from '../../helpers/admin';
import { csrfFrom } from '../../helpers/forms';
import { staffToken } from '../api/tokens';
import {
  ActionTokenModel,
  AuditEventModel,
  LicenseModel,
  MailMessageModel,
  PERMISSIONS,
  PermissionSetModel,
  ProfileModel,
  UserModel,
  type Permission,
} from '../../../src/data/models';
import { adminRouter } from '../../../src/admin';
import { OPERATIONS } from '../../../src/api/openapi';
import { V1 } from '../../../src/api/v1/paths';
import type { AppDeps } from '../../../src/http/deps';

const ID = '0123456789abcdef01234567';
const MIU: Permission[] = ['manageInternalUsers'];
const PROFILE_READERS: Permission[] = ['manageProfiles', 'manageInternalUsers', 'manageSites'];

/** [method, express path, permissions the actor lacks] for the admin area (sign-in, setup and the dashboard are open). */
const ADMIN_ROUTES: [string, string, Permission[]][] = [
  ['get', '/admin/users', MIU],
  ['post', '/admin/users', MIU],
  ['post', '/admin/users/external', MIU],
  ['get', '/admin/users/:id', MIU],
  ...[
    'contact',
    'associate',
    'upgrade',
    'downgrade',
    'deactivate',
    'activate',
    'edit',
    'reset-password',
    'login-as',
    'profile',
    'permission-sets',
    'invitation',
    'verification',
    'sessions/end',
    'two-factor/reset',
    'export',
    'deletion',
  ].map((a): [string, string, Permission[]] => ['post', `/admin/users/:id/${a}`, MIU]),
  ['post', '/admin/users/:id/permission-sets/:setId/remove', MIU],
  ['post', '/admin/users/:id/passkeys/:passkey/remove', MIU],
  // Confirmation pages of the destructive actions (they change nothing themselves).
  ...['downgrade', 'deactivate', 'reset-password', 'two-factor/reset', 'sessions/end', 'deletion'].map(
    (a): [string, string, Permission[]] => ['get', `/admin/users/:id/${a}`, MIU],
  ),
  // The qualification queue and its bulk actions (each row is then checked like the single-user action).
  ...['', '/export.csv', '/jobs/:id', '/jobs/:id/results.csv', '/users/:id'].map(
    (p): [string, string, Permission[]] => ['get', `/admin/qualify${p}`, MIU],
  ),
  ...['/searches', '/searches/:id/delete', '/dry-run', '/run'].map((p): [string, string, Permission[]] => [
    'post',
    `/admin/qualify${p}`,
    MIU,
  ]),
  // Bulk upload (ingest jobs need Manage Internal Users) and the user export (the API's user search).
  ...[
    '/admin/bulk',
    '/admin/bulk/jobs/:id',
    '/admin/bulk/users.csv',
    ...['successfulResults', 'failedResults', 'unprocessedrecords'].map((k) => `/admin/bulk/jobs/:id/${k}.csv`),
  ].map((p): [string, string, Permission[]] => ['get', p, MIU]),
  ['post', '/admin/bulk/upload', MIU],
  ['get', '/admin/sites', ['manageSites']],
  ['post', '/admin/sites', ['manageSites']],
  ['post', '/admin/sites/:id', ['manageSites']],
  ['post', '/admin/sites/:id/members', ['manageSites']],
  ['post', '/admin/sites/:id/pages/:page/audience', ['manageSites']],
  ['post', '/admin/sites/:id/branding', ['manageSites']],
  ['post', '/admin/sites/:id/logo', ['manageSites']],
  ['post', '/admin/sites/:id/logo/remove', ['manageSites']],
  ['get', '/admin/sites/:id/identity-providers', ['manageSites']],
  ['post', '/admin/sites/:id/identity-providers', ['manageSites']],
  ['post', '/admin/sites/:id/identity-providers/:provider', ['manageSites']],
  ['post', '/admin/sites/:id/identity-providers/:provider/remove', ['manageSites']],
  ['get', '/admin/apps', ['manageSites']],
  ['post', '/admin/apps', ['manageSites']],
  ['get', '/admin/apps/:id', ['manageSites']],
  ['post', '/admin/apps/:id', ['manageSites']],
  ['post', '/admin/apps/:id/secret', ['manageSites']],
  ['get', '/admin/apps/:id/delete', ['manageSites']],
  ['post', '/admin/apps/:id/delete', ['manageSites']],
  ['post', '/admin/sites/:id/registration-policy', ['manageSites']],
  ['post', '/admin/sites/:id/invitations', ['manageSites']],
  ['post', '/admin/sites/:id/invitations/:invitation/revoke', ['manageSites']],
  ['get', '/admin/terms', ['manageSites']],
  ['post', '/admin/terms', ['manageSites']],
  ['get', '/admin/consents', ['viewAuditTrail']],
  ['get', '/admin/consents.csv', ['viewAuditTrail']],
  ['get', '/admin/licenses', ['manageLicenses']],
  ['post', '/admin/licenses/:id', ['manageLicenses']],
  // Community pages: either of the permissions that decide who holds which license and profile.
  ['get', '/admin/community', ['manageLicenses', 'manageProfiles']],
  ['post', '/admin/community', ['manageLicenses', 'manageProfiles']],
  ['get', '/admin/community/:id', ['manageLicenses', 'manageProfiles']],
  ['post', '/admin/community/:id', ['manageLicenses', 'manageProfiles']],
  ['post', '/admin/community/:id/delete', ['manageLicenses', 'manageProfiles']],
  ['get', '/admin/api-tokens', ['manageApiTokens']],
  ['post', '/admin/api-tokens', ['manageApiTokens']],
  ['get', '/admin/api-tokens/:id/revoke', ['manageApiTokens']],
  ['post', '/admin/api-tokens/:id/revoke', ['manageApiTokens']],
  ['get', '/admin/delegated-groups', MIU],
  ['post', '/admin/delegated-groups{/:id}', MIU],
  ['get', '/admin/delegated-groups/candidates', MIU],
  ...['members', 'accounts'].flatMap((part): [string, string, Permission[]][] => [
    ['post', `/admin/delegated-groups/:id/${part}`, MIU],
    ['post', `/admin/delegated-groups/:id/${part}/:itemId/remove`, MIU],
  ]),
  ['get', '/admin/audit', ['viewAuditTrail']],
  ['get', '/admin/audit.csv', ['viewAuditTrail']],
  ['get', '/admin/outbox', ['viewOutbox']],
  ['get', '/admin/profiles', PROFILE_READERS],
  ['post', '/admin/profiles', ['manageProfiles']],
  ['get', '/admin/profiles/:id', PROFILE_READERS],
  ['post', '/admin/profiles/:id', ['manageProfiles']],
  ['post', '/admin/profiles/:id/clone', ['manageProfiles']],
  ['post', '/admin/profiles/:id/delete', ['manageProfiles']],
  ['get', '/admin/permission-sets', ['manageProfiles']],
  ['post', '/admin/permission-sets', ['manageProfiles']],
  ['get', '/admin/permission-sets/:id', ['manageProfiles']],
  ['post', '/admin/permission-sets/:id', ['manageProfiles']],
  ['post', '/admin/permission-sets/:id/delete', ['manageProfiles']],
];
const ADMIN_OPEN = [
  'post /admin/login',
  'get /admin/login',
  'post /admin/logout',
  'get /admin/setup',
  'post /admin/setup',
  'post /admin/login-as/end',
  'get /admin',
  // Recovery and the second sign-in step are for people not signed in yet; two-factor is every admin's own.
  'get /admin/forgot',
  'post /admin/forgot',
  'get /admin/reset',
  'post /admin/reset',
  'get /admin/welcome',
  'post /admin/welcome',
  'get /admin/login/code',
  'post /admin/login/code',
  'get /admin/two-factor',
  'post /admin/two-factor/setup',
  'post /admin/two-factor/enable',
  'post /admin/two-factor/disable',
  'post /admin/two-factor/finish',
  'post /admin/two-factor/recovery-codes',
];

const API_ROUTES: Record<string, { lacks: Permission[]; body?: unknown }> = {
  [`post ${V1.users}`]: { lacks: MIU, body: { lastName: 'X', email: 'x@example.com' } },
  [`get ${V1.users}`]: { lacks: MIU },
  [`get ${V1.user}`]: { lacks: MIU },
  [`patch ${V1.user}`]: { lacks: MIU, body: { firstName: 'X' } },
  [`post ${V1.userContact}`]: { lacks: MIU, body: { lastName: 'X', accountName: 'A' } },
  [`post ${V1.userUpgrade}`]: { lacks: MIU, body: { profileId: ID } },
  [`post ${V1.userDowngrade}`]: { lacks: MIU, body: {} },
  [`post ${V1.userActivate}`]: { lacks: MIU, body: {} },
  [`post ${V1.userDeactivate}`]: { lacks: MIU, body: {} },
  [`post ${V1.userProfile}`]: { lacks: MIU, body: { profileId: ID } },
  [`get ${V1.userPermissionSets}`]: { lacks: MIU },
  [`post ${V1.userPermissionSets}`]: { lacks: MIU, body: { permissionSetId: ID } },
  [`delete ${V1.userPermissionSet}`]: { lacks: MIU },
  [`delete ${V1.userSessions}`]: { lacks: MIU },
  [`post ${V1.userInvitation}`]: { lacks: MIU, body: {} },
  [`get ${V1.userExport}`]: { lacks: MIU },
  [`post ${V1.userDeletion}`]: { lacks: MIU, body: {} },
  [`get ${V1.profiles}`]: { lacks: PROFILE_READERS },
  [`post ${V1.profiles}`]: { lacks: ['manageProfiles'], body: { name: 'X', licenseId: ID } },
  [`get ${V1.profile}`]: { lacks: PROFILE_READERS },
  [`patch ${V1.profile}`]: { lacks: ['manageProfiles'], body: { version: 0 } },
  [`delete ${V1.profile}`]: { lacks: ['manageProfiles'] },
  [`post ${V1.profileClone}`]: { lacks: ['manageProfiles'], body: { name: 'X' } },
  [`get ${V1.permissionSets}`]: { lacks: ['manageProfiles'] },
  [`post ${V1.permissionSets}`]: { lacks: ['manageProfiles'], body: { name: 'X' } },
  [`get ${V1.permissionSet}`]: { lacks: ['manageProfiles'] },
  [`patch ${V1.permissionSet}`]: { lacks: ['manageProfiles'], body: { version: 0 } },
  [`delete ${V1.permissionSet}`]: { lacks: ['manageProfiles'] },
  [`get ${V1.licenses}`]: { lacks: ['manageLicenses'] },
  [`patch ${V1.license}`]: { lacks: ['manageLicenses'], body: { totalSeats: 5 } },
  [`get ${V1.contact}`]: { lacks: MIU },
  [`get ${V1.sites}`]: { lacks: ['manageSites'] },
  [`put ${V1.siteMembers}`]: { lacks: ['manageSites'], body: { profileIds: [], permissionSetIds: [] } },
  [`put ${V1.sitePageAudience}`]: { lacks: ['manageSites'], body: { licenseIds: [], profileIds: [] } },
  [`get ${V1.communityPages}`]: { lacks: ['manageLicenses', 'manageProfiles'] },
  [`post ${V1.communityPages}`]: { lacks: ['manageLicenses', 'manageProfiles'], body: { siteId: ID, title: 'X' } },
  [`get ${V1.communityPage}`]: { lacks: ['manageLicenses', 'manageProfiles'] },
  [`patch ${V1.communityPage}`]: { lacks: ['manageLicenses', 'manageProfiles'], body: { title: 'X' } },
  [`delete ${V1.communityPage}`]: { lacks: ['manageLicenses', 'manageProfiles'] },
  [`get ${V1.apps}`]: { lacks: ['manageSites'] },
  [`post ${V1.apps}`]: {
    lacks: ['manageSites'],
    body: {
      name: 'X',
      siteId: ID,
      redirectUris: ['https://app.example.com/cb'],
      scopes: ['openid'],
      firstParty: true,
      type: 'public',
    },
  },
  [`get ${V1.app}`]: { lacks: ['manageSites'] },
  [`patch ${V1.app}`]: {
    lacks: ['manageSites'],
    body: { name: 'X', siteId: ID, redirectUris: ['https://app.example.com/cb'], scopes: ['openid'], firstParty: true },
  },
  [`post ${V1.appSecret}`]: { lacks: ['manageSites'], body: {} },
  [`delete ${V1.app}`]: { lacks: ['manageSites'] },
  [`post ${V1.jobs}`]: { lacks: MIU, body: { object: 'User', operation: 'insert' } },
  [`get ${V1.jobs}`]: { lacks: MIU },
  [`get ${V1.job}`]: { lacks: MIU },
  [`patch ${V1.job}`]: { lacks: MIU, body: { state: 'Aborted' } },
  [`delete ${V1.job}`]: { lacks: MIU },
  [`put ${V1.jobBatches}`]: { lacks: MIU, body: 'csv' },
  [`get ${V1.jobSuccessful}`]: { lacks: MIU },
  [`get ${V1.jobFailed}`]: { lacks: MIU },
  [`get ${V1.jobUnprocessed}`]: { lacks: MIU },
  [`post ${V1.bulkActions}`]: { lacks: MIU, body: { action: 'deactivate', dryRun: false, userIds: [ID] } },
  [`get ${V1.bulkAction}`]: { lacks: MIU },
  [`patch ${V1.bulkAction}`]: { lacks: MIU, body: { state: 'Aborted' } },
  [`get ${V1.bulkActionResults}`]: { lacks: MIU },
  [`get ${V1.bulkActionResultsCsv}`]: { lacks: MIU },
};

const concrete = (path: string) => path.replace('{/:id}', `/${ID}`).replace(':page', 'community').replace(/:\w+/g, ID);
const allBut = (lacks: Permission[]) => PERMISSIONS.filter((p) => !lacks.includes(p));
const key = (lacks: Permission[]) => [...lacks].sort().join('+');

/** Every [method, path] an Express router registers, nested routers included. */
function routesOf(router: Router, prefix = ''): string[] {
  const out: string[] = [];
  for (const layer of (
    router as unknown as { stack: { route?: { path: string; methods: Record<string, boolean> }; handle: unknown }[] }
  ).stack) {
    if (layer.route) for (const m of Object.keys(layer.route.methods)) out.push(`${m} ${prefix}${layer.route.path}`);
    else if ((layer.handle as { stack?: unknown }).stack) out.push(...routesOf(layer.handle as Router, prefix));
  }
  return out;
}

let t: TestApp;
let bootstrapAgent: request.Agent;
beforeAll(async () => {
  t = await startTestApp('permission-table');
  await makeAdmin();
  bootstrapAgent = await adminAgent(t.app);
});
afterAll(() => t.stop());

describe('the table covers every route', () => {
  it('names every admin route (or lists it as open)', () => {
    const registered = routesOf(adminRouter({ config: t.config, db: t.db } as AppDeps)).sort();
    const named = [...ADMIN_ROUTES.map(([m, p]) => `${m} ${p}`), ...ADMIN_OPEN].sort();
    expect(registered).toEqual(named);
  });
  it('names every API operation of the OpenAPI document', () => {
    const ops = OPERATIONS.filter((o) => o.path !== V1.openapi)
      .map((o) => `${o.method} ${o.path}`)
      .sort();
    expect(ops).toEqual(Object.keys(API_ROUTES).sort());
  });
});

describe('admin pages: an actor without the permission gets 403 and nothing is written', () => {
  const agents = new Map<string, request.Agent>();
  async function agentLacking(lacks: Permission[]) {
    const k = key(lacks);
    if (!agents.has(k)) {
      await makeStaff(`lacks-${k.replace(/\+/g, '-').toLowerCase()}@example.com`, allBut(lacks));
      const agent = await adminAgent(t.app, `lacks-${k.replace(/\+/g, '-').toLowerCase()}@example.com`);
      // One page view first. Without it, the first post of the 'manageProfiles' agent (its first request
      // after signing in) failed on its CSRF token here, though the same steps pass alone and in the
      // browser tests; the check below now catches a token refusal posing as a permission refusal.
      await agent.get('/admin');
      agents.set(k, agent);
    }
    return agents.get(k)!;
  }
  it.each(ADMIN_ROUTES)('%s %s without %j', async (method, path, lacks) => {
    const agent = await agentLacking(lacks);
    const events = await AuditEventModel.countDocuments();
    const url = concrete(path);
    const res =
      method === 'get'
        ? await agent.get(url)
        : await agent
            .post(url)
            .type('form')
            .send({ _csrf: csrfFrom((await agent.get('/admin')).text), name: 'X', profileId: ID });
    expect(res.status).toBe(403);
    expect(res.text).toContain('Request refused');
    // Refused for the permission, not for the form's token (which also answers 403).
    expect(res.text).not.toContain('Your form expired');
    expect(res.text).not.toContain('Your session expired');
    expect(await AuditEventModel.countDocuments()).toBe(events);
  });
});

describe('API: a token of an actor without the permission gets 403 naming it, and nothing is written', () => {
  const tokens = new Map<string, string>();
  async function tokenLacking(lacks: Permission[]) {
    const k = key(lacks);
    if (!tokens.has(k))
      tokens.set(
        k,
        (await staffToken(`api-lacks-${k.replace(/\+/g, '-').toLowerCase()}@example.com`, allBut(lacks))).token,
      );
    return tokens.get(k)!;
  }
  it.each(Object.entries(API_ROUTES))('%s', async (route, { lacks, body }) => {
    const [method, path] = route.split(' ');
    const token = await tokenLacking(lacks);
    const events = await AuditEventModel.countDocuments();
    let req = (request(t.app) as unknown as Record<string, (u: string) => request.Test>)
      [method](`/api${concrete(path)}`)
      .set('Authorization', `Bearer ${token}`);
    if (body === 'csv') req = req.set('Content-Type', 'text/csv').send('LastName,Email,ProfileId\n');
    else if (body !== undefined) req = req.send(body as object);
    const res = await req;
    expect(res.status).toBe(403);
    expect(res.body.error.code).toBe('forbidden');
    expect(lacks).toContain(res.body.error.permission);
    expect(await AuditEventModel.countDocuments()).toBe(events);
  });
});

it('the bootstrap admin holds every permission, so the table compares like with like', async () => {
  expect((await bootstrapAgent.get('/admin/profiles')).status).toBe(200);
});

describe('escalation: an actor with fewer rights than the target is refused, and nothing is written', () => {
  /** Routes that change a user, a profile or a permission set (method, path): all must be listed below. */
  const changesAccess = (route: string) =>
    /^(post|patch|put|delete) (\/admin|\/v1)\/(users|profiles|permission-sets)/.test(route);
  type Body = (ids: { sysAdminProfile: string; internalLicense: string; rootSet: string }) => Record<string, unknown>;
  const none: Body = () => ({});
  const adminBodies: Record<string, Body> = {
    'post /admin/users': ({ sysAdminProfile }) => ({
      firstName: 'Evil',
      lastName: 'Twin',
      email: 'twin@example.com',
      profileId: sysAdminProfile,
    }),
    'post /admin/profiles': ({ internalLicense }) => ({
      name: 'Mine',
      licenseId: internalLicense,
      permissions: 'viewOutbox',
    }),
    'post /admin/permission-sets': () => ({ name: 'Mine', permissions: 'viewOutbox' }),
    'post /admin/profiles/:id': () => ({
      name: 'System Administrator',
      version: '0',
      permissions: 'manageInternalUsers',
    }),
    'post /admin/profiles/:id/clone': () => ({ name: 'My admin' }),
    'post /admin/permission-sets/:id': () => ({ name: 'Root extras', version: '0', permissions: 'manageSites' }),
    'post /admin/users/:id/edit': () => ({ firstName: 'Owned', lastName: 'Root', email: 'attacker@example.com' }),
    'post /admin/users/:id/profile': ({ sysAdminProfile }) => ({ profileId: sysAdminProfile }),
    'post /admin/users/:id/permission-sets': ({ rootSet }) => ({ permissionSetId: rootSet }),
    'post /admin/users/:id/contact': () => ({ lastName: 'X', accountName: 'A' }),
    ...Object.fromEntries(
      [
        'associate',
        'upgrade',
        'downgrade',
        'deactivate',
        'activate',
        'reset-password',
        'login-as',
        'invitation',
        'verification',
        'sessions/end',
        'two-factor/reset',
        'permission-sets/:setId/remove',
        'deletion',
      ].map((a) => [`post /admin/users/:id/${a}`, none]),
    ),
    'post /admin/users/:id/passkeys/:passkey/remove': none,
    'post /admin/profiles/:id/delete': none,
    'post /admin/permission-sets/:id/delete': none,
  };
  const apiBodies: Record<string, Body> = {
    [`post ${V1.users}`]: ({ sysAdminProfile }) => ({
      lastName: 'Twin',
      email: 'twin-api@example.com',
      profileId: sysAdminProfile,
      password: 'violet-harbor-tractor-91',
    }),
    [`patch ${V1.user}`]: () => ({ email: 'attacker@example.com' }),
    [`post ${V1.userContact}`]: () => ({ lastName: 'X', accountName: 'A' }),
    [`post ${V1.userUpgrade}`]: ({ sysAdminProfile }) => ({ profileId: sysAdminProfile }),
    [`post ${V1.userDowngrade}`]: none,
    [`post ${V1.userActivate}`]: none,
    [`post ${V1.userDeactivate}`]: none,
    [`post ${V1.userProfile}`]: ({ sysAdminProfile }) => ({ profileId: sysAdminProfile }),
    [`post ${V1.userPermissionSets}`]: ({ rootSet }) => ({ permissionSetId: rootSet }),
    [`delete ${V1.userPermissionSet}`]: none,
    [`delete ${V1.userSessions}`]: none,
    [`post ${V1.userInvitation}`]: none,
    [`post ${V1.userDeletion}`]: none,
    [`post ${V1.profiles}`]: ({ internalLicense }) => ({
      name: 'Mine',
      licenseId: internalLicense,
      permissions: ['viewOutbox'],
    }),
    [`patch ${V1.profile}`]: () => ({ version: 0, permissions: ['manageInternalUsers'] }),
    [`delete ${V1.profile}`]: none,
    [`post ${V1.profileClone}`]: () => ({ name: 'My admin' }),
    [`post ${V1.permissionSets}`]: () => ({ name: 'Mine', permissions: ['viewOutbox'] }),
    [`patch ${V1.permissionSet}`]: () => ({ version: 0, permissions: ['manageSites'] }),
    [`delete ${V1.permissionSet}`]: none,
  };
  const EXEMPT: Record<string, string> = {
    'post /admin/users/external':
      "creates an external user with its site's registration profile, which carries no administrative permission",
    // A read, as the user page shows it (loadUserFor('view'), like the sessions and history there); POST
    // only because it writes its audit event.
    'post /admin/users/:id/export': "downloads the user's data, which viewing the user already shows",
  };

  let ids: { root: string; sysAdminProfile: string; internalLicense: string; rootSet: string };
  let agent: request.Agent;
  let token: string;
  beforeAll(async () => {
    const root = (await UserModel.findOne({ username: 'admin@example.com' }).lean())!;
    const set = await PermissionSetModel.create({ name: 'Root extras', permissions: { viewOutbox: true } });
    await UserModel.updateOne({ _id: root._id }, { $push: { permissionSets: set._id } });
    ids = {
      root: String(root._id),
      sysAdminProfile: String(root.profile),
      rootSet: String(set._id),
      internalLicense: String((await LicenseModel.findOne({ userType: 'internal' }).lean())!._id),
    };
    const lesser = allBut(['viewOutbox']);
    await makeStaff('almost-all@example.com', [...lesser]);
    agent = await adminAgent(t.app, 'almost-all@example.com');
    await agent.get('/admin');
    token = (await staffToken('api-almost-all@example.com', [...lesser])).token;
  });

  /** The target and everything a takeover or a grant could change. */
  async function snapshot() {
    return JSON.stringify({
      root: await UserModel.findById(ids.root).select('+passwordHash').lean(),
      profiles: await ProfileModel.find().lean(),
      sets: await PermissionSetModel.find().lean(),
      users: await UserModel.countDocuments(),
      tokens: await ActionTokenModel.countDocuments(),
      mails: await MailMessageModel.countDocuments(),
      events: await AuditEventModel.countDocuments(),
    });
  }
  const target = (path: string) => {
    const id = path.includes('/profiles/')
      ? ids.sysAdminProfile
      : path.includes('/permission-sets/:id')
        ? ids.rootSet
        : ids.root;
    return path.replace(':setId', ids.rootSet).replace(':id', id);
  };

  it('lists every admin and API route that changes a user, a profile or a permission set', () => {
    const adminRoutes = routesOf(adminRouter({ config: t.config, db: t.db } as AppDeps)).filter(changesAccess);
    expect(adminRoutes.filter((r) => !(r in EXEMPT)).sort()).toEqual(Object.keys(adminBodies).sort());
    const apiRoutes = OPERATIONS.map((o) => `${o.method} ${o.path}`).filter(changesAccess);
    expect(apiRoutes.sort()).toEqual(Object.keys(apiBodies).sort());
  });

  it.each(Object.keys(adminBodies))('admin: %s', async (route) => {
    const path = route.split(' ')[1];
    const before = await snapshot();
    const res = await agent
      .post(target(path))
      .type('form')
      .send({ _csrf: csrfFrom((await agent.get('/admin')).text), ...adminBodies[route](ids) });
    expect(res.status).toBe(403);
    expect(res.text).toContain('View Mail Outbox');
    expect(await snapshot()).toBe(before);
  });

  it.each(Object.keys(apiBodies))('API: %s', async (route) => {
    const [method, path] = route.split(' ');
    const before = await snapshot();
    const res = await (request(t.app) as unknown as Record<string, (u: string) => request.Test>)
      [method](`/api${target(path)}`)
      .set('Authorization', `Bearer ${token}`)
      .send(apiBodies[route](ids));
    expect(res.status).toBe(403);
    expect(res.body.error.permission).toBe('viewOutbox');
    expect(await snapshot()).toBe(before);
  });
});
