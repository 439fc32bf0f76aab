/** The permission rules of src/access/permissions.ts, every combination, without a database. */
import { Types } from 'mongoose';
import type { Actor } from '../../../src/access/actor';
import { noPermissions } from '../../../src/access/actor';
import { ForbiddenError } from '../../../src/shared/errors';
import {
  assertCanLoginAs,
  assertCanManage,
  manageableUserTypes,
  type UserOperation,
} from '../../../src/access/permissions';
import type { Permission, UserType } from '../../../src/data/models';

const actor = (perms: Permission[], delegatedAccountIds: Types.ObjectId[] = []): Actor => ({
  id: new Types.ObjectId(),
  username: 'staff@example.com',
  userType: 'internal',
  permissions: { ...noPermissions(), ...Object.fromEntries(perms.map((p) => [p, true])) },
  delegatedAccountIds,
});
const contact = new Types.ObjectId();
const account = new Types.ObjectId();
const target = (userType: UserType, withContact: boolean, contactAccount: Types.ObjectId | null = account) => ({
  userType,
  contact: withContact ? contact : null,
  contactAccount: withContact ? contactAccount : null,
});

function refusal(fn: () => void): ForbiddenError | null {
  try {
    fn();
    return null;
  } catch (err) {
    if (err instanceof ForbiddenError) return err;
    throw err;
  }
}

describe('managing users (Salesforce rules)', () => {
  const cases: [string, Permission[], UserType, boolean, boolean][] = [
    ['internal users need Manage Internal Users', ['manageInternalUsers'], 'internal', false, true],
    ['internal users: nothing else suffices', ['manageCustomerUsers', 'manageExternalUsers'], 'internal', false, false],
    [
      'contactless customer: Manage Internal Users alone is not enough',
      ['manageInternalUsers'],
      'customer',
      false,
      false,
    ],
    [
      'contactless customer: Manage Customer Users alone is not enough',
      ['manageCustomerUsers'],
      'customer',
      false,
      false,
    ],
    ['contactless customer: both', ['manageInternalUsers', 'manageCustomerUsers'], 'customer', false, true],
    [
      'contactless customer: Manage External Users does not count',
      ['manageInternalUsers', 'manageExternalUsers'],
      'customer',
      false,
      false,
    ],
    [
      'contactless partner: Manage Internal + External Users',
      ['manageInternalUsers', 'manageExternalUsers'],
      'partner',
      false,
      true,
    ],
    [
      'contactless partner: Manage Customer Users does not count',
      ['manageInternalUsers', 'manageCustomerUsers'],
      'partner',
      false,
      false,
    ],
    ['contactless partner: External alone is not enough', ['manageExternalUsers'], 'partner', false, false],
    ['customer with contact: same split', ['manageInternalUsers', 'manageCustomerUsers'], 'customer', true, true],
    ['customer with contact: internal alone refused', ['manageInternalUsers'], 'customer', true, false],
    ['partner with contact: same split', ['manageInternalUsers', 'manageExternalUsers'], 'partner', true, true],
    [
      'partner with contact: customer permission refused',
      ['manageInternalUsers', 'manageCustomerUsers'],
      'partner',
      true,
      false,
    ],
  ];
  it.each(cases)('%s', (_name, perms, userType, withContact, allowed) => {
    for (const op of [
      'view',
      'edit',
      'create',
      'qualify',
      'changeLicense',
      'setActive',
      'resetPassword',
    ] as UserOperation[]) {
      const err = refusal(() => assertCanManage(actor(perms), target(userType, withContact), op));
      expect(err === null).toBe(allowed);
    }
  });

  it('names the missing permission in the refusal', () => {
    const err = refusal(() => assertCanManage(actor(['manageInternalUsers']), target('customer', false), 'create'))!;
    expect(err.permission).toBe('manageCustomerUsers');
    expect(err.message).toMatch(/Manage Internal Users and Manage Customer Users/);
    expect(err.message).toMatch(/missing Manage Customer Users/);
  });

  it('lists the user types an actor manages', () => {
    expect(manageableUserTypes(actor(['manageInternalUsers', 'manageCustomerUsers']))).toEqual([
      'internal',
      'customer',
    ]);
    expect(manageableUserTypes(actor(['manageCustomerUsers', 'manageExternalUsers']))).toEqual([]);
  });
});

describe('delegated administration', () => {
  const delegate = actor([], [account]);
  it('may edit, reset passwords and (de)activate external users whose contact is in an assigned account', () => {
    for (const op of ['view', 'edit', 'resetPassword', 'setActive'] as UserOperation[]) {
      expect(refusal(() => assertCanManage(delegate, target('customer', true), op))).toBeNull();
      expect(refusal(() => assertCanManage(delegate, target('partner', true), op))).toBeNull();
    }
  });

  it('may not create, qualify or change licenses', () => {
    for (const op of ['create', 'qualify', 'changeLicense'] as UserOperation[]) {
      expect(refusal(() => assertCanManage(delegate, target('customer', true), op))).not.toBeNull();
    }
  });

  it("can't manage contactless users, and says why", () => {
    const err = refusal(() => assertCanManage(delegate, target('customer', false), 'edit'))!;
    expect(err.message).toMatch(/can't manage contactless users/);
  });

  it('is refused outside the assigned accounts and for internal users', () => {
    expect(
      refusal(() => assertCanManage(delegate, target('customer', true, new Types.ObjectId()), 'edit'))!.message,
    ).toMatch(/isn't assigned/);
    expect(refusal(() => assertCanManage(delegate, target('internal', false), 'view'))).not.toBeNull();
  });
});

describe('Login As', () => {
  const full = actor(['manageInternalUsers', 'manageCustomerUsers', 'manageExternalUsers', 'loginAs']);
  it('is allowed for an active user with a contact', () => {
    expect(refusal(() => assertCanLoginAs(full, { ...target('customer', true), isActive: true }))).toBeNull();
  });
  it('requires a contact', () => {
    expect(refusal(() => assertCanLoginAs(full, { ...target('customer', false), isActive: true }))!.message).toMatch(
      /Login As requires a contact/,
    );
  });
  it('requires the Login As permission and the management permissions', () => {
    expect(
      refusal(() =>
        assertCanLoginAs(actor(['manageInternalUsers', 'manageCustomerUsers']), {
          ...target('customer', true),
          isActive: true,
        }),
      )!.permission,
    ).toBe('loginAs');
    expect(
      refusal(() =>
        assertCanLoginAs(actor(['loginAs', 'manageInternalUsers']), { ...target('customer', true), isActive: true }),
      ),
    ).not.toBeNull();
  });
  it('is refused for inactive and internal users', () => {
    expect(refusal(() => assertCanLoginAs(full, { ...target('customer', true), isActive: false }))).not.toBeNull();
    expect(refusal(() => assertCanLoginAs(full, { ...target('internal', false), isActive: true }))).not.toBeNull();
  });
});
