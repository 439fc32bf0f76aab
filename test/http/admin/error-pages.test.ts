/** 403 and 404 inside the admin area keep the admin navigation for a signed-in admin; elsewhere the plain page stays. */
import request from 'supertest';
import { startTestApp, type TestApp } from '../../helpers/app';
import { adminAgent, makeAdmin, makeStaff } from '../../helpers/admin';

let t: TestApp;
let admin: request.Agent;
let staff: request.Agent;
beforeAll(async () => {
  t = await startTestApp('admin-error-pages');
  await makeAdmin();
  admin = await adminAgent(t.app);
  await makeStaff('users-only@example.com', ['manageInternalUsers', 'manageCustomerUsers']);
  staff = await adminAgent(t.app, 'users-only@example.com');
});
afterAll(() => t.stop());

const NAV = '<nav aria-label="Admin" class="nav-wide">';

describe('error pages inside the admin area', () => {
  it('answers an unknown user id with 404 and keeps the admin navigation', async () => {
    const res = await admin.get('/admin/users/0123456789abcdef01234567');
    expect(res.status).toBe(404);
    expect(res.text).toContain(NAV);
    expect(res.text).toContain('<a href="/admin/users" aria-current="page">Users</a>');
    expect(res.text).toContain('<h1>Not found</h1>');
    expect(res.text).toContain('No user has this id.');
    expect(res.text).toContain('Log out</button>');
  });

  it('answers an unknown admin address with 404 and the navigation', async () => {
    const res = await admin.get('/admin/no-such-page');
    expect(res.status).toBe(404);
    expect(res.text).toContain(NAV);
  });

  it('answers a page the admin lacks the permission for with 403, the navigation and the missing permission', async () => {
    const res = await staff.get('/admin/audit');
    expect(res.status).toBe(403);
    expect(res.text).toContain(NAV);
    expect(res.text).toContain('<h1>Request refused</h1>');
    expect(res.text).toContain('This needs the View Audit Trail permission.');
    // The navigation is the viewer's own: Users, not the audit trail they may not open.
    expect(res.text).toContain('<a href="/admin/users">Users</a>');
    expect(res.text).not.toContain('<a href="/admin/audit"');
  });

  it('keeps the plain page outside the admin area and for anonymous viewers', async () => {
    const site = await admin.get('/s/no-such-site/');
    expect(site.status).toBe(404);
    expect(site.text).not.toContain(NAV);
    const anonymousSite = await request(t.app).get('/s/nowhere/');
    expect(anonymousSite.status).toBe(404);
    expect(anonymousSite.text).not.toContain(NAV);
    // An anonymous visitor of an admin address is sent to sign in, never shown the admin layout.
    const anonymousAdmin = await request(t.app).get('/admin/users/0123456789abcdef01234567');
    expect(anonymousAdmin.status).toBe(302);
    expect(anonymousAdmin.text).not.toContain(NAV);
  });
});
