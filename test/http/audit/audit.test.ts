/**
 * The audit trail's actor search (a case-insensitive substring of the username, typed text taken
 * literally, bounded in time) and changes made during Login As (recorded as the admin's, for the user).
 */
import request from 'supertest';
import { startTestApp, type TestApp } from '../../helpers/app';
import { postForm, registerGuest } from '../../helpers/forms';
import { adminAgent, makeAdmin, makeStaff } from '../../helpers/admin';
import { AuditEventModel, UserModel } from '../../../src/data/models';
import { loadActor } from '../../../src/access/actor';
import { listAuditEvents } from '../../../src/audit/audit-trail';
import { ValidationError } from '../../../src/shared/errors';

let t: TestApp;
let admin: request.Agent;
beforeAll(async () => {
  t = await startTestApp('admin-audit');
  await makeAdmin('root.admin@example.com');
  admin = await adminAgent(t.app, 'root.admin@example.com');
});
afterAll(() => t.stop());

let n = 0;
async function registrant(firstName = 'Reg', lastName = `Number${++n}`) {
  const email = `${lastName.toLowerCase()}${n}@example.com`;
  await registerGuest(t.app, { firstName, lastName, email });
  return (await UserModel.findOne({ username: email }).lean())!;
}
const act = (agent: request.Agent, id: unknown, action: string, fields: Record<string, string> = {}) =>
  postForm(agent, '/admin', `/admin/users/${id}/${action}`, fields);
const sentences = (html: string) =>
  [...html.matchAll(/<p class="audit-sentence">([\s\S]*?)<\/p>/g)].map((m) =>
    m[1]
      .replace(/<[^>]+>/g, '')
      .replace(/\s+/g, ' ')
      .trim(),
  );
const edit = (agent: request.Agent, u: { _id: unknown; email: string }, lastName: string) =>
  act(agent, u._id, 'edit', {
    firstName: 'Reg',
    lastName,
    email: u.email,
    communityNickname: `nick${++n}`,
    alias: 'reg',
  });

describe('searching the audit trail by actor', () => {
  let lovelace: request.Agent;
  let dotted: request.Agent;
  let plain: request.Agent;
  beforeAll(async () => {
    const perms = ['manageInternalUsers', 'manageCustomerUsers', 'viewAuditTrail'] as const;
    await makeStaff('Lovelace.Ops@example.com', [...perms]);
    await makeStaff('dot.ops@example.com', [...perms]);
    await makeStaff('dotxops@example.com', [...perms]);
    lovelace = await adminAgent(t.app, 'lovelace.ops@example.com');
    dotted = await adminAgent(t.app, 'dot.ops@example.com');
    plain = await adminAgent(t.app, 'dotxops@example.com');
    const u = await registrant();
    expect((await edit(lovelace, u, 'ByLovelace')).status).toBe(303);
    expect((await edit(dotted, u, 'ByDotted')).status).toBe(303);
    expect((await edit(plain, u, 'ByPlain')).status).toBe(303);
    expect((await edit(admin, u, 'ByRoot')).status).toBe(303);
  });

  it("finds an actor's events from a fragment of the username, ignoring case, and no one else's", async () => {
    const page = await admin.get('/admin/audit?action=user.edited&actor=VELAC');
    expect(page.status).toBe(200);
    expect(sentences(page.text)).toEqual([
      expect.stringMatching(/^lovelace\.ops@example\.com edited the details of Reg By/),
    ]);
    expect(page.text).toContain('ByLovelace</td>');
    expect(page.text).toContain('value="VELAC"');
    const csv = await admin.get('/admin/audit.csv?action=user.edited&actor=velac');
    expect(
      csv.text
        .trim()
        .split('\n')
        .slice(1)
        .map((l) => l.split(',')[2]),
    ).toEqual(['lovelace.ops@example.com']);
  });

  it('takes regular expression characters in the query literally', async () => {
    const dot = await admin.get('/admin/audit?action=user.edited&actor=t.o');
    expect(sentences(dot.text).map((s) => s.split(' ')[0])).toEqual(['dot.ops@example.com']);
    for (const q of ['.*', '(', '[a-z]+', 'dot|root', '\\']) {
      const res = await admin.get(`/admin/audit?action=user.edited&actor=${encodeURIComponent(q)}`);
      expect(res.status).toBe(200);
      expect(sentences(res.text)).toEqual([]);
      expect(res.text).toContain('No changes recorded that match these filters.');
    }
  });

  it('shows a refused search again with the filters as typed and the message, and no events', async () => {
    // The same path as a search that ran out of time (see below): the page, its filters kept, the reason on top.
    const res = await admin.get('/admin/audit?actor=velac&from=2024-13-01');
    expect(res.status).toBe(400);
    expect(res.text).toContain('<nav aria-label="Admin" class="nav-wide">');
    expect(res.text).toMatch(
      /id="error-summary" role="alert">&#34;2024-13-01&#34; is not a date: write the &#34;from&#34; date as YYYY-MM-DD\./,
    );
    expect(res.text).toContain('value="velac"');
    expect(res.text).toContain('No events shown: change the filters and try again.');
    expect(sentences(res.text)).toEqual([]);
  });

  it('says what the field does and how long a search may take', async () => {
    const page = await admin.get('/admin/audit');
    expect(page.text).toContain('<label for="a-actor">By (part of the username)</label>');
    expect(page.text).toMatch(/Any part, ignoring case; a search stops after 5 seconds\./);
  });
});

describe('changes made during Login As', () => {
  it('are recorded with the admin as the actor and the user as the one acted for, and read as such', async () => {
    const u = await registrant('Ada', 'Lovelace');
    expect(
      (await act(admin, u._id, 'contact', { lastName: 'Lovelace', accountName: 'Analytical Engines' })).status,
    ).toBe(303);
    expect(
      (
        await act(admin, u._id, 'upgrade', {
          profileId: String(
            (await UserModel.db.collection('profiles').findOne({ name: 'Customer Community User' }))!._id,
          ),
        })
      ).status,
    ).toBe(303);
    const start = await act(admin, u._id, 'login-as');
    expect(start.status).toBe(303);

    const saved = await postForm(admin, '/s/portal/account', '/s/portal/account', {
      firstName: 'Augusta Ada',
      lastName: 'Lovelace',
      communityNickname: 'countess',
      localeSidKey: 'en_GB',
      languageLocaleKey: 'en_US',
      timeZoneSidKey: 'Europe/London',
    });
    expect(saved.status).toBe(303);
    const event = (await AuditEventModel.findOne({ action: 'user.profile_updated', 'target.id': u._id }).lean())!;
    expect(event.actor?.username).toBe('root.admin@example.com');
    expect(String(event.actor?.id)).toBe(
      String((await UserModel.findOne({ username: 'root.admin@example.com' }).lean())!._id),
    );
    expect(event.onBehalfOf?.username).toBe(u.username);
    expect(String(event.onBehalfOf?.id)).toBe(String(u._id));
    expect(event.via).toBe('site');
    // Never as the user's own change.
    expect(await AuditEventModel.countDocuments({ 'actor.id': u._id })).toBe(0);

    const page = await admin.get(`/admin/audit?targetId=${u._id}&action=user.profile_updated`);
    expect(sentences(page.text)).toEqual([
      'root.admin@example.com, logged in as Augusta Ada Lovelace, updated the profile of Augusta Ada Lovelace',
    ]);
    const userPage = await admin.get(`/admin/users/${u._id}`);
    expect(userPage.text).toContain(`root.admin@example.com, logged in as ${u.username}`);
  });

  it("records the user's own change as theirs, with no one acted for", async () => {
    const u = await registrant('Grace', 'Hopper');
    const agent = request.agent(t.app);
    await postForm(agent, '/s/portal/login', '/s/portal/login', {
      username: u.username,
      password: 'violet-harbor-tractor-91',
    });
    const saved = await postForm(agent, '/s/portal/account', '/s/portal/account', {
      firstName: 'Grace',
      lastName: 'Hopper',
      communityNickname: 'amazing',
      localeSidKey: 'en_US',
      languageLocaleKey: 'en_US',
      timeZoneSidKey: 'America/New_York',
    });
    expect(saved.status).toBe(303);
    const event = (await AuditEventModel.findOne({ action: 'user.profile_updated', 'target.id': u._id }).lean())!;
    expect(event.actor?.username).toBe(u.username);
    expect(event.onBehalfOf).toBeNull();
  });
});

describe('a search bounded in time', () => {
  it('is refused with what to do instead when it takes longer than its bound', async () => {
    const actor = (await loadActor((await UserModel.findOne({ username: 'root.admin@example.com' }).lean())!._id))!;
    const at = new Date('2020-01-01T00:00:00Z');
    await AuditEventModel.insertMany(
      Array.from({ length: 60_000 }, (_, i) => ({
        at: new Date(at.getTime() + i),
        action: 'bulk.noise',
        actor: { id: null, username: `noise-${i}@example.com` },
      })),
      { lean: true },
    );
    const err = await listAuditEvents(actor, { actor: 'nobody-has-this' }, 101, { maxTimeMS: 1 }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ValidationError);
    expect((err as ValidationError).message).toMatch(
      /The search took longer than 1 second and was stopped\. Narrow it with From and To dates or an action/,
    );
    expect((err as ValidationError).fields.actor).toMatch(/Narrow this search/);
    // Within its bound, the same search answers (with nothing found).
    await expect(listAuditEvents(actor, { actor: 'nobody-has-this' }, 101, { maxTimeMS: 60_000 })).resolves.toEqual([]);
  }, 60_000);
});
