/**
 * Refused edits of a profile or a permission set in the admin area show the page again with the refusal
 * (never a 500), and write nothing.
 */
import { startTestApp, type TestApp } from '../../helpers/app';
import { adminAgent, makeAdmin } from '../../helpers/admin';
import { postForm } from '../../helpers/forms';
import { AuditEventModel, PermissionSetModel, ProfileModel } from '../../../src/data/models';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp('roles-refusals');
  await makeAdmin();
});
afterAll(() => t.stop());

describe('refused edits of profiles and permission sets', () => {
  it('a profile edit with an empty name, a stale version or an unknown permission answers 4xx with the page and its message; nothing is written', async () => {
    const agent = await adminAgent(t.app);
    const custom = await ProfileModel.create({
      name: 'Helpdesk',
      license: (await ProfileModel.findOne({ name: 'System Administrator' }).lean())!.license,
      userType: 'internal',
      permissions: { viewAuditTrail: true },
    });
    const url = `/admin/profiles/${custom._id}`;
    const before = JSON.stringify(await ProfileModel.findById(custom._id).lean());
    const events = await AuditEventModel.countDocuments();
    const cases: [Record<string, string | string[]>, number, string][] = [
      [{ name: '', version: '0' }, 422, 'Name the profile.'],
      [{ name: 'Helpdesk 2', version: '7' }, 409, 'changed by someone else'],
      [{ name: 'Helpdesk', version: '0', permissions: ['flyToTheMoon'] }, 422, 'Unknown permission: flyToTheMoon'],
    ];
    for (const [fields, status, message] of cases) {
      const res = await postForm(agent, url, url, fields);
      expect(res.status).toBe(status);
      expect(res.text).toContain(message);
      expect(res.text).toContain('Helpdesk'); // the profile's own page, not an error page
    }
    expect(JSON.stringify(await ProfileModel.findById(custom._id).lean())).toBe(before);
    expect(await AuditEventModel.countDocuments()).toBe(events);
  });

  it('a permission set edit with an empty name or a stale version answers 4xx with the page and its message; nothing is written', async () => {
    const agent = await adminAgent(t.app);
    const set = await PermissionSetModel.create({ name: 'Auditors', permissions: { viewAuditTrail: true } });
    const url = `/admin/permission-sets/${set._id}`;
    const before = JSON.stringify(await PermissionSetModel.findById(set._id).lean());
    const events = await AuditEventModel.countDocuments();
    for (const [fields, status, message] of [
      [{ name: '', version: '0' }, 422, 'Name the permission set.'],
      [{ name: 'Auditors 2', version: '5' }, 409, 'changed by someone else'],
    ] as [Record<string, string>, number, string][]) {
      const res = await postForm(agent, url, url, fields);
      expect(res.status).toBe(status);
      expect(res.text).toContain(message);
      expect(res.text).toContain('Auditors');
    }
    expect(JSON.stringify(await PermissionSetModel.findById(set._id).lean())).toBe(before);
    expect(await AuditEventModel.countDocuments()).toBe(events);
  });
});
