/**
 * The route-by-route permission table: every admin page and every API route, called by an actor who
 * holds every permission except the one(s) the route needs, answers 403 naming a missing permission,
 * and writes nothing. The table must name every route the routers register (checked below), so a new
 * route cannot be added without deciding its permission.
 */
import request from 'supertest';
import type { Router } from 'express';
import { startTestApp, type TestApp } from '../../helpers/app';
import { adminAgent, makeAdmin, makeStaff } from '../../helpers/admin';
import { csrfFrom } from '../../helpers/forms';
import { staffToken } from '../api/tokens';
import { AuditEventModel, PERMISSIONS, type Permission } from '../../../src/data/models';
import { adminRouter } from '../../../src/web/admin';
import { OPERATIONS } from '../../../src/api/openapi';
import { V1 } from '../../../src/api/v1/paths';
import type { AppDeps } from '../../../src/web/deps';

const ID = '0123456789abcdef01234567';
const MIU: Permission[] = ['manageInternalUsers'];
const PROFILE_READERS: Permission[] = ['manageProfiles', 'manageInternalUsers', 'manageSites'];

/** [method, express path, permissions the actor lacks] for the admin area (sign-in, setup and the dashboard are open). */
const ADMIN_ROUTES: [string, string, Permission[]][] = [
  ['get', '/admin/users', MIU], ['post', '/admin/users', MIU], ['post', '/admin/users/external', MIU], ['get', '/admin/users/:id', MIU],
  ...['contact', 'associate', 'upgrade', 'downgrade', 'deactivate', 'activate', 'edit', 'reset-password', 'login-as', 'profile', 'permission-sets',
    'invitation', 'verification', 'sessions/end', 'two-factor/reset'].map(
    (a): [string, string, Permission[]] => ['post', `/admin/users/:id/${a}`, MIU],
  ),
  ['post', '/admin/users/:id/permission-sets/:setId/remove', MIU],
  // Confirmation pages of the destructive actions (they change nothing themselves).
  ...['downgrade', 'deactivate', 'reset-password', 'two-factor/reset', 'sessions/end'].map((a): [string, string, Permission[]] => ['get', `/admin/users/:id/${a}`, MIU]),
  ['get', '/admin/sites', ['manageSites']], ['post', '/admin/sites', ['manageSites']], ['post', '/admin/sites/:id', ['manageSites']],
  ['post', '/admin/sites/:id/members', ['manageSites']], ['post', '/admin/sites/:id/pages/:page/audience', ['manageSites']],
  ['get', '/admin/licenses', ['manageLicenses']], ['post', '/admin/licenses/:id', ['manageLicenses']],
  ['get', '/admin/api-tokens', ['manageApiTokens']], ['post', '/admin/api-tokens', ['manageApiTokens']], ['get', '/admin/api-tokens/:id/revoke', ['manageApiTokens']], ['post', '/admin/api-tokens/:id/revoke', ['manageApiTokens']],
  ['get', '/admin/delegated-groups', MIU], ['post', '/admin/delegated-groups{/:id}', MIU], ['get', '/admin/delegated-groups/candidates', MIU],
  ...['members', 'accounts'].flatMap((part): [string, string, Permission[]][] => [
    ['post', `/admin/delegated-groups/:id/${part}`, MIU], ['post', `/admin/delegated-groups/:id/${part}/:itemId/remove`, MIU],
  ]),
  ['get', '/admin/audit', ['viewAuditTrail']], ['get', '/admin/audit.csv', ['viewAuditTrail']],
  ['get', '/admin/outbox', ['viewOutbox']],
  ['get', '/admin/profiles', PROFILE_READERS], ['post', '/admin/profiles', ['manageProfiles']], ['get', '/admin/profiles/:id', PROFILE_READERS],
  ['post', '/admin/profiles/:id', ['manageProfiles']], ['post', '/admin/profiles/:id/clone', ['manageProfiles']], ['post', '/admin/profiles/:id/delete', ['manageProfiles']],
  ['get', '/admin/permission-sets', ['manageProfiles']], ['post', '/admin/permission-sets', ['manageProfiles']], ['get', '/admin/permission-sets/:id', ['manageProfiles']],
  ['post', '/admin/permission-sets/:id', ['manageProfiles']], ['post', '/admin/permission-sets/:id/delete', ['manageProfiles']],
];
const ADMIN_OPEN = [
  'post /admin/login', 'get /admin/login', 'post /admin/logout', 'get /admin/setup', 'post /admin/setup', 'post /admin/login-as/end', 'get /admin',
  // Recovery and the second sign-in step are for people not signed in yet; two-factor is every admin's own.
  'get /admin/forgot', 'post /admin/forgot', 'get /admin/reset', 'post /admin/reset', 'get /admin/welcome', 'post /admin/welcome',
  'get /admin/login/code', 'post /admin/login/code',
  'get /admin/two-factor', 'post /admin/two-factor/setup', 'post /admin/two-factor/enable', 'post /admin/two-factor/disable',
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
  [`post ${V1.jobs}`]: { lacks: MIU, body: { object: 'User', operation: 'insert' } },
  [`get ${V1.jobs}`]: { lacks: MIU },
  [`get ${V1.job}`]: { lacks: MIU },
  [`patch ${V1.job}`]: { lacks: MIU, body: { state: 'Aborted' } },
  [`delete ${V1.job}`]: { lacks: MIU },
  [`put ${V1.jobBatches}`]: { lacks: MIU, body: 'csv' },
  [`get ${V1.jobSuccessful}`]: { lacks: MIU },
  [`get ${V1.jobFailed}`]: { lacks: MIU },
  [`get ${V1.jobUnprocessed}`]: { lacks: MIU },
};

const concrete = (path: string) => path.replace('{/:id}', `/${ID}`).replace(':page', 'community').replace(/:\w+/g, ID);
const allBut = (lacks: Permission[]) => PERMISSIONS.filter((p) => !lacks.includes(p));
const key = (lacks: Permission[]) => [...lacks].sort().join('+');

/** Every [method, path] an Express router registers, nested routers included. */
function routesOf(router: Router, prefix = ''): string[] {
  const out: string[] = [];
  for (const layer of (router as unknown as { stack: { route?: { path: string; methods: Record<string, boolean> }; handle: unknown }[] }).stack) {
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
    const ops = OPERATIONS.filter((o) => o.path !== V1.openapi).map((o) => `${o.method} ${o.path}`).sort();
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
    const res = method === 'get'
      ? await agent.get(url)
      : await agent.post(url).type('form').send({ _csrf: csrfFrom((await agent.get('/admin')).text), name: 'X', profileId: ID });
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
    if (!tokens.has(k)) tokens.set(k, (await staffToken(`api-lacks-${k.replace(/\+/g, '-').toLowerCase()}@example.com`, allBut(lacks))).token);
    return tokens.get(k)!;
  }
  it.each(Object.entries(API_ROUTES))('%s', async (route, { lacks, body }) => {
    const [method, path] = route.split(' ');
    const token = await tokenLacking(lacks);
    const events = await AuditEventModel.countDocuments();
    let req = (request(t.app) as unknown as Record<string, (u: string) => request.Test>)[method](`/api${concrete(path)}`).set('Authorization', `Bearer ${token}`);
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
