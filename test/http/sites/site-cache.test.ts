/**
 * The site cache (src/data/site-cache.ts): a site is read from the database at most once per
 * SITE_CACHE_SECONDS; a change made through this process shows at the next request; a change made by
 * another instance (a write this process's mongoose never sees) shows once the entry expires.
 */
import request from 'supertest';
import { startTestApp, type TestApp } from '../../helpers/app';
import { ProfileModel, SiteModel } from '../../../src/data/models';
import { configureSiteCache, siteBySlug } from '../../../src/sites/site-cache';

let t: TestApp;
let clock = 1_000_000;
beforeAll(async () => {
  t = await startTestApp('site-cache');
  configureSiteCache({ seconds: 5, clock: () => clock });
});
afterAll(() => t.stop());

const title = (html: string) => /<title>([^<]*)<\/title>/.exec(html)?.[1] ?? '';

describe('site cache', () => {
  it("another instance's change (a direct write to the collection) shows only once the entry has expired", async () => {
    expect(title((await request(t.app).get('/s/portal/')).text)).toContain('Customer Portal');
    // As another instance behind the load balancer would: straight to the database, past this process's mongoose.
    await t.db.connection.db!.collection('sites').updateOne({ slug: 'portal' }, { $set: { name: 'Renamed Portal' } });
    clock += 4000;
    expect(title((await request(t.app).get('/s/portal/')).text)).toContain('Customer Portal');
    clock += 1001;
    expect(title((await request(t.app).get('/s/portal/')).text)).toContain('Renamed Portal');
  });

  it('a change through mongoose in this process shows at the next request (self-registration turned off → 404)', async () => {
    expect((await request(t.app).get('/s/portal/register')).status).toBe(200);
    await SiteModel.updateOne({ slug: 'portal' }, { $set: { selfRegistrationEnabled: false } });
    const closed = await request(t.app).get('/s/portal/register');
    expect(closed.status).toBe(404);
    expect(closed.text).toContain('Self-registration is not available on this site.');
    const site = (await SiteModel.findOne({ slug: 'portal' }))!;
    site.selfRegistrationEnabled = true;
    await site.save();
    expect((await request(t.app).get('/s/portal/register')).status).toBe(200);
  });

  it('an unknown slug is remembered as unknown only until a site with that slug is created here', async () => {
    const missing = await request(t.app).get('/s/partners/');
    expect(missing.status).toBe(404);
    expect(missing.text).toContain('There is no site at this address.');
    const ei = (await ProfileModel.findOne({ name: 'External Identity User' }).lean())!;
    await SiteModel.create({ name: 'Partners', slug: 'partners', registrationProfile: ei._id });
    const found = await request(t.app).get('/s/partners/');
    expect(found.status).toBe(200);
    expect(title(found.text)).toContain('Partners');
  });

  it('the shared record is frozen: a request cannot change what the next one reads', async () => {
    const first = (await siteBySlug('portal'))! as unknown as { name: string; pages: unknown[] };
    expect(() => (first.name = 'Changed in memory only')).toThrow(TypeError);
    expect(() => first.pages.push({ slug: 'x', title: 'X' })).toThrow(TypeError);
    const second = (await siteBySlug('portal'))!;
    expect(second.name).not.toBe('Changed in memory only');
    expect(second.pages.map((p) => p.slug)).not.toContain('x');
  });
});
