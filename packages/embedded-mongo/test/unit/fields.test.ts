/**
 * The helpers that keep field names away from prototypes (issue 21), and the decoding of incoming
 * commands: bson makes a `__proto__` key an own field, never the prototype of the decoded object.
 */
import { serialize } from 'bson';
import { decode } from '../../src/wire';
import { aliasDocument, aliasFilter, aliasPipeline, getField, setField, unaliasDocuments } from '../../src/fields';

const shape = () => Object.getOwnPropertyNames(Object.prototype).sort().join();
const pristine = shape();
afterEach(() => expect(shape()).toBe(pristine));

it('decodes a command holding __proto__ and constructor keys into own fields, prototype unchanged', () => {
  const cmd = decode(
    serialize(
      JSON.parse(
        '{"update":"c","updates":[{"q":{"__proto__.x":1},"u":{"$set":{"__proto__":{"polluted":1},"constructor":{"prototype":{"y":1}}}}}]}',
      ),
    ),
  );
  const set = cmd.updates[0].u.$set;
  expect(Object.getPrototypeOf(set)).toBe(Object.prototype);
  expect(Object.keys(set)).toEqual(['__proto__', 'constructor']);
  expect(Object.getOwnPropertyDescriptor(set, '__proto__')?.value).toEqual({ polluted: 1 });
  expect(({} as Record<string, unknown>).polluted).toBeUndefined();
});

it('getField reads own fields only; setField writes __proto__ as data', () => {
  const doc: Record<string, unknown> = {};
  expect(getField(doc, 'constructor')).toBeUndefined();
  expect(getField(doc, '__proto__')).toBeUndefined();
  setField(doc, '__proto__', { polluted: 1 });
  expect(Object.getPrototypeOf(doc)).toBe(Object.prototype);
  expect(Object.keys(doc)).toEqual(['__proto__']);
  expect(getField(doc, '__proto__')).toEqual({ polluted: 1 });
});

it('aliases reserved names for mingo and brings them back unchanged, keeping the same object when none occurs', () => {
  const plain = { _id: 1, a: { b: 2 } };
  expect(aliasDocument(plain)).toBe(plain);
  const doc = JSON.parse('{"_id":1,"__proto__":{"toString":2},"x":[{"constructor":3}]}');
  const aliased = aliasDocument(doc);
  expect(Object.keys(aliased)).toEqual(['_id', '\u0000__proto__', 'x']);
  expect(JSON.stringify(unaliasDocuments([aliased])[0])).toBe(JSON.stringify(doc));
  expect(
    Object.keys(aliasFilter(JSON.parse('{"__proto__.toString":{"$gt":1},"$expr":{"$eq":["$constructor.a",1]}}'))),
  ).toEqual(['\u0000__proto__.\u0000toString', '$expr']);
  expect(aliasPipeline([{ $project: { v: '$constructor.a', r: '$$ROOT' } }])).toEqual([
    { $project: { v: '$\u0000constructor.a', r: '$$ROOT' } },
  ]);
});
