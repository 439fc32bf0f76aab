/** Admins for tests: a System Administrator, or staff with exactly the permissions a test names. */
import request from 'supertest';
import type express from 'express';
import { LicenseModel, ProfileModel, type Permission } from '../../src/data/models';
import { createAdministrator } from '../../src/users/bootstrap';
import { createUser } from '../../src/users/users';
import { systemContext } from '../../src/access/actor';
import { postForm } from './forms';

export const ADMIN_PASSWORD = 'lantern-copper-wisdom-77';

export async function makeAdmin(username = 'admin@example.com') {
  return createAdministrator({ username, password: ADMIN_PASSWORD, firstName: 'Ada', lastName: 'Admin' });
}

/** An internal user whose profile grants exactly `permissions`. */
export async function makeStaff(username: string, permissions: Permission[]) {
  const internal = await LicenseModel.findOne({ userType: 'internal' }).lean();
  const name = `Staff ${permissions.sort().join('+') || 'none'}`;
  const profile = await ProfileModel.findOneAndUpdate(
    { name },
    {
      $setOnInsert: {
        name,
        license: internal!._id,
        userType: 'internal',
        permissions: Object.fromEntries(permissions.map((p) => [p, true])),
      },
    },
    { upsert: true, returnDocument: 'after' },
  );
  return createUser(
    { username, email: username, lastName: 'Staff', profileId: profile!._id, password: ADMIN_PASSWORD },
    systemContext,
  );
}

export async function adminAgent(app: express.Express, username = 'admin@example.com') {
  const agent = request.agent(app);
  const res = await postForm(agent, '/admin/login', '/admin/login', { username, password: ADMIN_PASSWORD });
  if (res.status !== 303) throw new Error(`admin login answered ${res.status}`);
  return agent;
}
