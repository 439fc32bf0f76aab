/**
 * Admin forms read input one way, as the site forms do: a field sent twice (`firstName=a&firstName=b`,
 * a duplicated checkbox) is refused with 422 and the form's message, and nothing is written. Before, the
 * admin area read a repeated field as '' (a blanked name saved) and a duplicated checkbox as unchecked
 * (self-registration and the two-factor requirement silently turned off, with "saved" shown).
 */
import request from 'supertest';
import { startTestApp, type TestApp } from '../../helpers/app';
import { csrfFrom } from '../../helpers/forms';
import { adminAgent, makeAdmin } from '../../helpers/admin';
import { AuditEventModel, LicenseModel, ProfileModel, SiteModel, UserModel } from '../../../src/data/models';
import { registerGuest } from '../../helpers/forms';

let t: TestApp;
let admin: request.Agent;
beforeAll(async () => {
  t = await startTestApp('admin-repeated-fields');
  await makeAdmin();
  admin = await adminAgent(t.app);
});
afterAll(() => t.stop());

/** Posts a raw urlencoded body (repeated keys as a browser would send them) with the page's token. */
async function postRaw(page: string, action: string, body: string) {
  const token = csrfFrom((await admin.get(page)).text);
  return admin
    .post(action)
    .type('form')
    .send(`_csrf=${encodeURIComponent(token)}&${body}`);
}

describe('a repeated field in an admin form', () => {
  it('is refused on the user edit form, naming the field, and the name is not blanked', async () => {
    await registerGuest(t.app, { email: 'twice@example.com', firstName: 'Grace' });
    const user = (await UserModel.findOne({ email: 'twice@example.com' }).lean())!;
    const audits = await AuditEventModel.countDocuments();
    const res = await postRaw(
      `/admin/users/${user._id}`,
      `/admin/users/${user._id}/edit`,
      'firstName=a&firstName=b&lastName=Hopper&email=twice%40example.com',
    );
    expect(res.status).toBe(422);
    expect(res.text).toContain('Send this field once, as text.');
    const after = (await UserModel.findById(user._id).lean())!;
    expect(after.firstName).toBe('Grace');
    expect(after.lastName).toBe(user.lastName);
    expect(await AuditEventModel.countDocuments()).toBe(audits);
  });

  it('is refused on the site form when a checkbox is duplicated: self-registration and two-factor stay on', async () => {
    const site = (await SiteModel.findOne({ slug: 'portal' }).lean())!;
    await SiteModel.updateOne({ _id: site._id }, { $set: { selfRegistrationEnabled: true, requireMfa: true } });
    const audits = await AuditEventModel.countDocuments();
    const body = [
      `_form=site-${site._id}`,
      `name=${encodeURIComponent(site.name)}`,
      `slug=${site.slug}`,
      `registrationProfileId=${site.registrationProfile}`,
      'selfRegistrationEnabled=on',
      'selfRegistrationEnabled=on',
      'lifecycleSettings=1',
      'requireMfa=on',
      'requireMfa=on',
    ].join('&');
    const res = await postRaw('/admin/sites', `/admin/sites/${site._id}`, body);
    expect(res.status).toBe(422);
    expect(res.text).toContain('Send this field once, as text.');
    expect(res.text).not.toContain('saved');
    const after = (await SiteModel.findById(site._id).lean())!;
    expect(after.selfRegistrationEnabled).toBe(true);
    expect(after.requireMfa).toBe(true);
    expect(await AuditEventModel.countDocuments()).toBe(audits);
  });

  it("still accepts a list where the form offers one (a profile's permission checkboxes)", async () => {
    const internal = (await LicenseModel.findOne({ userType: 'internal' }).lean())!;
    const res = await postRaw(
      '/admin/profiles',
      '/admin/profiles',
      `name=Two+perms&licenseId=${internal._id}&userType=internal&permissions=viewAuditTrail&permissions=manageApiTokens`,
    );
    expect([302, 303]).toContain(res.status);
    const saved = (await ProfileModel.findOne({ name: 'Two perms' }).lean())!;
    expect(saved.permissions).toMatchObject({
      viewAuditTrail: true,
      manageApiTokens: true,
      manageInternalUsers: false,
    });
  });
});
