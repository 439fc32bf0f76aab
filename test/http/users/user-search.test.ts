/**
 * The admin user search (/admin/users?q=...) and the API's (GET /api/v1/users?q=..., the same function):
 * prefixes of first name, last name, email, username and nickname, case- and accent-insensitive, every
 * word required, combined with the filters, in keyset pages without gaps or repeats, and following edits.
 */
import request from 'supertest';
import { Types, trusted } from 'mongoose';
import { startTestApp, type TestApp } from '../../helpers/app';
import { postForm } from '../../helpers/forms';
import { adminAgent, makeAdmin } from '../../helpers/admin';
import { AccountModel, ContactModel, LicenseModel, ProfileModel, UserModel } from '../../../src/data/models';
import { createUser } from '../../../src/users/users';
import { systemContext } from '../../../src/access/actor';
import { addSearchTerms } from '../../../src/data/migrations';
import { createUsersInBulk } from '../../../src/ingest/bulk-import';
import { loadActor } from '../../../src/access/actor';
import { adminToken } from '../api/tokens';

let t: TestApp;
let admin: request.Agent;
let token: string;
const ids: Record<string, string> = {};

const profileId = async (name: string) => (await ProfileModel.findOne({ name }).lean())!._id;

async function withContact(lastName: string): Promise<Types.ObjectId> {
  const account = await AccountModel.create({ name: `Account of ${lastName}` });
  return (
    await ContactModel.create({ account: account._id, lastName, email: `${lastName.toLowerCase()}@contact.example` })
  )._id;
}

beforeAll(async () => {
  t = await startTestApp('admin-user-search');
  await makeAdmin(); // Ada Admin, admin@example.com
  admin = await adminAgent(t.app);
  token = (await adminToken('search-api-admin@example.com')).token;
  const external = await profileId('External Identity User');
  const community = await profileId('Customer Community User');
  const make = async (key: string, input: Parameters<typeof createUser>[0]) => {
    ids[key] = String((await createUser(input, systemContext))._id);
  };
  await make('lovelace', {
    firstName: 'Ada',
    lastName: 'Lovelace',
    email: 'ada.lovelace@analytical.example',
    communityNickname: 'Enchantress',
    profileId: external,
  });
  await make('smith', { firstName: 'Adam', lastName: 'Smith', email: 'adam@wealth.example', profileId: external });
  await make('nunez', { firstName: 'Zoë', lastName: 'Ñúñez', email: 'zoe.nunez@example.com', profileId: external });
  await make('hopper', {
    firstName: 'Grace',
    lastName: 'Hopper',
    email: 'cobol.queen@navy.example',
    username: 'gh1906@navy.example',
    communityNickname: 'AmazingGrace',
    profileId: external,
  });
  await make('byron', {
    firstName: 'Ada',
    lastName: 'Byron',
    email: 'byron@poets.example',
    profileId: community,
    contactId: await withContact('Byron'),
  });
});
afterAll(() => t.stop());

/** The user ids listed on an admin users page, in order. */
const listed = (html: string) => [...html.matchAll(/href="\/admin\/users\/([0-9a-f]{24})"/g)].map((m) => m[1]);
const search = async (q: string, extra = '') =>
  listed((await admin.get(`/admin/users?q=${encodeURIComponent(q)}${extra}`)).text);
const named = (...keys: string[]) => keys.map((k) => ids[k]);

describe('admin user search', () => {
  it('requires every word of the query, in any order', async () => {
    expect(await search('Ada Love')).toEqual(named('lovelace'));
    expect(await search('love ada')).toEqual(named('lovelace'));
    expect(await search('ada byr')).toEqual(named('byron'));
    expect(await search('Ada Nobody')).toEqual([]);
    const ada = await search('ada');
    expect(ada).toEqual(expect.arrayContaining(named('lovelace', 'smith', 'byron')));
    expect(ada).not.toContain(ids.hopper);
  });

  it('ignores case and accents, in the query and in the names', async () => {
    expect(await search('ZOE NUNEZ')).toEqual(named('nunez'));
    expect(await search('zoë ñúñ')).toEqual(named('nunez'));
    expect(await search('Nunez')).toEqual(named('nunez'));
  });

  it('matches prefixes of the first name, last name, email, username and nickname', async () => {
    expect(await search('Grac')).toEqual(named('hopper')); // first name
    expect(await search('hopp')).toEqual(named('hopper')); // last name
    expect(await search('cobol.queen@navy')).toEqual(named('hopper')); // email
    expect(await search('queen')).toEqual(named('hopper')); // a piece of the email's local part
    expect(await search('gh19')).toEqual(named('hopper')); // username
    expect(await search('amazingg')).toEqual(named('hopper')); // nickname
    expect(await search('enchant')).toEqual(named('lovelace'));
  });

  it('does not match inside a word (no substring search)', async () => {
    expect(await search('opper')).toEqual([]);
    expect(await search('mazing')).toEqual([]);
  });

  it('searches regular-expression characters literally', async () => {
    const res = await admin.get(`/admin/users?q=${encodeURIComponent('[( .* ada')}`);
    expect(res.status).toBe(200);
    expect(listed(res.text)).toEqual([]);
  });

  it('combines the words with the filters', async () => {
    const external = String((await LicenseModel.findOne({ name: 'External Identity' }).lean())!._id);
    const contactless = await search('ada', `&contactless=yes&licenseId=${external}`);
    expect(contactless).toEqual(expect.arrayContaining(named('lovelace', 'smith')));
    expect(contactless).not.toContain(ids.byron);
    expect(await search('ada', '&contactless=no')).toEqual(named('byron'));
    expect(await search('ada love', '&contactless=no')).toEqual([]);
    expect(await search('ada', `&active=no`)).toEqual([]);
  });

  it('finds a user by a new name after an edit, and no longer by the old one', async () => {
    const page = `/admin/users/${ids.smith}`;
    const res = await postForm(admin, page, `${page}/edit`, {
      firstName: 'Adam',
      lastName: 'Ferguson',
      email: 'adam.ferguson@wealth.example',
      communityNickname: 'Scot',
      alias: 'aferg',
    });
    expect(res.status).toBe(303);
    expect(await search('ferg')).toEqual(named('smith'));
    expect(await search('adam.ferguson@')).toEqual(named('smith'));
    expect(await search('scot')).toEqual(named('smith'));
    expect(await search('smith')).toEqual([]);
  });

  it('pages newest first by keyset with no gap and no repeat, ties on the creation time included', async () => {
    const external = await profileId('External Identity User');
    for (let i = 0; i < 120; i++)
      await createUser(
        { firstName: 'Pagé', lastName: `Keyset${i}`, email: `keyset${i}@example.com`, profileId: external },
        systemContext,
      );
    // Thirty users created in the same millisecond: the _id orders them.
    const tied = (
      await UserModel.find({ lastName: /^Keyset(4\d|5\d|6\d)$/ })
        .select('_id')
        .lean()
    ).map((u) => u._id);
    await UserModel.updateMany(
      { _id: trusted({ $in: tied }) },
      { $set: { createdAt: new Date('2026-06-01T00:00:00Z') } },
    );
    const expected = (
      await UserModel.find({ lastName: /^Keyset/ })
        .sort({ createdAt: -1, _id: -1 })
        .select('_id')
        .lean()
    ).map((u) => String(u._id));

    const seen: string[] = [];
    let next: string | null = `/admin/users?q=${encodeURIComponent('page keyset')}`;
    let pages = 0;
    while (next) {
      const res = await admin.get(next);
      seen.push(...listed(res.text));
      next = /href="([^"]+)" rel="next"/.exec(res.text)?.[1].replace(/&amp;/g, '&') ?? null;
      pages++;
    }
    expect(pages).toBe(3);
    expect(seen).toEqual(expected);
  });

  it('finds users created in bulk (insertMany computes their terms)', async () => {
    const actor = (await loadActor((await UserModel.findOne({ username: 'admin@example.com' }).lean())!._id))!;
    const userId = new Types.ObjectId();
    const [result] = await createUsersInBulk(
      [
        {
          userId,
          input: {
            firstName: 'Hédy',
            lastName: 'Lamarr',
            email: 'hedy@spread.example',
            profileId: String(await profileId('External Identity User')),
          },
        },
      ],
      { actor, via: 'bulk' },
    );
    expect(result).toMatchObject({ ok: true });
    expect(await search('hedy lam')).toEqual([String(userId)]);
  });

  it('gives users made before the search terms existed their terms through the migration', async () => {
    const external = await profileId('External Identity User');
    const license = (await LicenseModel.findOne({ name: 'External Identity' }).lean())!._id;
    const _id = new Types.ObjectId();
    await UserModel.collection.insertOne({
      _id,
      firstName: 'Émilie',
      lastName: 'du Châtelet',
      email: 'emilie@physics.example',
      username: 'emilie@physics.example',
      alias: 'edu',
      communityNickname: 'Emilie',
      profile: external,
      license,
      userType: 'customer',
      contact: null,
      isActive: true,
      createdAt: new Date(),
      updatedAt: new Date(),
    });
    expect(await search('emilie chat')).toEqual([]);
    expect(await addSearchTerms()).toBe(1);
    expect(await search('emilie chat')).toEqual([String(_id)]);
    expect(await addSearchTerms()).toBe(0); // idempotent: nothing left to do
  });
});

describe('API user search (the same function)', () => {
  it('matches prefixes, every word required, accents ignored', async () => {
    const res = await request(t.app)
      .get(`/api/v1/users?q=${encodeURIComponent('Zoé Núñ')}`)
      .set('Authorization', `Bearer ${token}`);
    expect(res.status).toBe(200);
    expect(res.body.records.map((r: { id: string }) => r.id)).toEqual(named('nunez'));
    expect(res.body.records[0]).not.toHaveProperty('searchTerms');
    const both = await request(t.app)
      .get(`/api/v1/users?q=${encodeURIComponent('ada lovelace@')}`)
      .set('Authorization', `Bearer ${token}`);
    expect(both.body.records.map((r: { id: string }) => r.id)).toEqual([]);
    const email = await request(t.app)
      .get(`/api/v1/users?q=${encodeURIComponent('ada.lovelace@anal')}`)
      .set('Authorization', `Bearer ${token}`);
    expect(email.body.records.map((r: { id: string }) => r.id)).toEqual(named('lovelace'));
  });
});
