/**
 * Delegated admin groups picked by searching: a JSON endpoint for the script, a GET search form listing
 * matches with Add buttons without it, current members and accounts with Remove buttons. Only eligible
 * members (internal, without Manage Internal Users) are offered or accepted.
 */
import request from 'supertest';
import { startTestApp, type TestApp } from '../../helpers/app';
import { postForm } from '../../helpers/forms';
import { adminAgent, makeAdmin, makeStaff } from '../../helpers/admin';
import { AccountModel, AuditEventModel, DelegatedAdminGroupModel, UserModel } from '../../../src/data/models';

let t: TestApp;
let admin: request.Agent;
beforeAll(async () => {
  t = await startTestApp('delegated-groups');
  await makeAdmin();
  await makeStaff('helen.helper@example.com', []);
  await makeStaff('hank.helper@example.com', []);
  await makeStaff('hugo.boss@example.com', ['manageInternalUsers']);
  await AccountModel.create([{ name: 'Harbour Logistics' }, { name: 'Hartley & Sons' }, { name: 'Acme' }]);
  admin = await adminAgent(t.app);
});
afterAll(() => t.stop());

const post = (path: string, fields: Record<string, string>) => postForm(admin, '/admin/delegated-groups', path, fields);

describe('delegated admin groups', () => {
  let groupId = '';

  it('creates a group by name, then shows empty states instead of textareas', async () => {
    const created = await post('/admin/delegated-groups', { _form: 'new-group', name: 'Harbour delegates' });
    expect(created.status).toBe(303);
    const group = (await DelegatedAdminGroupModel.findOne({ name: 'Harbour delegates' }).lean())!;
    groupId = String(group._id);
    expect(created.headers.location).toBe(`/admin/delegated-groups#group-${groupId}`);
    const page = await admin.get('/admin/delegated-groups');
    expect(page.text).not.toContain('<textarea');
    expect(page.text).toContain('No members yet.');
    expect(page.text).toContain(`data-picker="/admin/delegated-groups/candidates?group=${groupId}&amp;part=members"`);
  });

  it('finds eligible members as JSON (never admins with Manage Internal Users) and accounts by the start of their name', async () => {
    const members = await admin.get(`/admin/delegated-groups/candidates?group=${groupId}&part=members&q=h`);
    expect(members.status).toBe(200);
    expect(members.body.candidates.map((c: { label: string }) => c.label)).toEqual([
      'hank.helper@example.com',
      'helen.helper@example.com',
    ]);
    const accounts = await admin.get(`/admin/delegated-groups/candidates?group=${groupId}&part=accounts&q=har`);
    expect(accounts.body.candidates.map((c: { label: string }) => c.label)).toEqual([
      'Harbour Logistics',
      'Hartley & Sons',
    ]);
    expect((await admin.get(`/admin/delegated-groups/candidates?part=members&q=`)).body.candidates).toEqual([]);
  });

  it('without JavaScript: the search form lists matches with Add buttons; adding and removing one at a time', async () => {
    const found = await admin.get(`/admin/delegated-groups?group=${groupId}&part=members&q=helen`);
    expect(found.text).toContain('helen.helper@example.com');
    expect(found.text).not.toContain('hank.helper@example.com');
    const userId = new RegExp(
      `action="/admin/delegated-groups/${groupId}/members" class="inline">[\\s\\S]*?name="userId" value="([0-9a-f]{24})"`,
    ).exec(found.text)![1];
    const audits = await AuditEventModel.countDocuments({ action: 'delegated_group.updated' });
    const added = await post(`/admin/delegated-groups/${groupId}/members`, { _form: `members-${groupId}`, userId });
    expect(added.status).toBe(303);
    expect((await DelegatedAdminGroupModel.findById(groupId).lean())!.members.map(String)).toEqual([userId]);
    expect(await AuditEventModel.countDocuments({ action: 'delegated_group.updated' })).toBe(audits + 1);
    const page = await admin.get('/admin/delegated-groups');
    expect(page.text).toContain(`action="/admin/delegated-groups/${groupId}/members/${userId}/remove"`);
    expect(page.text).toMatch(
      /Remove<span class="visually-hidden"> helen.helper@example.com from Harbour delegates<\/span>/,
    );
    // Already a member: no longer offered.
    expect(
      (await admin.get(`/admin/delegated-groups/candidates?group=${groupId}&part=members&q=helen`)).body.candidates,
    ).toEqual([]);

    const account = (await AccountModel.findOne({ name: 'Harbour Logistics' }).lean())!;
    expect(
      (
        await post(`/admin/delegated-groups/${groupId}/accounts`, {
          _form: `accounts-${groupId}`,
          accountId: String(account._id),
        })
      ).status,
    ).toBe(303);
    expect((await DelegatedAdminGroupModel.findById(groupId).lean())!.accounts.map(String)).toEqual([
      String(account._id),
    ]);

    expect((await post(`/admin/delegated-groups/${groupId}/members/${userId}/remove`, {})).status).toBe(303);
    expect((await DelegatedAdminGroupModel.findById(groupId).lean())!.members).toEqual([]);
  });

  it('refuses an ineligible member beside the search field, adding nothing', async () => {
    const boss = (await admin.get(`/admin/delegated-groups/candidates?part=members&q=hugo`)).body.candidates;
    expect(boss).toEqual([]);
    const hugo = (await UserModel.findOne({ username: 'hugo.boss@example.com' }).lean())!;
    const refused = await post(`/admin/delegated-groups/${groupId}/members`, {
      _form: `members-${groupId}`,
      userId: String(hugo._id),
    });
    expect(refused.status).toBe(422);
    expect(refused.text).toContain(
      `<p class="field-error" id="members-${groupId}-userId">Only internal users without Manage Internal Users can be members.</p>`,
    );
    expect(refused.text).toContain(`href="#members-${groupId}-userId"`);
    expect((await DelegatedAdminGroupModel.findById(groupId).lean())!.members).toEqual([]);
  });

  it('answers the candidates endpoint 403 to an admin without Manage Internal Users', async () => {
    await makeStaff('sites.only@example.com', ['manageSites']);
    const agent = await adminAgent(t.app, 'sites.only@example.com');
    const res = await agent.get('/admin/delegated-groups/candidates?part=members&q=h');
    expect(res.status).toBe(403);
    expect(res.text).not.toContain('helper@example.com');
  });
});
