import { Types } from 'mongoose';
import { NotFoundError, ValidationError } from '../../../src/shared/errors';
import {
  isObjectIdString,
  OBJECT_ID_PATTERN,
  OBJECT_ID_SOURCE,
  parseIdField,
  parseIdOr404,
  toObjectId,
} from '../../../src/shared/ids';

const hex = '64b7f0c2a1b2c3d4e5f60718';

describe('the one id parser (src/shared/ids.ts)', () => {
  test('accepts 24 hexadecimal digits in either case and nothing else', () => {
    expect(isObjectIdString(hex)).toBe(true);
    expect(isObjectIdString(hex.toUpperCase())).toBe(true);
    for (const bad of [
      'abcdefghijkl',
      `${hex}0`,
      hex.slice(1),
      `${hex.slice(1)}g`,
      ` ${hex}`,
      '',
      null,
      undefined,
      42,
      { $ne: null },
      [hex],
    ]) {
      expect(isObjectIdString(bad)).toBe(false);
      expect(toObjectId(bad)).toBeNull();
    }
  });

  test('toObjectId turns a hex string into an ObjectId and passes an ObjectId through', () => {
    expect(toObjectId(hex)!.toHexString()).toBe(hex);
    const oid = new Types.ObjectId();
    expect(toObjectId(oid)).toBe(oid);
  });

  test("parseIdOr404 throws the not-found error with the caller's message", () => {
    expect(parseIdOr404(hex, 'No user has this id.').toHexString()).toBe(hex);
    expect(() => parseIdOr404('nope', 'No user has this id.')).toThrow(new NotFoundError('No user has this id.'));
  });

  test('parseIdField throws a validation error naming the field', () => {
    expect(parseIdField(hex, 'profileId').toHexString()).toBe(hex);
    try {
      parseIdField('x', 'profileId');
      throw new Error('expected a ValidationError');
    } catch (err) {
      expect(err).toBeInstanceOf(ValidationError);
      expect((err as ValidationError).message).toBe('Some fields need attention.');
      expect((err as ValidationError).fields).toEqual({ profileId: 'Use a valid id.' });
    }
    expect(() => parseIdField('x', 'siteId', 'Choose a site.', 'Some filters need attention.')).toThrow(
      'Some filters need attention.',
    );
  });

  test('the OpenAPI pattern text and the regular expression are the same rule', () => {
    expect(OBJECT_ID_PATTERN.source).toBe(OBJECT_ID_SOURCE);
  });
});
