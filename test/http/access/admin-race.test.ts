/**
 * "Never without an administrator" holds under concurrency (issue 20, item 3): two administrators who
 * demote or deactivate each other at the same moment, one through the API and one in the admin area,
 * never both succeed; at least one administrator is left in the database, and the refused one says why.
 */
import request from 'supertest';
import { trusted, type Types } from 'mongoose';
import { startTestApp, type TestApp } from '../../helpers/app';
import { adminAgent, makeStaff } from '../../helpers/admin';
import { csrfFrom } from '../../helpers/forms';
import { staffToken } from '../api/tokens';
import { PERMISSIONS, ProfileModel, UserModel } from '../../../src/data/models';
import { keyAdministrators } from '../../../src/access/lockout';

let t: TestApp;
let rootToken: string;
let rootId: Types.ObjectId;
let key2Id: Types.ObjectId;
let agent: request.Agent;
let standardId: string;
const profiles = new Map<string, Types.ObjectId>();

beforeAll(async () => {
  t = await startTestApp('admin-race');
  ({ token: rootToken, userId: rootId } = await staffToken('root@example.com', [...PERMISSIONS]));
  key2Id = (await makeStaff('key2@example.com', [...PERMISSIONS]))._id;
  agent = await adminAgent(t.app, 'key2@example.com');
  standardId = String((await ProfileModel.findOne({ name: 'Standard User' }).lean())!._id);
  for (const id of [rootId, key2Id]) profiles.set(String(id), (await UserModel.findById(id).lean())!.profile);
});
afterAll(() => t.stop());

/** Both back to administrators, active, before each round (straight in the database: the setup, not the test). */
async function restore() {
  for (const id of [rootId, key2Id])
    await UserModel.updateOne({ _id: id }, { $set: { isActive: true, profile: profiles.get(String(id)) } });
  expect(await keyAdministrators()).toBe(2);
  // A deactivation ends key2's sessions: sign in again.
  agent = await adminAgent(t.app, 'key2@example.com');
}

/** The token is read before the race, so both requests start together. */
async function uiPost(path: string, fields: Record<string, string>) {
  const csrf = csrfFrom((await agent.get('/admin')).text);
  return () =>
    agent
      .post(path)
      .type('form')
      .send({ _csrf: csrf, ...fields });
}
const apiPost = (path: string, body: object) =>
  request(t.app).post(`/api/v1${path}`).set('Authorization', `Bearer ${rootToken}`).send(body);

const ROUNDS = 6;

/**
 * One of the two is refused: by the lock-out rule (409, saying why) when both got past their checks at
 * once, or for lack of rights (403) when the other's change came first and took them away.
 */
function expectOneRefused(api: request.Response, ui: request.Response) {
  const lockedOut = [
    api.status === 409 && api.body.error.code === 'lockout',
    ui.status === 409 && ui.text.includes('would leave the portal without an active user'),
  ];
  const outranked = [
    api.status === 403,
    ui.status === 403 || ([302, 303].includes(ui.status) && String(ui.headers.location).includes('/admin/login')),
  ];
  expect([api.status, ui.status, lockedOut.some(Boolean) || outranked.some(Boolean)]).toEqual([
    api.status,
    ui.status,
    true,
  ]);
}

it('root demotes key2 (API) while key2 demotes root (admin area): never both; an administrator is left', async () => {
  for (let round = 0; round < ROUNDS; round++) {
    await restore();
    const ui0 = await uiPost(`/admin/users/${rootId}/profile`, { profileId: standardId });
    const [api, ui] = await Promise.all([apiPost(`/users/${key2Id}/profile`, { profileId: standardId }), ui0()]);
    expect(await keyAdministrators()).toBeGreaterThanOrEqual(1);
    expectOneRefused(api, ui);
  }
});

it('root deactivates key2 (API) while key2 deactivates root (admin area): never both; an administrator is left', async () => {
  for (let round = 0; round < ROUNDS; round++) {
    await restore();
    const ui0 = await uiPost(`/admin/users/${rootId}/deactivate`, {});
    const [api, ui] = await Promise.all([apiPost(`/users/${key2Id}/deactivate`, {}), ui0()]);
    expect(await keyAdministrators()).toBeGreaterThanOrEqual(1);
    expect(
      await UserModel.countDocuments({ _id: trusted({ $in: [rootId, key2Id] }), isActive: true }),
    ).toBeGreaterThanOrEqual(1);
    expectOneRefused(api, ui);
  }
});
