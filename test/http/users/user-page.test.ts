/**
 * The guided user page over HTTP: Post/Redirect/Get messages saying what changed, field errors beside
 * the field of the refused form only (what was typed kept, ids unique), and confirmation pages.
 */
import type request from 'supertest';
import { startTestApp, type TestApp } from '../../helpers/app';
import { postForm, registerGuest } from '../../helpers/forms';
import { adminAgent, makeAdmin } from '../../helpers/admin';
import { AuditEventModel, LicenseModel, ProfileModel, UserModel } from '../../../src/data/models';

let t: TestApp;
let admin: request.Agent;
beforeAll(async () => {
  t = await startTestApp('admin-user-page');
  await makeAdmin();
  admin = await adminAgent(t.app);
});
afterAll(() => t.stop());

let n = 0;
async function registrant(firstName = 'Ada', lastName = 'Lovelace') {
  n++;
  await registerGuest(t.app, { firstName, lastName, email: `page${n}@example.com` });
  return (await UserModel.findOne({ username: `page${n}@example.com` }).lean())!;
}
const act = (id: unknown, action: string, fields: Record<string, string> = {}) =>
  postForm(admin, `/admin/users/${id}`, `/admin/users/${id}/${action}`, fields);
const ids = (html: string) => [...html.matchAll(/\sid="([^"]+)"/g)].map((m) => m[1]);

describe('the user page', () => {
  it('shows the state header and the steps in order, the license step disabled with its reason while contactless', async () => {
    const u = await registrant();
    const page = await admin.get(`/admin/users/${u._id}`);
    expect(page.text).toMatch(/<dt>Contact<\/dt><dd>Contactless<\/dd>/);
    expect(page.text).toMatch(/<dt>License<\/dt><dd>External Identity<\/dd>/);
    expect(page.text).toMatch(/<dt>Last sign-in<\/dt><dd><time[^>]*>just now<\/time>/);
    const order = ['id="step-contact"', 'id="step-license"', 'id="step-login-as"', 'id="danger"'].map((s) =>
      page.text.indexOf(s),
    );
    expect(order.every((i, k) => i > 0 && (k === 0 || i > order[k - 1]))).toBe(true);
    expect(page.text).toMatch(/<fieldset id="upgrade-profileId" disabled aria-describedby="upgrade-reason">/);
    expect(page.text).toContain('Add or associate a contact first (step 1)');
    expect(page.text).toMatch(/<button type="submit" disabled>Upgrade<\/button>/);
    // Cheapest first, each with its seats.
    const cc = page.text.indexOf('Customer Community User: 100 of 100 seats left');
    const plus = page.text.indexOf('Customer Community Plus User: 50 of 50 seats left');
    const partner = page.text.indexOf('Partner Community User: 25 of 25 seats left');
    expect(cc).toBeGreaterThan(0);
    expect(plus).toBeGreaterThan(cc);
    expect(partner).toBeGreaterThan(plus);
    const all = ids(page.text);
    expect(all.length).toBe(new Set(all).size);
    // Destructive actions are links to confirmation pages, not one-click forms.
    expect(page.text).toContain(`<a class="button danger" href="/admin/users/${u._id}/deactivate">Deactivate</a>`);
    expect(page.text).not.toContain(`action="/admin/users/${u._id}/deactivate"`);
  });

  it('redirects after adding a contact and upgrading, with messages saying what changed', async () => {
    const u = await registrant('Grace', 'Hopper');
    let res = await act(u._id, 'contact', {
      _form: 'contact',
      firstName: 'Grace',
      lastName: 'Hopper',
      email: u.email,
      accountId: '',
      accountName: 'Navy',
    });
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe(`/admin/users/${u._id}`);
    let page = await admin.get(res.headers.location);
    expect(page.text).toContain('Contact added and associated with the user: Grace Hopper. Next: choose a license.');
    expect(page.text).toMatch(/<dt>Contact<\/dt><dd>Grace Hopper, Navy<\/dd>/);

    const profile = (await ProfileModel.findOne({ name: 'Customer Community User' }).lean())!;
    res = await act(u._id, 'upgrade', { _form: 'upgrade', profileId: String(profile._id) });
    expect(res.status).toBe(303);
    page = await admin.get(res.headers.location);
    const license = (await LicenseModel.findById(profile.license).lean())!;
    expect(page.text).toContain(
      `Upgraded to Customer Community User; Customer Community: ${license.usedSeats} of ${license.totalSeats} seats used.`,
    );
    expect(page.text).toContain(
      `Customer Community User: ${license.totalSeats - license.usedSeats} of ${license.totalSeats} seats left (current)`,
    );
    // The message is shown once: a reload no longer has it.
    expect((await admin.get(res.headers.location)).text).not.toContain('Upgraded to');
  });

  it('shows a field error beside the field of the refused form only, keeping what was typed', async () => {
    const u = await registrant();
    const res = await act(u._id, 'contact', {
      _form: 'contact',
      firstName: 'Ada',
      lastName: 'Byron',
      email: 'ada@example.com',
      phone: '+44 20 7946 0000',
      title: 'Countess',
      accountId: '',
      accountName: '',
    });
    expect(res.status).toBe(422);
    expect(res.text).toMatch(
      /<select id="contact-accountId" name="accountId" aria-invalid="true" aria-describedby="contact-accountId-error">/,
    );
    expect(res.text).toContain(
      '<p class="field-error" id="contact-accountId-error">Choose an account or type the name of a new one.</p>',
    );
    expect(res.text).toMatch(/id="contact-lastName" name="lastName" type="text"\s+value="Byron"/);
    expect(res.text).toMatch(/id="contact-phone" name="phone" type="tel"\s+value="\+44 20 7946 0000"/);
    expect(res.text).toMatch(/id="contact-title" name="title" type="text"\s+value="Countess"/);
    // The edit form further down keeps the user's own values and no error.
    expect(res.text).toMatch(/id="edit-lastName" name="lastName" type="text"\s+value="Lovelace"\s+>/);
    expect(res.text).not.toContain('id="edit-lastName-error"');
    expect(res.text).not.toMatch(/id="edit-[a-zA-Z]+"[^>]*aria-invalid/);
    // One error summary linking to the fields, focused on load.
    expect(res.text).toMatch(/id="error-summary" role="alert">/);
    expect(res.text).toContain('<a href="#contact-accountId">Choose an account or type the name of a new one.</a>');
    const all = ids(res.text);
    expect(all.length).toBe(new Set(all).size);
    expect((await UserModel.findById(u._id).lean())!.contact).toBeNull();
  });

  it('keeps what was typed in the edit form when it is refused', async () => {
    const u = await registrant();
    const res = await act(u._id, 'edit', {
      _form: 'edit',
      firstName: 'Augusta',
      lastName: 'King',
      email: 'not-an-address',
      communityNickname: u.communityNickname,
      alias: u.alias,
    });
    expect(res.status).toBe(422);
    expect(res.text).toMatch(/id="edit-email"[^>]*value="not-an-address"[^>]*aria-invalid="true"/);
    expect(res.text).toMatch(/id="edit-firstName" name="firstName" type="text"\s+value="Augusta"/);
    expect((await UserModel.findById(u._id).lean())!.firstName).toBe('Ada');
  });
});

describe('confirmations', () => {
  it('asks before deactivating, naming the person and the consequence, and changes nothing until confirmed', async () => {
    const u = await registrant('Katherine', 'Johnson');
    const page = await admin.get(`/admin/users/${u._id}/deactivate`);
    expect(page.status).toBe(200);
    expect(page.text).toContain('<h1>Deactivate Katherine Johnson?</h1>');
    expect(page.text).toContain(
      'Katherine Johnson is signed out everywhere and can&#39;t sign in until activated again.',
    );
    expect(page.text).toContain(`<form method="post" action="/admin/users/${u._id}/deactivate">`);
    expect((await UserModel.findById(u._id).lean())!.isActive).toBe(true);
    const res = await postForm(admin, `/admin/users/${u._id}/deactivate`, `/admin/users/${u._id}/deactivate`, {});
    expect(res.status).toBe(303);
    expect((await admin.get(res.headers.location)).text).toContain('User deactivated; their sessions have ended.');
    expect((await UserModel.findById(u._id).lean())!.isActive).toBe(false);
  });

  it('has no confirmation page for a downgrade of a contactless user and the like (404 for unknown users)', async () => {
    expect((await admin.get('/admin/users/0123456789abcdef01234567/deactivate')).status).toBe(404);
  });
});

describe('the users list', () => {
  it('shows a result count, Clear filters, the columns, and Login As only where allowed', async () => {
    const plain = await registrant('Mary', 'Somerville');
    const qualified = await registrant('Mary', 'Fairfax');
    await act(qualified._id, 'contact', {
      firstName: 'Mary',
      lastName: 'Fairfax',
      email: qualified.email,
      accountId: '',
      accountName: 'Royal Society',
    });
    await act(qualified._id, 'upgrade', {
      profileId: String((await ProfileModel.findOne({ name: 'Customer Community User' }).lean())!._id),
    });
    const res = await admin.get('/admin/users?q=mary');
    expect(res.text).toContain('<p id="result-count" role="status">2 users match.</p>');
    expect(res.text).toContain('<a class="button secondary" href="/admin/users" id="clear-filters">Clear filters</a>');
    expect(res.text).toMatch(/<th>Email<\/th><th>Contact<\/th><th>License<\/th><th>Status<\/th><th>Registered<\/th>/);
    expect(res.text).toContain('<td data-label="Contact">Mary Fairfax, Royal Society</td>');
    expect(res.text).toContain('<td data-label="License">Customer Community</td>');
    expect(res.text).toMatch(
      /<td data-label="Registered"><time datetime="[^"]+" title="[^"]+ UTC">just now<\/time><\/td>/,
    );
    expect(res.text).toContain(`action="/admin/users/${qualified._id}/login-as"`);
    expect(res.text).not.toContain(`action="/admin/users/${plain._id}/login-as"`);
    const none = await admin.get('/admin/users?q=nobody-has-this-name');
    expect(none.text).toContain('<p id="result-count" role="status">No users match.</p>');
    expect(none.text).not.toContain('id="users-table"');
    expect((await admin.get('/admin/users')).text).not.toContain('Clear filters');
  });
});

describe('secrets shown once', () => {
  it('does not create a second API token when the page that showed it is posted again (a reload)', async () => {
    const page = await admin.get('/admin/api-tokens');
    const nonce = /name="_once" value="([^"]+)"/.exec(page.text)![1];
    const csrf = /name="_csrf" value="([^"]+)"/.exec(page.text)![1];
    const first = await admin
      .post('/admin/api-tokens')
      .type('form')
      .send({
        _csrf: csrf,
        _once: nonce,
        name: 'CRM sync',
        scopes: ['users:read', 'users:write', 'bulk', 'scim'],
        days: '90',
      });
    expect(first.status).toBe(201);
    expect(first.text).toMatch(/<div class="secret" id="new-token">[^<]+<\/div>/);
    const again = await admin
      .post('/admin/api-tokens')
      .type('form')
      .send({
        _csrf: csrf,
        _once: nonce,
        name: 'CRM sync',
        scopes: ['users:read', 'users:write', 'bulk', 'scim'],
        days: '90',
      });
    expect(again.status).toBe(303);
    const list = await admin.get(again.headers.location);
    expect(list.text).toContain('That token was already created; its value was shown only once.');
    expect(list.text).not.toContain('id="new-token"');
    expect((list.text.match(/<td data-label="Name">CRM sync<\/td>/g) ?? []).length).toBe(1);
  });
});

describe('the audit trail', () => {
  it('reads as sentences with names, a before/after diff, readable action names, an empty state and pages', async () => {
    const u = await registrant('Emmy', 'Noether');
    await act(u._id, 'contact', {
      firstName: 'Emmy',
      lastName: 'Noether',
      email: u.email,
      accountId: '',
      accountName: 'Göttingen',
    });
    await act(u._id, 'upgrade', {
      profileId: String((await ProfileModel.findOne({ name: 'Customer Community User' }).lean())!._id),
    });
    const page = await admin.get(`/admin/audit?targetId=${u._id}&action=user.upgraded`);
    expect(page.text).toContain(
      `<strong>admin@example.com</strong> upgraded <a href="/admin/users/${u._id}">Emmy Noether</a>: External Identity User → Customer Community User</p>`,
    );
    expect(page.text).toMatch(/<summary>Before and after \(2 fields\)<\/summary>/);
    expect(page.text).toContain(
      '<td data-label="Before">External Identity</td><td data-label="After">Customer Community</td>',
    );
    expect(page.text).not.toMatch(/<td data-label="Before">[0-9a-f]{24}<\/td>/);
    expect(page.text).toContain('<option value="user.upgraded" selected>User upgraded</option>');
    expect(page.text).toMatch(/<time datetime="[^"]+" title="[^"]+ UTC">just now<\/time>/);
    // The user page links here.
    expect((await admin.get(`/admin/users/${u._id}`)).text).toContain(
      `<a href="/admin/audit?targetId=${u._id}">Full history</a>`,
    );
    const empty = await admin.get(`/admin/audit?targetId=${u._id}&action=profile.deleted`);
    expect(empty.text).toContain('<p class="empty" id="audit-empty">No changes recorded that match these filters.</p>');
  });

  it('pages by 100 with an Older link that continues where the page ended', async () => {
    const count = (html: string) => (html.match(/<li class="card audit-event"/g) ?? []).length;
    const total = await AuditEventModel.countDocuments();
    if (total <= 100) {
      await AuditEventModel.insertMany(
        Array.from({ length: 101 - total + 5 }, (_, i) => ({
          action: 'site.updated',
          at: new Date(Date.UTC(2020, 0, 1, 0, i)),
          target: { type: 'Site', label: `Bulk ${i}` },
        })),
      );
    }
    const first = await admin.get('/admin/audit');
    expect(count(first.text)).toBe(100);
    const older = /<a href="([^"]+)" rel="next">Older<\/a>/.exec(first.text)![1].replace(/&amp;/g, '&');
    const second = await admin.get(older);
    expect(count(second.text)).toBeGreaterThan(0);
    expect(second.text).toContain('<a href="/admin/audit?">Newest 100</a>');
    const ids = (html: string) => [...html.matchAll(/<time datetime="([^"]+)"/g)].map((m) => m[1]);
    expect(ids(second.text)[0] <= ids(first.text)[99]).toBe(true);
    expect(count(first.text) + count(second.text)).toBe(Math.min(200, await AuditEventModel.countDocuments()));
  });
});

describe('the dashboard', () => {
  it('shows headline numbers with their change and links, seats as rows with warning levels, and each chart as a table', async () => {
    await LicenseModel.updateOne({ name: 'Partner Community' }, { $set: { totalSeats: 25, usedSeats: 24 } });
    const res = await admin.get('/admin');
    expect(res.text).toMatch(
      /<a class="card headline-number" href="\/admin\/users\?contactless=yes" id="headline-contactless"><h2>Contactless users<\/h2><p class="big">\d+<\/p><p class="change">(\+\d+|No change) this week <span class="muted">registered<\/span><\/p><\/a>/,
    );
    expect(res.text).toMatch(
      /<li class="seat-row seat-critical">\s*<span class="seat-name">Partner Community<\/span>\s*<span class="seat-figures">24 used, 1 left \(almost full\)<\/span>/,
    );
    expect(res.text).toMatch(
      /<span class="seat-name">External Identity<\/span>\s*<span class="seat-figures">\d+ used · Unlimited<\/span>/,
    );
    expect((res.text.match(/<summary>Show as table<\/summary>/g) ?? []).length).toBe(3);
    await LicenseModel.updateOne({ name: 'Partner Community' }, { $set: { usedSeats: 0 } });
  });

  it("each headline's number is the count its link lists: contactless users are external (internal staff have no contact either)", async () => {
    await registerGuest(t.app, { email: 'headline-count@example.com' });
    const dashboard = await admin.get('/admin');
    const headline = (id: string) =>
      Number(new RegExp(`id="headline-${id}"><h2>[^<]+</h2><p class="big">(\\d+)<`).exec(dashboard.text)?.[1]);
    const listed = async (query: string) => {
      const page = await admin.get(`/admin/users?${query}`);
      return Number(
        /id="result-count" role="status">(\d+|1) user/.exec(page.text)?.[1] ??
          (page.text.includes('No users match') ? 0 : NaN),
      );
    };
    expect(await UserModel.countDocuments({ userType: 'internal' })).toBeGreaterThan(0);
    expect(headline('contactless')).toBeGreaterThan(0);
    expect(await listed('contactless=yes')).toBe(headline('contactless'));
    expect(await listed('userType=internal')).toBe(headline('internal'));
  });
});
