/**
 * Site membership and what a license grants, through HTTP: only members sign in (a non-member gets the
 * wrong-password answer), internal users sign in only where their profile or a set is a member, and the
 * Community area follows the user's license at every request, before and after an upgrade.
 */
import request from 'supertest';
import { startTestApp, type TestApp } from '../../helpers/app';
import { GOOD_PASSWORD, logIn, registerGuest } from '../../helpers/forms';
import { ADMIN_PASSWORD, makeAdmin, makeStaff } from '../../helpers/admin';
import { PermissionSetModel, ProfileModel, SiteModel, UserModel } from '../../../src/data/models';
import { systemContext } from '../../../src/access/actor';
import { addContactAndAssociate, downgradeUser, upgradeUser } from '../../../src/qualification/qualification';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp('site-membership');
  await makeAdmin();
  const ei = (await ProfileModel.findOne({ name: 'External Identity User' }).lean())!;
  // A second site whose only member is the Customer Community User profile.
  const community = (await ProfileModel.findOne({ name: 'Customer Community User' }).lean())!;
  await SiteModel.create({
    name: 'Members only',
    slug: 'members',
    selfRegistrationEnabled: false,
    registrationProfile: ei._id,
    members: { profiles: [community._id], permissionSets: [] },
  });
});
afterAll(() => t.stop());

const alertText = (html: string) => /role="alert">([^<]+)</.exec(html)?.[1];

describe('membership', () => {
  it('a registrant signs in on the site they belong to, and gets the wrong-password answer on a site they do not', async () => {
    await registerGuest(t.app, { email: 'guest@example.com' });
    expect((await logIn(request.agent(t.app), 'guest@example.com', GOOD_PASSWORD)).status).toBe(303);
    const nonMember = await logIn(request.agent(t.app), 'guest@example.com', GOOD_PASSWORD, undefined, 'members');
    const wrong = await logIn(
      request.agent(t.app),
      'guest@example.com',
      'not-the-password-at-all',
      undefined,
      'members',
    );
    expect(nonMember.status).toBe(401);
    expect(wrong.status).toBe(401);
    expect(alertText(nonMember.text)).toBe(alertText(wrong.text));
    const setsSession = (r: request.Response) =>
      ([] as string[]).concat(r.headers['set-cookie'] ?? []).some((c) => c.startsWith('portal.sid'));
    expect(setsSession(nonMember)).toBe(setsSession(wrong));
  });

  it("a session from one site is a visitor's on a site it is not a member of", async () => {
    const { agent } = await registerGuest(t.app, { email: 'wanderer@example.com' });
    expect((await agent.get('/s/portal/')).text).toContain('Welcome, Ada!');
    const other = await agent.get('/s/members/');
    expect(other.text).not.toContain('Welcome, Ada!');
    expect(other.text).toContain('Log in');
    expect((await agent.get('/s/members/account')).status).toBe(302);
  });

  it('internal users sign in to a site only where their profile or one of their permission sets is a member', async () => {
    const staff = await makeStaff('staff-site@example.com', []);
    expect((await logIn(request.agent(t.app), 'staff-site@example.com', ADMIN_PASSWORD)).status).toBe(401);
    const set = await PermissionSetModel.create({ name: 'Portal visitors' });
    await UserModel.updateOne({ _id: staff._id }, { $push: { permissionSets: set._id } });
    await SiteModel.updateOne({ slug: 'portal' }, { $push: { 'members.permissionSets': set._id } });
    expect((await logIn(request.agent(t.app), 'staff-site@example.com', ADMIN_PASSWORD)).status).toBe(303);
    expect(
      (await logIn(request.agent(t.app), 'staff-site@example.com', ADMIN_PASSWORD, undefined, 'members')).status,
    ).toBe(401);
  });
});

describe('the Community area', () => {
  it('is closed to a contactless user with an explanation, and opens at the next request after an upgrade', async () => {
    const { agent } = await registerGuest(t.app, { firstName: 'Cleo', email: 'cleo@example.com' });
    const home = await agent.get('/s/portal/');
    expect(home.text).not.toContain('href="/s/portal/community"');
    expect(home.text).toContain('Your account can be upgraded');
    const closed = await agent.get('/s/portal/community');
    expect(closed.status).toBe(403);
    expect(closed.text).toMatch(
      /id="upgrade-note">The Community area is for members with a community license. Your account can be upgraded/,
    );

    const user = (await UserModel.findOne({ username: 'cleo@example.com' }).lean())!;
    await addContactAndAssociate(user._id, { lastName: 'Cleo', accountName: 'Cleo Inc' }, systemContext);
    await upgradeUser(
      user._id,
      (await ProfileModel.findOne({ name: 'Customer Community User' }).lean())!._id,
      systemContext,
    );
    // Same session, no new sign-in.
    const upgradedHome = await agent.get('/s/portal/');
    expect(upgradedHome.text).toContain('<a href="/s/portal/community">Community</a>');
    expect(upgradedHome.text).not.toContain('Your account can be upgraded');
    const open = await agent.get('/s/portal/community');
    expect(open.status).toBe(200);
    expect(open.text).toContain('Welcome to the community');

    await downgradeUser(user._id, undefined, systemContext);
    expect((await agent.get('/s/portal/community')).status).toBe(403);
    expect((await agent.get('/s/portal/')).text).not.toContain('href="/s/portal/community"');
  });

  it('sends visitors to sign in, and answers 404 for a page the site does not have', async () => {
    const visitor = await request(t.app).get('/s/portal/community');
    expect(visitor.status).toBe(302);
    expect(visitor.headers.location).toBe('/s/portal/login?returnTo=%2Fs%2Fportal%2Fcommunity');
    const { agent } = await registerGuest(t.app, { email: 'nopage@example.com' });
    expect((await agent.get('/s/portal/nothing-here')).status).toBe(404);
  });
});
