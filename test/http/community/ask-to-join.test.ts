/**
 * "Ask to become a community member" over HTTP: a contactless person sends a reason from the Community
 * area (the account page links to it); it lands in the qualification queue with the reason as the why
 * and a filter, audited; a second request is refused clearly and writes nothing; an empty, oversized or
 * forged (no CSRF) request writes nothing; a session of another site cannot ask there; a member account
 * has nothing to ask for; the upgrade closes the request, and asking again is throttled by the clock.
 */
import request from 'supertest';
import type { Types } from 'mongoose';
import { startTestApp, type TestApp } from '../../helpers/app';
import { adminAgent, makeAdmin, makeStaff } from '../../helpers/admin';
import { csrfFrom, registerGuest } from '../../helpers/forms';
import { AuditEventModel, JoinRequestModel, ProfileModel, SiteModel, UserModel } from '../../../src/data/models';
import { systemContext } from '../../../src/access/actor';
import { addContactAndAssociate, upgradeUser } from '../../../src/qualification/qualification';

let t: TestApp;
let staff: request.Agent;
let clock = new Date('2026-12-06T10:00:00Z');
beforeAll(async () => {
  t = await startTestApp('ask-to-join', { now: () => clock });
  await makeAdmin();
  await makeStaff('queue-staff@example.com', ['manageInternalUsers', 'manageCustomerUsers', 'manageExternalUsers']);
  staff = await adminAgent(t.app, 'queue-staff@example.com');
  const ei = (await ProfileModel.findOne({ name: 'External Identity User' }).lean())!;
  await SiteModel.create({
    name: 'Elsewhere',
    slug: 'elsewhere',
    selfRegistrationEnabled: true,
    registrationProfile: ei._id,
    members: { profiles: [], permissionSets: [] },
  });
});
afterAll(() => t.stop());

const AREA = '/s/portal/account/community';
async function ask(agent: request.Agent, reason: string, site = 'portal') {
  const page = await agent.get(`/s/${site}/account/community`);
  const token = /name="_csrf" value="([^"]+)"/.exec(page.text)?.[1] ?? 'none';
  return agent.post(`/s/${site}/account/community/ask`).type('form').send({ _csrf: token, reason });
}
const userId = async (email: string) => (await UserModel.findOne({ username: email }).lean())!._id as Types.ObjectId;

describe('asking', () => {
  it('the account page leads to the request; it lands in the queue with its reason, filterable, audited', async () => {
    const { agent } = await registerGuest(t.app, { firstName: 'Ivo', email: 'ivo@example.com' });
    await registerGuest(t.app, { firstName: 'Quiet', email: 'quiet@example.com' });
    const account = await agent.get('/s/portal/account');
    expect(account.text).toContain(`href="${AREA}#ask-to-join"`);
    // The site's own closed area (the seeded Community page) offers the same way in.
    const closed = await agent.get('/s/portal/community');
    expect(closed.status).toBe(403);
    expect(closed.text).toContain(`href="${AREA}#ask-to-join"`);
    const res = await ask(agent, 'We resell your product in Osaka <b>since 2019</b>.');
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe(`${AREA}?asked=1`);
    expect((await agent.get(`${AREA}?asked=1`)).text).toContain('id="ask-pending"');

    const id = await userId('ivo@example.com');
    const open = await JoinRequestModel.find({ user: id }).lean();
    expect(open.map((r) => [r.status, r.reason])).toEqual([
      ['open', 'We resell your product in Osaka <b>since 2019</b>.'],
    ]);
    const audit = await AuditEventModel.findOne({ action: 'user.asked_to_join', 'target.id': id }).lean();
    expect(audit?.after).toMatchObject({ joinRequest: String(open[0]._id), reasonLength: 50 });

    // The person's data export carries their request, in their words.
    const exported = await agent
      .post('/s/portal/account/export')
      .type('form')
      .send({ _csrf: csrfFrom(account.text) });
    expect(JSON.parse(exported.text).communityRequests).toEqual([
      { askedAt: clock.toISOString(), reason: 'We resell your product in Osaka <b>since 2019</b>.', status: 'open' },
    ]);

    const queue = await staff.get('/admin/qualify');
    expect(queue.text).toContain(
      'Asked to join: “We resell your product in Osaka &lt;b&gt;since 2019&lt;/b&gt;.” (+0)',
    );
    const asked = await staff.get('/admin/qualify?asked=yes');
    expect(asked.status).toBe(200);
    expect(asked.text).toContain(`value="${id}"`);
    expect(asked.text).not.toContain(`value="${await userId('quiet@example.com')}"`);
    expect((await staff.get('/admin/qualify?asked=maybe')).status).toBe(422);
    const match = await staff.get(`/admin/qualify/users/${id}`);
    expect(match.text).toContain('Asked to join the community:</strong> “We resell your product in Osaka &lt;b&gt;');
  });

  it('refuses a second request clearly and writes nothing', async () => {
    const { agent } = await registerGuest(t.app, { firstName: 'Twice', email: 'twice@example.com' });
    expect((await ask(agent, 'First time.')).status).toBe(303);
    const again = await ask(agent, 'Second time.');
    expect(again.status).toBe(409);
    expect(again.text).toContain(
      'You have already asked to become a community member; an administrator will answer that request.',
    );
    expect(await JoinRequestModel.countDocuments({ user: await userId('twice@example.com') })).toBe(1);
    // In the person's language.
    await UserModel.updateOne({ username: 'twice@example.com' }, { $set: { languageLocaleKey: 'ja_JP' } });
    const ja = await ask(agent, 'Third time.');
    expect(ja.status).toBe(409);
    expect(ja.text).toContain('コミュニティメンバーになる依頼はすでに送信済みです。');
    expect(ja.text).toContain('コミュニティメンバーになる依頼を送信済みです。管理者が回答します。');
  });

  it('two requests sent at once: one lands, the other is refused (the unique partial index decides)', async () => {
    const { agent } = await registerGuest(t.app, { firstName: 'Race', email: 'race@example.com' });
    const token = csrfFrom((await agent.get(AREA)).text);
    const send = (reason: string) => agent.post(`${AREA}/ask`).type('form').send({ _csrf: token, reason });
    const statuses = (await Promise.all([send('One.'), send('Two.'), send('Three.')])).map((r) => r.status).sort();
    expect(statuses).toEqual([303, 409, 409]);
    expect(await JoinRequestModel.countDocuments({ user: await userId('race@example.com') })).toBe(1);
  });

  it('refuses an empty or oversized reason and a request without its CSRF token, writing nothing', async () => {
    const { agent } = await registerGuest(t.app, { firstName: 'Empty', email: 'empty@example.com' });
    const empty = await ask(agent, '   ');
    expect(empty.status).toBe(422);
    expect(empty.text).toContain('Say in a few words why you would like to join.');
    const long = await ask(agent, 'x'.repeat(501));
    expect(long.status).toBe(422);
    expect(long.text).toContain('Use at most 500 characters.');
    const forged = await agent.post(`${AREA}/ask`).type('form').send({ reason: 'No token.' });
    expect(forged.status).toBe(403);
    expect(await JoinRequestModel.countDocuments({ user: await userId('empty@example.com') })).toBe(0);
  });

  it('a session of another site cannot ask there, and a member account has nothing to ask for', async () => {
    const { agent } = await registerGuest(t.app, { firstName: 'Roamer', email: 'roamer@example.com' });
    const token = csrfFrom((await agent.get(AREA)).text);
    const there = await agent
      .post('/s/elsewhere/account/community/ask')
      .type('form')
      .send({ _csrf: token, reason: 'Hi.' });
    expect(there.status).toBe(302);
    expect(there.headers.location).toMatch(/^\/s\/elsewhere\/login/);
    expect(await JoinRequestModel.countDocuments({ user: await userId('roamer@example.com') })).toBe(0);

    const { agent: member } = await registerGuest(t.app, { firstName: 'Member', email: 'member@example.com' });
    const id = await userId('member@example.com');
    await addContactAndAssociate(id, { lastName: 'Member', accountName: 'Member Co' }, systemContext);
    const community = (await ProfileModel.findOne({ name: 'Customer Community User' }).lean())!;
    await upgradeUser(id, community._id, systemContext);
    expect((await member.get('/s/portal/account')).text).not.toContain('id="ask-to-join-link"');
    const res = await member
      .post(`${AREA}/ask`)
      .type('form')
      .send({ _csrf: csrfFrom((await member.get(AREA)).text), reason: 'Me too.' });
    expect(res.status).toBe(409);
    expect(res.text).toContain('Your account is already a member account: there is nothing to ask for.');
    expect(await JoinRequestModel.countDocuments({ user: id })).toBe(0);
  });

  it('the upgrade closes the request; asking again waits a day', async () => {
    const { agent } = await registerGuest(t.app, { firstName: 'Later', email: 'later@example.com' });
    const id = await userId('later@example.com');
    expect((await ask(agent, 'Please.')).status).toBe(303);
    await addContactAndAssociate(id, { lastName: 'Later', accountName: 'Later Co' }, systemContext);
    const community = (await ProfileModel.findOne({ name: 'Customer Community User' }).lean())!;
    await upgradeUser(id, community._id, systemContext);
    expect((await JoinRequestModel.findOne({ user: id }).lean())!.status).toBe('closed');

    // Back to contactless (the request was answered), they ask again: not before a day has passed.
    await UserModel.updateOne({ _id: id }, { $set: { contact: null } });
    const soon = await ask(agent, 'Again.');
    expect(soon.status).toBe(429);
    expect(soon.text).toContain('You asked recently; try again tomorrow.');
    clock = new Date(clock.getTime() + 86_400_001);
    expect((await ask(agent, 'Again.')).status).toBe(303);
    expect(await JoinRequestModel.countDocuments({ user: id, status: 'open' })).toBe(1);
  });
});
