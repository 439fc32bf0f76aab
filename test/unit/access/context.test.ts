import { Types } from 'mongoose';
import { accessOf, checkActor } from '../../../src/access';
import { noPermissions, systemContext, type Actor, type RequestContext } from '../../../src/access/actor';

const actor: Actor = {
  id: new Types.ObjectId(),
  username: 'staff@example.com',
  userType: 'internal',
  permissions: noPermissions(),
  delegatedAccountIds: [],
};

describe('the request context, as the access rules see it (src/access/context.ts)', () => {
  test.each<[RequestContext, string]>([
    [{ actor, via: 'admin' }, 'staff'],
    [{ actor, via: 'site' }, 'staff'],
    [{ actor, via: 'bulk' }, 'staff'],
    [{ actor, via: 'api' }, 'token'],
    [{ actor, via: 'scim' }, 'token'],
    [{ actor: null, via: 'site' }, 'guest'],
    [systemContext, 'system'],
  ])('%o is %s', (ctx, kind) => {
    expect(accessOf(ctx).kind).toBe(kind);
  });

  test('checkActor runs the check for staff and tokens, with their actor', () => {
    const seen: string[] = [];
    checkActor({ actor, via: 'admin' }, (a) => seen.push(`admin:${a.username}`));
    checkActor({ actor, via: 'api' }, (a) => seen.push(`api:${a.username}`));
    expect(seen).toEqual(['admin:staff@example.com', 'api:staff@example.com']);
  });

  test('checkActor is the explicit no-checks branch for a guest and the system only', () => {
    const refuse = () => {
      throw new Error('checked');
    };
    expect(() => checkActor({ actor: null, via: 'site' }, refuse)).not.toThrow();
    expect(() => checkActor(systemContext, refuse)).not.toThrow();
    expect(() => checkActor({ actor, via: 'site' }, refuse)).toThrow('checked');
  });
});
