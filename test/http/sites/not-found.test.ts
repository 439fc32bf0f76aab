/** Issue 26 item 10: an unknown page of a site is a 404 with a way on, for visitors and signed-in users alike. */
import request from 'supertest';
import { startTestApp, type TestApp } from '../../helpers/app';
import { GOOD_PASSWORD, logIn, registerGuest } from '../../helpers/forms';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp('site-not-found');
  await registerGuest(t.app, { email: 'nina@example.com', firstName: 'Nina' });
});
afterAll(() => t.stop());

describe('an unknown page of a site', () => {
  it('answers 404 with the site header and links on for an anonymous visitor, not a redirect to sign in', async () => {
    const res = await request(t.app).get('/s/portal/no-such-page');
    expect(res.status).toBe(404);
    expect(res.headers.location).toBeUndefined();
    expect(res.text).toContain('<h1>Page not found</h1>');
    expect(res.text).toContain('There is no page at this address on this site.');
    expect(res.text).toMatch(/<li><a href="\/s\/portal\/">[^<]+ home<\/a><\/li>/);
    expect(res.text).toContain('<li><a href="/s/portal/login">Log in</a></li>');
  });

  it('answers the same 404 to a signed-in user, with a link to the account instead of Log in', async () => {
    const agent = request.agent(t.app);
    expect((await logIn(agent, 'nina@example.com', GOOD_PASSWORD)).status).toBe(303);
    const res = await agent.get('/s/portal/no-such-page');
    expect(res.status).toBe(404);
    expect(res.text).toContain('<h1>Page not found</h1>');
    expect(res.text).toContain('<li><a href="/s/portal/account">Your account</a></li>');
    expect(res.text).not.toContain('<li><a href="/s/portal/login">Log in</a></li>');
  });

  it('answers 404 for a deeper unknown address of a site too, and keeps existing audience pages behind sign-in', async () => {
    const deep = await request(t.app).get('/s/portal/no/such/page');
    expect(deep.status).toBe(404);
    expect(deep.text).toContain('<h1>Page not found</h1>');
    const community = await request(t.app).get('/s/portal/community');
    expect(community.status).toBe(302);
    expect(community.headers.location).toBe('/s/portal/login?returnTo=%2Fs%2Fportal%2Fcommunity');
  });
});
