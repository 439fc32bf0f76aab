/** Tokens minted the way admins mint them (createApiToken), for a System Administrator or limited staff. */
import { Types } from 'mongoose';
import { LicenseModel, ProfileModel, type Permission } from '../../../src/data/models';
import { createAdministrator } from '../../../src/users/bootstrap';
import { loadActor } from '../../../src/access/actor';
import { createApiToken } from '../../../src/api/api-tokens';
import { createUser } from '../../../src/users/users';
import { systemContext } from '../../../src/access/actor';

const PASSWORD = 'lantern-copper-wisdom-77';

async function mintFor(userId: Types.ObjectId): Promise<string> {
  const actor = (await loadActor(userId))!;
  // Minting needs Manage API Tokens; limited staff get theirs minted as if they held it that moment.
  const minter = { ...actor, permissions: { ...actor.permissions, manageApiTokens: true } };
  const { token } = await createApiToken('test token', { actor: minter, via: 'admin' });
  return token;
}

export async function adminToken(
  username = 'api-admin@example.com',
): Promise<{ token: string; userId: Types.ObjectId }> {
  const admin = (await createAdministrator({ username, password: PASSWORD, firstName: 'Ada', lastName: 'Admin' }))!;
  return { token: await mintFor(admin._id), userId: admin._id };
}

/** An internal user whose profile grants exactly `permissions` (a profile created through ProfileModel). */
export async function staffToken(
  username: string,
  permissions: Permission[],
): Promise<{ token: string; userId: Types.ObjectId }> {
  const internal = await LicenseModel.findOne({ userType: 'internal' }).lean();
  const name = `API staff ${[...permissions].sort().join('+') || 'none'}`;
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
  const user = await createUser(
    { username, email: username, lastName: 'Staff', profileId: profile!._id, password: PASSWORD },
    systemContext,
  );
  return { token: await mintFor(user._id), userId: user._id };
}
