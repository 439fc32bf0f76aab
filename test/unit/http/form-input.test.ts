import { ValidationError } from '../../../src/shared/errors';
import { formList, formOptional, formRequired, formText, readForm } from '../../../src/http/form-input';

function refusal(fn: () => unknown): ValidationError {
  try {
    fn();
  } catch (err) {
    if (err instanceof ValidationError) return err;
    throw err;
  }
  throw new Error('expected a ValidationError');
}

describe('the one form reader (src/http/form-input.ts)', () => {
  test('reads declared text fields, absent as empty, and ignores undeclared ones', () => {
    const out = readForm(
      { name: 'Ada', _csrf: 't', extra: ['x'] },
      { name: formText(), note: formText(), nick: formOptional() },
    );
    expect(out).toEqual({ name: 'Ada', note: '', nick: undefined });
  });

  test('a repeated field (an array) or a nested one (an object) is refused naming the field', () => {
    const err = refusal(() =>
      readForm({ firstName: ['a', 'b'], lastName: { $ne: null } }, { firstName: formText(), lastName: formText() }),
    );
    expect(err.message).toBe('Some fields need attention.');
    expect(err.fields).toEqual({
      firstName: 'Send this field once, as text.',
      lastName: 'Send this field once, as text.',
    });
  });

  test('required and length rules say what to do', () => {
    const err = refusal(() =>
      readForm({ email: '', name: 'x'.repeat(11) }, { email: formRequired(), name: formRequired(10) }),
    );
    expect(err.fields).toEqual({ email: 'This field is required.', name: 'Use at most 10 characters.' });
  });

  test('a list field takes one value, several, or none, and refuses an object', () => {
    expect(readForm({ p: 'a' }, { p: formList() }).p).toEqual(['a']);
    expect(readForm({ p: ['a', 'b'] }, { p: formList() }).p).toEqual(['a', 'b']);
    expect(readForm({}, { p: formList() }).p).toEqual([]);
    expect(refusal(() => readForm({ p: { a: '1' } }, { p: formList() })).fields).toEqual({
      p: 'Send each choice as text.',
    });
    expect(refusal(() => readForm({ p: ['a', { b: 1 }] }, { p: formList() })).fields).toEqual({
      p: 'Send each choice as text.',
    });
  });

  test('inherited properties are not fields', () => {
    expect(readForm(Object.create({ name: 'inherited' }), { name: formText() })).toEqual({ name: '' });
  });
});
