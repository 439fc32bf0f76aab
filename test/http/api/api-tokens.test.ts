/** Revoking an API token: a confirmation page naming the token and the consequence, then a POST with CSRF. */
import request from 'supertest';
import { startTestApp, type TestApp } from '../../helpers/app';
import { csrfFrom, postForm } from '../../helpers/forms';
import { adminAgent, makeAdmin } from '../../helpers/admin';
import { ApiTokenModel, AuditEventModel } from '../../../src/data/models';

let t: TestApp;
let admin: request.Agent;
beforeAll(async () => {
  t = await startTestApp('admin-api-tokens');
  await makeAdmin();
  admin = await adminAgent(t.app);
});
afterAll(() => t.stop());

async function createToken(name: string): Promise<{ token: string; id: string }> {
  // As the page sends it: every scope ticked, the default expiry (issue 26: a token with no scope is refused).
  const res = await postForm(admin, '/admin/api-tokens', '/admin/api-tokens', {
    name,
    scopes: ['users:read', 'users:write', 'bulk', 'scim'],
    days: '90',
  });
  expect(res.status).toBe(201);
  const token = /id="new-token">([^<]+)</.exec(res.text)![1];
  const record = (await ApiTokenModel.findOne({ name }).lean())!;
  return { token, id: String(record._id) };
}
const apiStatus = async (token: string) =>
  (await request(t.app).get('/api/v1/users').set('Authorization', `Bearer ${token}`)).status;

describe('revoking an API token', () => {
  it('offers Revoke as a link to a confirmation page, not a form that revokes at once', async () => {
    const { id } = await createToken('Listed sync');
    const list = await admin.get('/admin/api-tokens');
    expect(list.text).toContain(
      `<a class="button danger" href="/admin/api-tokens/${id}/revoke" aria-label="Revoke Listed sync">Revoke</a>`,
    );
    expect(list.text).not.toContain(`action="/admin/api-tokens/${id}/revoke"`);
  });

  it('asks first, naming the token and the consequence; the GET changes nothing', async () => {
    const { token, id } = await createToken('CRM sync');
    const page = await admin.get(`/admin/api-tokens/${id}/revoke`);
    expect(page.status).toBe(200);
    expect(page.text).toContain('<h1>Revoke the API token &#34;CRM sync&#34;?</h1>');
    expect(page.text).toMatch(
      /Integrations using &#34;CRM sync&#34; \(ipt_[^)]+…\) stop working at once: every request with it is refused\./,
    );
    expect(page.text).toContain(`<form method="post" action="/admin/api-tokens/${id}/revoke">`);
    expect(page.text).toContain('<a class="button secondary" href="/admin/api-tokens">Cancel</a>');
    expect((await ApiTokenModel.findById(id).lean())!.revokedAt).toBeNull();
    expect(await apiStatus(token)).toBe(200);
  });

  it('revokes on the confirmed POST: a message names the token, the audit trail records it, and the token no longer authenticates', async () => {
    const { token, id } = await createToken('Billing export');
    expect(await apiStatus(token)).toBe(200);
    const confirm = await admin.get(`/admin/api-tokens/${id}/revoke`);
    const res = await admin
      .post(`/admin/api-tokens/${id}/revoke`)
      .type('form')
      .send({ _csrf: csrfFrom(confirm.text) });
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe('/admin/api-tokens');
    const list = await admin.get('/admin/api-tokens');
    expect(list.text).toContain('Token &#34;Billing export&#34; revoked: requests with it are now refused.');
    expect((await ApiTokenModel.findById(id).lean())!.revokedAt).toBeInstanceOf(Date);
    expect(await AuditEventModel.countDocuments({ action: 'api_token.revoked', 'target.id': id })).toBe(1);
    expect(await apiStatus(token)).toBe(401);
    // Asking again about a revoked token: nothing to revoke.
    expect((await admin.get(`/admin/api-tokens/${id}/revoke`)).status).toBe(404);
  });

  it('refuses a POST without the CSRF token and leaves the token working', async () => {
    const { token, id } = await createToken('Forged revoke');
    const res = await admin.post(`/admin/api-tokens/${id}/revoke`).type('form').send({});
    expect(res.status).toBe(403);
    expect((await ApiTokenModel.findById(id).lean())!.revokedAt).toBeNull();
    expect(await apiStatus(token)).toBe(200);
  });
});
