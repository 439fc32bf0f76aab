/**
 * The Sites page: an "Open site" link on each site, a warning before a slug change breaks links (nothing
 * saved until confirmed), External Identity User as the default registration profile, and a
 * self-registration checkbox that says what it publishes.
 */
import request from 'supertest';
import { startTestApp, type TestApp } from '../../helpers/app';
import { csrfFrom, postForm } from '../../helpers/forms';
import { adminAgent, makeAdmin } from '../../helpers/admin';
import { AuditEventModel, ProfileModel, SiteModel, UserModel } from '../../../src/data/models';
import { createSite } from '../../../src/sites/sites';
import { loadActor } from '../../../src/access/actor';

let t: TestApp;
let admin: request.Agent;
beforeAll(async () => {
  t = await startTestApp('admin-sites');
  await makeAdmin();
  admin = await adminAgent(t.app);
});
afterAll(() => t.stop());

const post = (path: string, fields: Record<string, string>) => postForm(admin, '/admin/sites', path, fields);

describe('sites page', () => {
  it('links each site to its address and says what the self-registration checkbox publishes', async () => {
    const page = await admin.get('/admin/sites');
    expect(page.text).toMatch(
      /<a class="button secondary" href="\/s\/portal\/">Open site<span class="visually-hidden"> [^<]+<\/span><\/a>/,
    );
    expect(page.text).toContain(
      'Publish a self-registration page at /s/portal/register: anyone can create an account with the External Identity User profile',
    );
  });

  it('preselects External Identity User for a new site, and the domain uses it when none is given', async () => {
    const page = await admin.get('/admin/sites');
    const form = page.text.slice(page.text.indexOf('<h2>New site</h2>'));
    expect(form).toMatch(/<option value="[0-9a-f]{24}" selected>External Identity User<\/option>/);
    expect((form.match(/ selected>/g) ?? []).length).toBe(1);
    const actor = (await loadActor((await UserModel.findOne({ username: 'admin@example.com' }).lean())!._id))!;
    const site = await createSite({ name: 'Defaulted', slug: 'defaulted' }, { actor, via: 'admin' });
    const ei = (await ProfileModel.findOne({ name: 'External Identity User' }).lean())!;
    expect(String(site.registrationProfile)).toBe(String(ei._id));
    // The form without a profile too.
    expect((await post('/admin/sites', { _form: 'new-site', name: 'No profile', slug: 'no-profile' })).status).toBe(
      303,
    );
    expect(String((await SiteModel.findOne({ slug: 'no-profile' }).lean())!.registrationProfile)).toBe(String(ei._id));
  });

  it('warns before a slug change, naming the old and new addresses, and saves nothing until confirmed', async () => {
    const site = (await SiteModel.findOne({ slug: 'defaulted' }).lean())!;
    const fields = {
      _form: `site-${site._id}`,
      name: 'Defaulted, renamed',
      slug: 'moved',
      registrationProfileId: String(site.registrationProfile),
      lifecycleSettings: '1',
      allowUnverifiedSignIn: 'on',
    };
    const audits = await AuditEventModel.countDocuments();
    const warned = await post(`/admin/sites/${site._id}`, fields);
    expect(warned.status).toBe(409);
    expect(warned.text).toContain('Changing the address breaks links: /s/defaulted/');
    expect(warned.text).toContain('the site moves to /s/moved/');
    expect(warned.text).toMatch(/<input type="hidden" name="confirmedSlug" value="moved">/);
    expect(warned.text).toContain('Change the address to /s/moved/</button>');
    expect(warned.text).toContain('value="Defaulted, renamed"'); // what was typed stays
    // Nothing written: neither the slug nor the name, and no audit event.
    const unchanged = (await SiteModel.findById(site._id).lean())!;
    expect(unchanged.slug).toBe('defaulted');
    expect(unchanged.name).toBe('Defaulted');
    expect(await AuditEventModel.countDocuments()).toBe(audits);
    expect((await request(t.app).get('/s/defaulted/')).status).toBe(200);

    // Confirming a different address than the one warned about asks again.
    expect(
      (await post(`/admin/sites/${site._id}`, { ...fields, slug: 'elsewhere', confirmedSlug: 'moved' })).status,
    ).toBe(409);
    expect((await SiteModel.findById(site._id).lean())!.slug).toBe('defaulted');

    // The confirmation form re-posts with its fresh token and saves.
    const confirmed = await admin
      .post(`/admin/sites/${site._id}`)
      .type('form')
      .send({ ...fields, confirmedSlug: 'moved', _csrf: csrfFrom(warned.text) });
    expect(confirmed.status).toBe(303);
    expect((await SiteModel.findById(site._id).lean())!.slug).toBe('moved');
    expect((await request(t.app).get('/s/moved/')).status).toBe(200);
    expect((await request(t.app).get('/s/defaulted/')).status).toBe(404);
  });

  it('does not ask about a malformed or unchanged address', async () => {
    const site = (await SiteModel.findOne({ slug: 'moved' }).lean())!;
    const base = { _form: `site-${site._id}`, name: 'Moved', registrationProfileId: String(site.registrationProfile) };
    const bad = await post(`/admin/sites/${site._id}`, { ...base, slug: 'Not A Slug!' });
    expect(bad.status).toBe(422);
    expect(bad.text).not.toContain('name="confirmedSlug"');
    expect((await post(`/admin/sites/${site._id}`, { ...base, slug: 'MOVED' })).status).toBe(303);
    expect((await SiteModel.findById(site._id).lean())!.name).toBe('Moved');
  });
});
